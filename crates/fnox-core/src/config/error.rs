//! Errors in finding, parsing or validating config files, and [`Location`],
//! the place in a file that messages name.

use std::{io, path::PathBuf};

use super::trust::{Distrust, Owner};
use crate::hint::Hint;

/// A place in a config file, shown as `path:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The config file (one copy per file, shared by its locations).
    pub file: std::sync::Arc<std::path::Path>,
    /// 1-based line number (0 when unknown).
    pub line: usize,
}

impl Location {
    /// Line `line` of `file`.
    pub fn new(file: impl Into<std::sync::Arc<std::path::Path>>, line: usize) -> Self {
        Self { file: file.into(), line }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// Errors in finding, parsing or validating config files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
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
        /// The known keys nearest to it (did you mean).
        near: Vec<String>,
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
    /// `sensitive = false` next to an encrypted `value`, which is always
    /// secret.
    #[error(
        "{at}: secret `{name}` has an encrypted value, which is always secret: `sensitive = false` cannot apply to it"
    )]
    ValueNotSensitive {
        /// Where `sensitive` is.
        at: Location,
        /// The secret.
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
        /// The types (of fnox or jdx/fnox) nearest to it (did you mean).
        near: Vec<String>,
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
    /// A provider type whose cargo feature is off in this build.
    #[error(
        "{at}: provider `{provider}` has type `{kind}`, which this build of fnox leaves out (cargo feature `{feature}`)"
    )]
    FeatureDisabled {
        /// Where the provider is.
        at: Location,
        /// The provider's name.
        provider: String,
        /// The type it gave.
        kind: String,
        /// The `fnox-core` feature that builds it.
        feature: &'static str,
    },
    /// No config file anywhere.
    #[error("no fnox.toml in {} or any parent directory", cwd.display())]
    NotFound {
        /// Where the search started.
        cwd: PathBuf,
    },
    /// A profile name that cannot be a file name part.
    #[error("`{0}` is not a valid profile name (letters, digits, `-` and `_`)")]
    BadProfile(String),
    /// An `if_missing` mode that does not exist (from `FNOX_IF_MISSING`).
    #[error("if-missing must be error, warn or ignore, not `{0}`")]
    BadIfMissing(String),
    /// Neither `FNOX_CONFIG_DIR` nor a user config directory is known.
    #[error("cannot find the user config directory")]
    NoConfigDir,
    /// A config file that another user owns, or that its group or others
    /// can write, outside the trusted directories.
    #[error("refusing to load {}: {}; owner {owner}, mode {mode:04o}", path.display(), distrust_words(*problem, *mode))]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: Distrust,
        /// Its owner.
        owner: Owner,
        /// Its permission bits.
        mode: u32,
        /// The global config, where `trusted_dirs` can list its directory
        /// (`None` when the file is the global config itself).
        global: Option<PathBuf>,
    },
    /// A config file that is not a regular file (a FIFO, a device, a
    /// directory).
    #[error("cannot load {}: it is {what}, not a file", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is (`a FIFO`).
        what: &'static str,
    },
    /// A config file larger than fnox reads.
    #[error("cannot load {}: it is larger than {} MiB, the limit for a config file", path.display(), limit >> 20)]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// Imports nested deeper than fnox follows.
    #[error("{at}: import `{import}` is nested more than {limit} levels deep")]
    ImportTooDeep {
        /// Where the import is.
        at: Location,
        /// The path as written.
        import: String,
        /// The deepest nesting allowed.
        limit: usize,
    },
    /// `trusted_dirs` outside the global config.
    #[error("{at}: `trusted_dirs` is read from the global config only ({})", global.display())]
    TrustedDirsOutsideGlobal {
        /// Where the key is.
        at: Location,
        /// The global config file.
        global: PathBuf,
    },
    /// `FNOX_LOCK_TIMEOUT` is not a number of seconds.
    #[error("FNOX_LOCK_TIMEOUT must be a number of seconds, not `{0}`")]
    BadLockTimeout(String),
    /// A profile that no loaded file defines (no `[profiles.NAME]` table,
    /// no `fnox.NAME.toml`), asked for by a command that only reads.
    #[error(
        "profile `{profile}` is not defined (no [profiles.{profile}] table in any loaded file, no fnox.{profile}.toml)"
    )]
    UnknownProfile {
        /// The profile asked for.
        profile: String,
        /// The defined profiles, `default` first.
        defined: Vec<String>,
        /// The defined profiles nearest to it (did you mean).
        near: Vec<String>,
    },
    // T6
    /// A secret with both `json_path` and `line`.
    #[error("{at}: {entry} has both `json_path` and `line`: it can use one or the other")]
    JsonPathAndLine {
        /// Where the later of the two keys is.
        at: Location,
        /// The entry (`secret `X``).
        entry: String,
    },
    /// A profile list (`-P a,b`, `FNOX_PROFILE`) with an empty item
    /// (`a,,b`, `a,`). (T3, issue 12)
    #[error("empty profile name in the list `{0}`")]
    EmptyProfile(String),
}

