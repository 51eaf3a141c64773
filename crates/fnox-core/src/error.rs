//! Error enums, by domain. Messages are lowercase fragments that name the
//! file, the secret and the provider; never a secret value. Where the fix is
//! known, [`Error::hints`] gives it as data ([`Hint`]).

use std::{io, path::PathBuf, sync::Arc};

use crate::{
    config::{ConfigError, Location, UnknownSecret},
    hint::Hint,
    interpolate::ReferenceError,
    providers::{ProviderError, RegistryError},
    shape::ShapeError,
};

pub use crate::error_chain::{chain, has_cause, root_cause};

/// Everything the library can fail with.
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
    #[error("cannot encrypt secret `{name}` with provider `{provider}` (for {})", file.display())]
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
        /// The defined secrets nearest to `name` (did you mean).
        near: Vec<String>,
    },
    /// The secret has neither a value nor a default.
    #[error("secret `{name}` has no value ({at})")]
    NoValue {
        /// The secret.
        name: String,
        /// Where it is defined.
        at: Location,
    },
    /// A provider name that is not defined.
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
    /// A provider was preset after it had been built.
    #[error("provider `{0}` is already in use")]
    ProviderInUse(String),
    /// A file could not be created.
    #[error("cannot create {}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// An in-place edit of a config file could not be made.
    #[error("cannot update {}", path.display())]
    Edit {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::config::edit::EditError,
    },
    /// A value that a write plan replaces changed since it was read.
    #[error("secret `{name}` in {} changed meanwhile; nothing was written", path.display())]
    ChangedMeanwhile {
        /// The secret.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// A keyring changed since it was read.
    #[error("{} changed meanwhile; nothing was written", path.display())]
    KeyringChanged {
        /// The keyring file.
        path: PathBuf,
    },
    /// Old `local` keys that values still use.
    #[error("cannot retire old local keys of {}: {} them: {}", path.display(), crate::words::count(users.len(), "value still uses", "values still use"), users.join(", "))]
    KeysStillUsed {
        /// The keyring.
        path: PathBuf,
        /// The provider.
        provider: String,
        /// The values, as `NAME (file:line, key ID)`.
        users: Vec<String>,
    },
    /// A new `local` key was asked for while the key comes from
    /// `FNOX_LOCAL_KEY`.
    #[error(
        "a new local key needs the keyring (a file or the OS keychain), but the key comes from FNOX_LOCAL_KEY"
    )]
    NewKeyWithoutKeyring,
    /// A new `local` key was asked for, but no `local` provider is selected.
    #[error("a new local key was asked for, but no `local` provider is selected")]
    NewKeyWithoutLocalProvider,
    /// The async runtime could not be started.
    #[error("cannot start the async runtime")]
    Runtime(#[source] io::Error),
    /// The `local` key a value was encrypted with is no longer the primary
    /// key of its keyring (a rotation ran meanwhile).
    #[error("the local key that encrypted secret `{name}` is no longer the primary key of {} (it changed meanwhile); nothing was written", keyring.display())]
    LocalKeyChanged {
        /// The secret.
        name: String,
        /// The keyring.
        keyring: PathBuf,
    },
    /// A file's values of a `local` provider are under keys this machine
    /// lacks: a value under this machine's key would mix keys.
    #[error("{} holds values of provider `{provider}` under local {} {} that this machine does not have; a value under another key would leave the file with keys that no single machine has", file.display(), crate::words::noun(key_ids.len(), "key", "keys"), key_ids.join(", "))]
    ForeignLocalKeys {
        /// The config file.
        file: PathBuf,
        /// The provider.
        provider: String,
        /// The keys (hex) this machine lacks.
        key_ids: Vec<String>,
    },
    /// Retired `local` keys that values still use.
    #[error("cannot delete retired local keys of {}: {} them: {}", path.display(), crate::words::count(users.len(), "value still uses", "values still use"), users.join(", "))]
    RetiredKeysUsed {
        /// The keyring.
        path: PathBuf,
        /// The provider.
        provider: String,
        /// The values, as `NAME (file:line, key ID)`.
        users: Vec<String>,
    },
    /// A new passphrase that cannot be used (empty, or its confirmation
    /// differs).
    #[error(transparent)]
    NewPassphrase(ProviderError),
    /// `keys protect` of a keyring that already has a passphrase.
    #[error("the local keyring {} is already protected with a passphrase", path.display())]
    KeyringProtected {
        /// The keyring file.
        path: PathBuf,
    },
    /// `keys unprotect` or `keys passphrase` of a keyring without one.
    #[error("the local keyring {} is not protected with a passphrase", path.display())]
    KeyringNotProtected {
        /// The keyring file.
        path: PathBuf,
    },
    /// A key export would be written inside a git working tree.
    #[error("refusing to write keys to {} inside the git working tree {}", path.display(), toplevel.display())]
    ExportInGitTree {
        /// The file asked for.
        path: PathBuf,
        /// The working tree.
        toplevel: PathBuf,
    },
    /// An entry would set a variable that changes what programs run, and
    /// does not say `allow_exec_control = true`.
    #[error("refusing to set `{name}` ({at}): {name} {why}")]
    ExecControl {
        /// The secret (and variable) name.
        name: String,
        /// Where it is defined.
        at: Location,
        /// What the variable does.
        why: &'static str,
    },
    /// T5: a secret named for a program's environment whose `env` keeps it
    /// out of that one.
    #[error("secret `{name}` has `env = {}` ({at}), which keeps it out of {}", mode.as_toml(), target.words())]
    KeptOut {
        /// The secret.
        name: String,
        /// Where it is defined.
        at: Location,
        /// Its effective `env`.
        mode: crate::config::EnvMode,
        /// Where it was asked for.
        target: crate::config::Target,
    },
    /// T5: an `as_file` secret named for `export` or a shell: no file there
    /// is gone when a command ends.
    #[error(
        "secret `{name}` has `as_file = true` ({at}): only `fnox exec` can pass it, as a file that is gone when the command ends"
    )]
    AsFileOnlyExec {
        /// The secret.
        name: String,
        /// Where it is defined.
        at: Location,
    },
    /// A locked, atomic write failed; the error names the file (the one
    /// locked, the temporary file, or the target).
    #[error(transparent)]
    Write(#[from] crate::config::write::WriteError),
    // T6: parts of values (`json_path`, `line`), defaults that use other
    // secrets (`${NAME}`).
    /// `json_path` or `line` cannot be taken from the value.
    #[error("cannot take {part} from secret `{name}` ({at})")]
    Shape {
        /// The secret.
        name: String,
        /// Where it is defined.
        at: Location,
        /// The part, as `json_path `a.b`` or `line 3`.
        part: String,
        /// Why.
        #[source]
        source: ShapeError,
    },
    /// A default that refers to secrets wrongly (undefined, empty, a cycle).
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A default uses a secret that has no value.
    #[error("the default of secret `{name}` ({at}) uses `${{{reference}}}`, which has no value")]
    ReferenceMissing {
        /// The secret whose default it is.
        name: String,
        /// Where it is defined.
        at: Location,
        /// The secret it uses.
        reference: String,
    },
    /// A default uses a secret that cannot be resolved.
    #[error(
        "the default of secret `{name}` ({at}) uses `${{{reference}}}`, which cannot be resolved"
    )]
    ReferenceFailed {
        /// The secret whose default it is.
        name: String,
        /// Where it is defined.
        at: Location,
        /// The secret it uses.
        reference: String,
        /// Why that one cannot be resolved.
        #[source]
        source: Arc<Error>,
    },
    /// One failure that several secrets share (their provider cannot be
    /// used; a secret that their defaults use fails). Reads as the failure.
    #[error(transparent)]
    Shared(Arc<Error>),
    // T7 (issue 12): provider types of jdx/fnox that fnox does not implement.
    /// A provider of a jdx/fnox type that fnox does not implement, needed
    /// by a secret that was asked for.
    #[error("{}provider `{provider}` has type `{kind}`, which fnox does not support ({at})", secret.as_ref().map(|s| format!("cannot read secret `{s}`: ")).unwrap_or_default())]
    UnsupportedProvider {
        /// The provider.
        provider: String,
        /// Its type.
        kind: &'static str,
        /// Where it is defined.
        at: Location,
        /// The secret that needs it, where known.
        secret: Option<String>,
    },
    /// A file's `[data_keys]` entry of a provider changed since a value
    /// was sealed under it (another `set` created it, or a rotation
    /// replaced it); the value is sealed again.
    #[error("the data key of provider `{provider}` in {} changed meanwhile; nothing was written", path.display())]
    DataKeyChanged {
        /// The provider.
        provider: String,
        /// The file.
        path: PathBuf,
    },
}

