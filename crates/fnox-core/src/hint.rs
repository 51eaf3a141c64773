//! What to do about an error, as data. The core knows the fix; the program
//! that shows it (the CLI, an application's log) chooses the words and the
//! command line.

use crate::failure::{Call, KmsErrorKind, TransitErrorKind};

/// Why a stored value has to be set again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// The value in the file is damaged (bad base64, truncated, unknown
    /// version, not a ciphertext).
    Damaged,
    /// The value does not open under this name: values cannot be copied
    /// between secret names.
    Moved,
    /// Damaged, or moved from another name (an envelope that does not open).
    DamagedOrMoved,
}

/// One way to fix an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// Store the value again (`secret`, where known).
    SetAgain {
        /// The secret.
        secret: Option<String>,
        /// What is wrong with the old value.
        damage: Damage,
    },
    /// Give the secret a value.
    SetValue {
        /// The secret.
        secret: String,
    },
    /// See which secrets exist, or add this one.
    ListOrAdd {
        /// The secret that was asked for.
        secret: String,
    },
    /// Create a config file, or name one.
    CreateConfig,
    /// These keys are allowed at that place.
    AllowedKeys(&'static [&'static str]),
    /// These providers are defined (none: define one).
    DefinedProviders(Vec<String>),
    /// Name a provider for the value, or set `default_provider`.
    ChooseProvider {
        /// The providers that are defined.
        defined: Vec<String>,
    },
    /// The provider types this build knows.
    KnownTypes(Vec<&'static str>),
    /// A provider type that exists, in a build with its cargo feature.
    EnableFeature {
        /// The cargo feature of `fnox-core`.
        feature: &'static str,
    },
    /// Secret names are environment-variable names.
    SecretNameForm,
    /// Profile names are letters, digits, `-` and `_`.
    ProfileNameForm,
    /// Set `FNOX_CONFIG_DIR` (no home or config directory is known).
    SetConfigDir,
    /// The values are under `local` keys this machine lacks: bring the key
    /// over from a machine that has it (`keys export` there, `keys import`
    /// here, or `FNOX_LOCAL_KEY` in CI); a new key would not open them.
    BringLocalKey {
        /// The missing key ids (hex), where known.
        key_ids: Vec<String>,
    },
    /// `FNOX_LOCAL_KEY` and keyring lines hold base64 of 32 bytes.
    LocalKeyFormat,
    /// Point at an age identity, or create one.
    CreateAgeIdentity,
    /// Someone who can read the value adds this user's recipient and
    /// rotates.
    AddRecipientAndRotate,
    /// List the provider's recipients.
    AgeRecipients,
    /// Give the aws-kms provider a region.
    KmsRegion,
    /// A KMS failure of this kind during `action`.
    Kms {
        /// What went wrong.
        kind: KmsErrorKind,
        /// The IAM action, e.g. `kms:Decrypt`.
        action: &'static str,
    },
    /// Give the vault-transit provider an address.
    TransitAddress,
    /// Log in to Vault/OpenBao or provide a token.
    TransitToken,
    /// `ca_cert` must be a PEM file of the right CA.
    TransitCaCert,
    /// A transit failure of this kind on `call`.
    Transit {
        /// What went wrong.
        kind: TransitErrorKind,
        /// What was called.
        call: Box<Call>,
        /// The secret, where known.
        secret: Option<String>,
    },
    /// Rotate the selected secrets first (they still use old keys).
    RotateFirst {
        /// The provider.
        provider: String,
    },
    /// Run the operation again (a file changed meanwhile).
    TryAgain,
    /// Make a config file the user's own, or writable by its owner only
    /// (`problem` says which), if its content is trusted.
    FixConfigFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: crate::config::Distrust,
    },
    /// Trust the directory: list it in `trusted_dirs` of `global`, or in
    /// `FNOX_TRUSTED_DIRS`.
    TrustDir {
        /// The directory.
        dir: std::path::PathBuf,
        /// The global config (`None`: the file refused is the global
        /// config, whose own list does not count).
        global: Option<std::path::PathBuf>,
    },
    /// Make the key file private (`chmod 600`).
    ChmodKeyFile {
        /// The file.
        path: std::path::PathBuf,
    },
    /// Have git ignore the key file, or keep it outside the repository.
    IgnoreKeyFile {
        /// The file.
        path: std::path::PathBuf,
    },
    /// No value uses the `local` provider yet: its key is created with the
    /// first value (`set`), or brought over from a teammate.
    LocalKeyOnFirstSet,
    /// A value under a new key is intended: say so (`set --new-key-ok`).
    NewKeyOk,
    /// Say `allow_exec_control = true` in the entry if it is meant to set
    /// a variable that changes what programs run.
    AllowExecControl {
        /// The secret.
        secret: String,
    },
    /// Give the file one name (it has several hard links) before fnox
    /// edits it.
    BreakHardLink,
    /// Run fnox as the file's owner, or give the file to this user.
    RunAsOwner {
        /// The file's owner.
        uid: u32,
    },
    /// Try again when the other fnox is done, or wait longer
    /// (`FNOX_LOCK_TIMEOUT`).
    WaitLonger,
    /// The defined names nearest to a mistyped one (a secret, a profile),
    /// best first.
    DidYouMean(Vec<String>),
    /// The profiles that are defined; setting a secret in `profile`
    /// creates it.
    DefinedProfiles {
        /// The profile that was asked for.
        profile: String,
        /// The defined profiles (`default` among them).
        defined: Vec<String>,
    },
    /// Take `sensitive = false` out of the entry: a value fnox decrypts is
    /// always secret; `sensitive` is about a plain `default` only.
    RemoveNotSensitive {
        /// The secret.
        secret: String,
    },
    /// T5: `export --all` includes the secrets whose `env` keeps them out.
    ExportAll,
    /// T5: `fnox get` reads a secret whatever its `env` says.
    GetAnyway {
        /// The secret.
        secret: String,
    },
    /// T5: `fnox exec` passes an `as_file` secret to the program it runs.
    AsFileWithExec {
        /// The secret.
        secret: String,
    },
    // T6: defaults that use other secrets.
    /// `default = ""` in the secret gives it an empty value on purpose.
    EmptyDefault {
        /// The secret.
        secret: String,
    },
    /// `$${` is a literal `${` in a default.
    LiteralDollarBrace,
    // T7 (issue 12): providers of jdx/fnox types fnox does not implement.
    /// Provider type `kind` (a jdx/fnox type) is not implemented: store
    /// the secret with a type fnox implements, or read it with jdx/fnox.
    UnsupportedType {
        /// The type.
        kind: &'static str,
    },
    /// An age identity held by another provider is decrypted as the value
    /// of a secret of this name: make it with `fnox set NAME`.
    IdentityValue {
        /// The provider that holds the identity.
        provider: String,
    },
    /// The file's `[data_keys]` entry of `provider` is missing or damaged:
    /// bring it back (git has it); the values under it need it.
    RestoreDataKey {
        /// The provider.
        provider: String,
    },
    // Issue 15: keys in age plugins and the OS keychain.
    /// Install the age plugin `binary` and put it on `PATH`.
    InstallAgePlugin {
        /// `age-plugin-NAME`.
        binary: String,
    },
    /// An age plugin needs a terminal to ask on.
    AgePluginTerminal,
    /// The OS keychain must be running and unlocked (or, in CI, the key
    /// comes from `FNOX_LOCAL_KEY`).
    Keychain,
    /// A passphrase-encrypted age identity needs a terminal to ask on.
    AgePassphraseTerminal,
    /// A passphrase-protected `local` keyring needs a terminal to ask on
    /// (or the agent holding it unlocked; in CI, `FNOX_LOCAL_KEY`).
    LocalKeyringTerminal,
    /// `fnox keys passphrase` changes a keyring's passphrase.
    ChangePassphrase,
    /// `fnox keys protect` gives a keyring a passphrase.
    ProtectKeyring,
}