fn distrust_words(problem: Distrust, mode: u32) -> &'static str {
    match problem {
        Distrust::Owner { .. } => "another user owns it",
        Distrust::Writable => match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => "its group and others can write it",
            (true, false) => "its group can write it",
            _ => "others can write it",
        },
    }
}

impl ConfigError {
    /// What to do about it, where that is known.
    pub fn hints(&self) -> Vec<Hint> {
        match self {
            ConfigError::UnknownKey { allowed, near, .. } => {
                let mut hints = did_you_mean(near);
                hints.push(Hint::AllowedKeys(allowed));
                hints
            }
            ConfigError::UndefinedProvider { defined, .. } => {
                vec![Hint::DefinedProviders(defined.clone())]
            }
            ConfigError::UnknownProviderType { near, .. } => {
                let mut hints = did_you_mean(near);
                hints.push(Hint::KnownTypes(super::KNOWN_TYPES.to_vec()));
                hints
            }
            ConfigError::FeatureDisabled { feature, .. } => {
                vec![Hint::EnableFeature { feature }]
            }
            ConfigError::BadName { .. } => vec![Hint::SecretNameForm],
            ConfigError::ValueNotSensitive { name, .. } => {
                vec![Hint::RemoveNotSensitive { secret: name.clone() }]
            }
            ConfigError::BadProfile(_) => vec![Hint::ProfileNameForm],
            ConfigError::NoConfigDir => vec![Hint::SetConfigDir],
            ConfigError::UnknownProfile { profile, defined, near } => {
                let mut hints = did_you_mean(near);
                hints.push(Hint::DefinedProfiles {
                    profile: profile.clone(),
                    defined: defined.clone(),
                });
                hints
            }
            ConfigError::NotFound { .. } => vec![Hint::CreateConfig],
            ConfigError::Import { source, .. } => source.hints(),
            ConfigError::Untrusted { path, problem, global, .. } => vec![
                Hint::FixConfigFile { path: path.clone(), problem: *problem },
                Hint::TrustDir {
                    dir: path.parent().map(PathBuf::from).unwrap_or_default(),
                    global: global.clone(),
                },
            ],
            _ => Vec::new(),
        }
    }
}

/// `near` as a did-you-mean hint, when it names anything.
pub(crate) fn did_you_mean(near: &[String]) -> Vec<Hint> {
    if near.is_empty() { Vec::new() } else { vec![Hint::DidYouMean(near.to_vec())] }
}

/// A secret that the active profile does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret `{name}` is not defined in profile `{profile}`")]
pub struct UnknownSecret {
    /// The secret.
    pub name: String,
    /// The active profile.
    pub profile: String,
    /// The profile's secrets nearest to `name` (did you mean).
    pub near: Vec<String>,
}