impl Error {
    /// The same error, naming `secret` as the one that needed the provider
    /// (for a provider fnox does not support).
    #[must_use]
    pub fn needed_by(self, secret: &str) -> Self {
        match self {
            Error::UnsupportedProvider { provider, kind, at, secret: None } => {
                Error::UnsupportedProvider { provider, kind, at, secret: Some(secret.into()) }
            }
            other => other,
        }
    }
}

impl Error {
    /// What to do about it, where that is known.
    pub fn hints(&self) -> Vec<Hint> {
        match self {
            Error::Config(e) => e.hints(),
            Error::Decrypt { name, source, .. } => source.hints(Some(name)),
            Error::Encrypt { source, .. } | Error::Provider { source, .. } => source.hints(None),
            Error::UnknownSecret { name, near, .. } => {
                let mut hints = crate::config::did_you_mean(near);
                hints.push(Hint::ListOrAdd { secret: name.clone() });
                hints
            }
            Error::NoValue { name, .. } => vec![Hint::SetValue { secret: name.clone() }],
            Error::UnknownProvider { defined, .. } => vec![Hint::DefinedProviders(defined.clone())],
            Error::NoDefaultProvider { defined, .. } => {
                vec![Hint::ChooseProvider { defined: defined.clone() }]
            }
            Error::ChangedMeanwhile { .. } | Error::KeyringChanged { .. } => vec![Hint::TryAgain],
            Error::KeysStillUsed { provider, .. } | Error::RetiredKeysUsed { provider, .. } => {
                vec![Hint::RotateFirst { provider: provider.clone() }]
            }
            Error::LocalKeyChanged { .. } | Error::DataKeyChanged { .. } => vec![Hint::TryAgain],
            Error::ForeignLocalKeys { key_ids, .. } => {
                vec![Hint::BringLocalKey { key_ids: key_ids.clone() }, Hint::NewKeyOk]
            }
            Error::ExecControl { name, .. } => {
                vec![Hint::AllowExecControl { secret: name.clone() }]
            }
            Error::Edit { source: crate::config::edit::EditError::NotSensitive(name), .. } => {
                vec![Hint::RemoveNotSensitive { secret: name.clone() }]
            }
            Error::KeptOut { name, target, .. } => kept_out_hints(name, *target),
            Error::AsFileOnlyExec { name, .. } => {
                vec![Hint::AsFileWithExec { secret: name.clone() }]
            }
            Error::ProviderInUse(_)
            | Error::Create { .. }
            | Error::Edit { .. }
            | Error::NewKeyWithoutKeyring
            | Error::NewKeyWithoutLocalProvider
            | Error::Runtime(_)
            | Error::ExportInGitTree { .. } => Vec::new(),
            Error::KeyringProtected { .. } => vec![Hint::ChangePassphrase],
            Error::NewPassphrase(e) => e.hints(None),
            Error::KeyringNotProtected { .. } => vec![Hint::ProtectKeyring],
            Error::Write(e) => write_hints(e),
            Error::Shape { .. } => Vec::new(),
            Error::Reference(e) => reference_hints(e),
            Error::ReferenceMissing { reference, .. } => vec![
                Hint::SetValue { secret: reference.clone() },
                Hint::EmptyDefault { secret: reference.clone() },
            ],
            Error::ReferenceFailed { source, .. } | Error::Shared(source) => source.hints(),
            Error::UnsupportedProvider { kind, .. } => vec![Hint::UnsupportedType { kind }],
        }
    }

