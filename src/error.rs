//! Error enums, by domain. Messages are lowercase fragments that name the
//! file, the secret and the provider; never a secret value. Where the fix is
//! known, [`Error::hint`] gives it.

use std::{io, path::PathBuf};

use crate::providers::ProviderError;

/// A place in a config file, shown as `path:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line number (0 when unknown).
    pub line: usize,
}

static DISPLAY_BASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes messages show config paths relative to `dir` (the working
/// directory) where they are inside it.
pub fn set_display_base(dir: PathBuf) {
    let _ = DISPLAY_BASE.set(dir);
}

/// `path` as messages show it.
pub fn shown(path: &std::path::Path) -> std::path::Display<'_> {
    match DISPLAY_BASE.get().and_then(|base| path.strip_prefix(base).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display(),
        _ => path.display(),
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", shown(&self.file))
        } else {
            write!(f, "{}:{}", shown(&self.file), self.line)
        }
    }
}

/// Errors in finding, parsing or validating config files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}", shown(path))]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML.
    #[error("{at}: invalid TOML: {message}")]
    Syntax {
        /// Where the parser stopped.
        at: Location,
        /// The parser's message.
        message: String,
    },
    /// A key that the schema does not have.
    #[error("{at}: unknown key `{key}` in {entry}")]
    UnknownKey {
        /// Where the key is.
        at: Location,
        /// The key.
        key: String,
        /// The entry it is in (`secret `X``, `provider `p``, `the top level`).
        entry: String,
        /// The keys that are allowed there.
        allowed: &'static [&'static str],
    },
    /// A key whose value has the wrong type or form.
    #[error("{at}: in {entry}: `{key}` must be {expected}")]
    Invalid {
        /// Where the key is.
        at: Location,
        /// The entry it is in.
        entry: String,
        /// The key.
        key: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A required key is absent.
    #[error("{at}: {entry} needs `{key}`")]
    Missing {
        /// Where the entry is.
        at: Location,
        /// The entry.
        entry: String,
        /// The required key.
        key: &'static str,
    },
    /// A secret name that is not an environment-variable name.
    #[error("{at}: `{name}` is not a valid secret name")]
    BadName {
        /// Where the name is.
        at: Location,
        /// The name.
        name: String,
    },
    /// A provider of an unknown `type`.
    #[error("{at}: provider `{provider}` has unknown type `{kind}`")]
    UnknownProviderType {
        /// Where the provider is.
        at: Location,
        /// The provider's name.
        provider: String,
        /// The type it gave.
        kind: String,
    },
    /// A secret or `default_provider` names a provider nobody defined.
    #[error("{at}: {entry} uses provider `{provider}`, which is not defined")]
    UndefinedProvider {
        /// Where the reference is.
        at: Location,
        /// The referring entry.
        entry: String,
        /// The missing provider.
        provider: String,
        /// The providers that exist.
        defined: Vec<String>,
    },
    /// An `import` that cannot be loaded.
    #[error("{at}: import `{import}` cannot be loaded")]
    Import {
        /// Where the import is.
        at: Location,
        /// The path as written.
        import: String,
        /// Why.
        #[source]
        source: Box<ConfigError>,
    },
    /// An `import` cycle.
    #[error("{at}: import `{import}` forms a cycle")]
    ImportCycle {
        /// Where the import is.
        at: Location,
        /// The path as written.
        import: String,
    },
    /// No config file anywhere.
    #[error("no fnox.toml in {} or any parent directory", cwd.display())]
    NotFound {
        /// Where the search started.
        cwd: PathBuf,
    },
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config problem.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Decrypting a stored value failed.
    #[error("cannot decrypt secret `{name}` (provider `{provider}`, {at})")]
    Decrypt {
        /// The secret.
        name: String,
        /// Its provider.
        provider: String,
        /// Where it is defined.
        at: Location,
        /// Why.
        #[source]
        source: ProviderError,
    },
    /// Encrypting a value failed.
    #[error("cannot encrypt secret `{name}` with provider `{provider}` (for {})", shown(file))]
    Encrypt {
        /// The secret.
        name: String,
        /// The provider.
        provider: String,
        /// The file the value was going to.
        file: PathBuf,
        /// Why.
        #[source]
        source: ProviderError,
    },
    /// A provider could not be set up (key material, recipients).
    #[error("cannot use provider `{provider}` ({at})")]
    Provider {
        /// The provider.
        provider: String,
        /// Where it is defined.
        at: Location,
        /// Why.
        #[source]
        source: ProviderError,
    },
    /// The secret is not in the active profile.
    #[error("secret `{name}` is not defined in profile `{profile}`")]
    UnknownSecret {
        /// The secret.
        name: String,
        /// The active profile.
        profile: String,
    },
    /// The secret has neither a value nor a default.
    #[error("secret `{name}` has no value ({at})")]
    NoValue {
        /// The secret.
        name: String,
        /// Where it is defined.
        at: Location,
    },
    /// A `--provider` that is not defined.
    #[error("provider `{name}` is not defined")]
    UnknownProvider {
        /// The name given.
        name: String,
        /// The providers that exist.
        defined: Vec<String>,
    },
    /// No provider was named and none is the default.
    #[error("no provider given for secret `{name}` and no default provider")]
    NoDefaultProvider {
        /// The secret.
        name: String,
        /// The providers that exist.
        defined: Vec<String>,
    },
    /// A bad command-line value or flag combination (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// A failure explained by its message alone (exit status 1).
    #[error("{0}")]
    Failed(String),
    /// An I/O failure outside config loading.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Not a failure: exit with this status (`exec --redact` passing on the
    /// command's status).
    #[error("exit status {0}")]
    Exit(i32),
    /// `exec` could not start the command.
    #[error("cannot run `{program}`")]
    Spawn {
        /// The command.
        program: String,
        /// The exit status to use (126 or 127, or 1).
        status: i32,
        /// Extra explanation (e.g. which secret is too large).
        detail: Option<String>,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }

    /// One line that tells the user how to fix it, where that is known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Decrypt { name, source, .. } => source.hint(Some(name)),
            Error::Encrypt { source, .. } | Error::Provider { source, .. } => source.hint(None),
            Error::UnknownSecret { name, .. } => {
                Some(format!("run `fnox list` to see the secrets, or `fnox set {name}` to add it"))
            }
            Error::NoValue { name, .. } => Some(format!("set it with `fnox set {name}`")),
            Error::UnknownProvider { defined, .. } => Some(defined_hint(defined)),
            Error::NoDefaultProvider { defined, .. } => Some(format!(
                "pass `--provider NAME` or set `default_provider` in fnox.toml; {}",
                defined_hint(defined)
            )),
            Error::Spawn { detail, .. } => detail.clone(),
            Error::Usage(_) | Error::Failed(_) | Error::Io { .. } | Error::Exit(_) => None,
        }
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spawn { status, .. } | Error::Exit(status) => *status,
            Error::Usage(_) => crate::exit_codes::USAGE,
            _ => crate::exit_codes::FAILURE,
        }
    }
}

impl ConfigError {
    /// How to fix it, where known.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::UnknownKey { allowed, .. } => Some(format!(
                "allowed keys here: {}",
                allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            )),
            ConfigError::UndefinedProvider { defined, .. } => Some(defined_hint(defined)),
            ConfigError::UnknownProviderType { .. } => {
                Some(format!("known types: {}", crate::providers::KNOWN_TYPES.join(", ")))
            }
            ConfigError::BadName { .. } => {
                Some("secret names are environment-variable names: [A-Za-z_][A-Za-z0-9_]*".into())
            }
            ConfigError::NotFound { .. } => {
                Some("run `fnox init` to create one, or pass `-c PATH`".into())
            }
            ConfigError::Import { source, .. } => source.hint(),
            _ => None,
        }
    }
}

fn defined_hint(defined: &[String]) -> String {
    if defined.is_empty() {
        "no provider is defined: add one under [providers], or run `fnox init`".into()
    } else {
        format!("defined providers: {}", defined.join(", "))
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::io("cannot write the config file", e)
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