    /// True when the error is about producing one secret's value: it does
    /// not decrypt, its provider cannot be used, `json_path` or `line`
    /// cannot be taken from it, its default uses a secret without a value.
    /// An explicit `if_missing = "warn"` or `"ignore"` covers these. Mistakes
    /// in the config (an undefined reference, a cycle, no provider) are not
    /// covered: they always fail.
    pub fn is_value_failure(&self) -> bool {
        match self {
            Error::Decrypt { .. }
            | Error::Provider { .. }
            | Error::Shape { .. }
            | Error::ReferenceMissing { .. } => true,
            Error::ReferenceFailed { source, .. } | Error::Shared(source) => {
                source.is_value_failure()
            }
            _ => false,
        }
    }

    /// The secret the error is about, where its message names one.
    pub fn secret(&self) -> Option<&str> {
        match self {
            Error::Decrypt { name, .. }
            | Error::NoValue { name, .. }
            | Error::Shape { name, .. }
            | Error::ReferenceMissing { name, .. }
            | Error::ReferenceFailed { name, .. }
            | Error::Reference(
                ReferenceError::Undefined { name, .. } | ReferenceError::Empty { name, .. },
            ) => Some(name),
            Error::Shared(e) => e.secret(),
            _ => None,
        }
    }
}

/// What to do about a default that refers to secrets wrongly.
fn reference_hints(e: &ReferenceError) -> Vec<Hint> {
    match e {
        ReferenceError::Undefined { reference, near, .. } => {
            let mut hints = crate::config::did_you_mean(near);
            hints.push(Hint::ListOrAdd { secret: reference.clone() });
            hints
        }
        ReferenceError::Empty { .. } => vec![Hint::LiteralDollarBrace],
        ReferenceError::Cycle { .. } => Vec::new(),
    }
}

/// T5: `get` reads it whatever `env` says; `export --all` includes it.
fn kept_out_hints(name: &str, target: crate::config::Target) -> Vec<Hint> {
    let mut hints = Vec::new();
    if target == crate::config::Target::Shell {
        hints.push(Hint::ExportAll);
    }
    hints.push(Hint::GetAnyway { secret: name.to_string() });
    hints
}

/// What to do about a failed write, where fnox knows.
fn write_hints(e: &crate::config::write::WriteError) -> Vec<Hint> {
    use crate::config::write::WriteError;
    match e {
        WriteError::HardLinks { .. } => vec![Hint::BreakHardLink],
        WriteError::Owner { uid, .. } => vec![Hint::RunAsOwner { uid: *uid }],
        WriteError::LockTimeout { .. } => vec![Hint::WaitLonger],
        _ => Vec::new(),
    }
}

impl From<UnknownSecret> for Error {
    fn from(e: UnknownSecret) -> Self {
        Error::UnknownSecret { name: e.name, profile: e.profile, near: e.near }
    }
}

impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Unknown { name, defined } => Error::UnknownProvider { name, defined },
            RegistryError::Build { provider, at, source } => {
                Error::Provider { provider, at, source }
            }
            RegistryError::InUse(name) => Error::ProviderInUse(name),
            RegistryError::Unsupported { provider, kind, at } => {
                Error::UnsupportedProvider { provider, kind, at, secret: None }
            }
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
