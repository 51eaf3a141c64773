//! Provider errors. None of them carries plaintext or key material.

use std::{io, path::PathBuf};

use crate::hint::{Damage, Hint};

/// Why a provider could not encrypt or decrypt.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The stored value is not standard base64.
    #[error("the stored value is not valid base64")]
    BadBase64,
    /// Too short to hold the format's header and tag.
    #[error("the stored value is truncated: {len} bytes is too short for a `{kind}` ciphertext")]
    Truncated {
        /// Provider type.
        kind: &'static str,
        /// Its length.
        len: usize,
    },
    /// A format version this build does not know.
    #[error("the stored value has unknown format version {0}")]
    UnknownVersion(u8),
    /// Authentication failed: wrong name, or modified bytes.
    #[error(
        "the value does not decrypt under this secret's name: it was moved from another secret, or tampered with"
    )]
    Tampered,
    /// No local key material at all.
    #[error("no local key: FNOX_LOCAL_KEY is not set and {} does not exist", path.display())]
    NoLocalKey {
        /// Where the keyring was expected.
        path: PathBuf,
    },
    /// The value names a key id the keyring does not have.
    #[error("the value was encrypted with local key {id}, which is not in {source_name}")]
    UnknownKeyId {
        /// The key id (hex).
        id: String,
        /// Where the keys came from.
        source_name: String,
    },
    /// `FNOX_LOCAL_KEY` or a keyring line is malformed.
    #[error("{source_name}: {reason}")]
    BadKey {
        /// Where the key came from.
        source_name: String,
        /// What is wrong (never the key itself).
        reason: String,
    },
    /// A key or identity file cannot be read or written.
    #[error("cannot access {}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// No age identity anywhere.
    #[error("no age identity: FNOX_AGE_KEY and FNOX_AGE_KEY_FILE are not set{}, and {} does not exist", key_file.as_ref().map(|p| format!(", key_file {} does not exist", p.display())).unwrap_or_default(), default.display())]
    NoAgeIdentity {
        /// The provider's `key_file`, if set.
        key_file: Option<PathBuf>,
        /// `$FNOX_CONFIG_DIR/age.txt`.
        default: PathBuf,
    },
    /// An identity that cannot be used.
    #[error("{source_name}: {reason}")]
    BadIdentity {
        /// Where it came from.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// A recipient string that does not parse.
    #[error("`{recipient}` is not an age recipient (age1... or ssh-ed25519/ssh-rsa public key)")]
    BadRecipient {
        /// The recipient (public).
        recipient: String,
    },
    /// The provider has no recipients.
    #[error("the provider has no `recipients`")]
    NoRecipients,
    /// None of our identities is a recipient of the file.
    #[error(
        "none of the age identities from {source_name} can decrypt it (it was encrypted to other recipients)"
    )]
    AgeNoMatchingKey {
        /// Where the identities came from.
        source_name: String,
    },
    /// age rejected the file.
    #[error("it is not a valid age file")]
    AgeDecrypt(#[source] ::age::DecryptError),
    /// age could not encrypt.
    #[error("age encryption failed")]
    AgeEncrypt(#[source] ::age::EncryptError),
    /// A KMS call failed.
    #[cfg(feature = "aws-kms")]
    #[error("{}", kind.message(action, key, endpoint))]
    Kms {
        /// The IAM action, e.g. `kms:Decrypt`.
        action: &'static str,
        /// The configured key id.
        key: String,
        /// The endpoint, as the user would recognise it.
        endpoint: String,
        /// What went wrong.
        kind: crate::failure::KmsErrorKind,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No AWS region anywhere.
    #[cfg(feature = "aws-kms")]
    #[error(
        "no AWS region: the provider has no `region` and none is configured (AWS_REGION, profile)"
    )]
    KmsNoRegion,
    /// A `vault-transit` failure.
    #[cfg(feature = "vault-transit")]
    #[error(transparent)]
    Transit(#[from] Box<super::vault_transit::error::TransitError>),
    /// An envelope that cannot be read.
    #[error(transparent)]
    Envelope(#[from] crate::envelope::EnvelopeError),
    /// An I/O error inside a cipher stream.
    #[error("i/o error")]
    Io(#[source] io::Error),
    /// A key service answered without the field that carries the result.
    #[error("the key service's answer to {action} has no {field}")]
    EmptyAnswer {
        /// The call, e.g. `kms:Decrypt`.
        action: &'static str,
        /// The missing field, e.g. `Plaintext`.
        field: &'static str,
    },
    /// A provider returned fewer results than it was asked for.
    #[error("the provider returned {got} results for {asked} values")]
    ShortAnswer {
        /// How many values were sent.
        asked: usize,
        /// How many results came back.
        got: usize,
    },
    /// A key file or identity that group or others may access.
    #[error("{} is accessible by group or others (mode {mode:04o}); key files must be private", path.display())]
    KeyFileTooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file would be created inside a git working tree, where git
    /// does not ignore it.
    #[error("refusing to create key file {} inside the git working tree {} (git does not ignore it)", path.display(), toplevel.display())]
    KeyFileInGitTree {
        /// The key file.
        path: PathBuf,
        /// The working tree.
        toplevel: PathBuf,
    },
    /// An age file whose payload fails authentication. age binds no
    /// names, so this is damage or tampering, never a move.
    #[error("the age file does not authenticate: it was damaged or tampered with")]
    AgeTampered,
    // T7 (issue 12): plain provider, age identity from another provider.
    /// A `plain` provider with jdx/fnox's `file` (values looked up in a
    /// plaintext file), which fnox does not implement.
    #[error(
        "reading values from a file (`file = \"{file}\"`) is not supported by fnox; put each value in its secret's `value`"
    )]
    PlainFile {
        /// The file, as written.
        file: String,
    },
    /// A value for the `plain` provider that is not UTF-8 text.
    #[error("a plain value is written into the config file as it is, so it must be UTF-8 text")]
    PlainNotText,
    /// The envelope format asked of the `plain` provider.
    #[error("the plain provider stores values as written; it has no envelope format")]
    PlainEnvelope,
    /// An age identity held by another provider, which cannot be used.
    #[error("the age identity is held by provider `{provider}`")]
    IdentityProvider {
        /// The provider that holds it.
        provider: String,
        /// Why it cannot be used.
        #[source]
        source: Box<super::RegistryError>,
    },
    /// An age identity held by another provider, which does not decrypt.
    #[error("cannot decrypt the age identity held by provider `{provider}`")]
    IdentityDecrypt {
        /// The provider that holds it.
        provider: String,
        /// Why.
        #[source]
        source: Box<ProviderError>,
    },
    /// age providers whose identities are held by each other, in a cycle.
    #[error("the `identity` of age provider `{}` leads back to it: {}", chain[0], chain.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" -> "))]
    IdentityCycle {
        /// The providers, from the first back to it.
        chain: Vec<String>,
    },
    /// An age `identity` that names a provider nobody defined.
    #[error("its `identity` names provider `{provider}`, which is not defined")]
    IdentityUndefined {
        /// The provider named.
        provider: String,
        /// The providers that exist.
        defined: Vec<String>,
    },
    /// A file's data key (`data_key = true`) or a value under it that
    /// cannot be used.
    #[error(transparent)]
    FileKey(#[from] crate::file_key::FileKeyError),
    /// The file's data key, which this value and others share, does not
    /// unwrap (one failure, told for each value under it).
    #[error("the file's data key of provider `{provider}` does not unwrap")]
    FileKeyUnwrap {
        /// The provider.
        provider: String,
        /// Why.
        #[source]
        source: std::sync::Arc<ProviderError>,
    },
    /// An age plugin recipient or identity whose plugin binary is not on
    /// `PATH`.
    #[error("the age plugin `{binary}` is not on PATH")]
    AgePluginMissing {
        /// The binary, `age-plugin-NAME`.
        binary: String,
    },
    /// An age plugin failed (what it said).
    #[error("the age plugin failed: {message}")]
    AgePlugin {
        /// The plugin's message.
        message: String,
    },
    /// An age plugin asked for input and nobody could be asked (no
    /// terminal, or `--non-interactive`).
    #[error("the age plugin asked for input (\"{request}\") and there is no terminal to ask on")]
    AgePluginNeedsInput {
        /// What the plugin asked.
        request: String,
    },
    /// An age identity file encrypted with a passphrase, and nobody to ask
    /// for it (no terminal, or `--non-interactive`).
    #[error(
        "the age identity {source_name} is encrypted with a passphrase, and there is no terminal to ask for it"
    )]
    AgePassphraseNeedsTerminal {
        /// Where the identity comes from.
        source_name: String,
    },
    /// The passphrase does not open the age identity file.
    #[error("wrong passphrase for the age identity {source_name}")]
    AgeWrongPassphrase {
        /// Where the identity comes from.
        source_name: String,
    },
    /// A `local` keyring protected with a passphrase, and nobody to ask
    /// for it (no terminal, or `--non-interactive`).
    #[error(
        "the local keyring {source_name} is protected with a passphrase, and there is no terminal to ask for it"
    )]
    LocalKeyringNeedsTerminal {
        /// The keyring file.
        source_name: String,
    },
    /// The passphrase does not open the `local` keyring.
    #[error("wrong passphrase for the local keyring {source_name}")]
    LocalKeyringWrongPassphrase {
        /// The keyring file.
        source_name: String,
    },
    /// A new passphrase was empty.
    #[error("an empty passphrase protects nothing; nothing was written")]
    EmptyPassphrase,
    /// The new passphrase and its confirmation differ.
    #[error("the two passphrases differ; nothing was written")]
    PassphrasesDiffer,
    /// `key_store = "keychain"` and the keychain has no such item.
    #[error("no local key: FNOX_LOCAL_KEY is not set and there is no {item}")]
    NoKeychainKey {
        /// The item (`keychain item fnox/PATH`).
        item: String,
    },
    /// The OS keychain could not be read or written.
    #[error("{item}: {reason}")]
    Keychain {
        /// The item (`keychain item fnox/PATH`).
        item: String,
        /// What the keychain said.
        reason: String,
    },
}

#[cfg(feature = "vault-transit")]
impl From<super::vault_transit::error::TransitError> for ProviderError {
    fn from(e: super::vault_transit::error::TransitError) -> Self {
        Self::Transit(Box::new(e))
    }
}

impl From<crate::codec::BadBase64> for ProviderError {
    fn from(_: crate::codec::BadBase64) -> Self {
        Self::BadBase64
    }
}

impl ProviderError {
    /// Whether the provider could not be set up at all (its client is set
    /// up on first use): every value of it fails alike, and the error is
    /// the provider's, not one value's.
    pub fn is_setup(&self) -> bool {
        #[cfg(feature = "aws-kms")]
        if matches!(self, Self::KmsNoRegion) {
            return true;
        }
        false
    }

    /// What to do about it, where known. `name` is the secret, when there is one.
    pub fn hints(&self, name: Option<&str>) -> Vec<Hint> {
        let secret = name.map(str::to_string);
        let set_again = |damage| Hint::SetAgain { secret: secret.clone(), damage };
        vec![match self {
            Self::BadBase64 | Self::Truncated { .. } | Self::UnknownVersion(_) => {
                set_again(Damage::Damaged)
            }
            Self::Tampered => set_again(Damage::Moved),
            Self::AgeTampered => set_again(Damage::Damaged),
            Self::Envelope(_) => set_again(Damage::DamagedOrMoved),
            Self::NoLocalKey { .. } => Hint::BringLocalKey { key_ids: Vec::new() },
            Self::UnknownKeyId { id, .. } => Hint::BringLocalKey { key_ids: vec![id.clone()] },
            Self::KeyFileTooOpen { path, .. } => Hint::ChmodKeyFile { path: path.clone() },
            Self::KeyFileInGitTree { path, .. } => Hint::IgnoreKeyFile { path: path.clone() },
            Self::BadKey { .. } => Hint::LocalKeyFormat,
            Self::NoAgeIdentity { .. } => Hint::CreateAgeIdentity,
            Self::AgeNoMatchingKey { .. } => Hint::AddRecipientAndRotate,
            Self::BadRecipient { .. } | Self::NoRecipients => Hint::AgeRecipients,
            #[cfg(feature = "aws-kms")]
            Self::Kms { kind, action, .. } => Hint::Kms { kind: *kind, action },
            #[cfg(feature = "aws-kms")]
            Self::KmsNoRegion => Hint::KmsRegion,
            #[cfg(feature = "vault-transit")]
            Self::Transit(e) => return e.hints(name),
            Self::IdentityProvider { source, .. } => return source.hints(),
            Self::IdentityDecrypt { provider, source } => match source.as_ref() {
                Self::BadBase64
                | Self::Truncated { .. }
                | Self::UnknownVersion(_)
                | Self::Tampered
                | Self::AgeTampered
                | Self::Envelope(_) => Hint::IdentityValue { provider: provider.clone() },
                #[cfg(feature = "aws-kms")]
                Self::Kms { kind: crate::failure::KmsErrorKind::InvalidCiphertext, .. } => {
                    Hint::IdentityValue { provider: provider.clone() }
                }
                other => return other.hints(None),
            },
            Self::IdentityUndefined { defined, .. } => Hint::DefinedProviders(defined.clone()),
            Self::FileKey(e) => return e.hints(secret),
            Self::FileKeyUnwrap { provider, source } => {
                let restore = Hint::RestoreDataKey { provider: provider.clone() };
                match source.as_ref() {
                    #[cfg(feature = "aws-kms")]
                    Self::Kms { kind: crate::failure::KmsErrorKind::InvalidCiphertext, .. } => {
                        restore
                    }
                    Self::FileKey(_) | Self::Tampered | Self::BadBase64 => restore,
                    other => return other.hints(None),
                }
            }
            Self::AgePluginMissing { binary } => Hint::InstallAgePlugin { binary: binary.clone() },
            Self::AgePluginNeedsInput { .. } => Hint::AgePluginTerminal,
            Self::AgePassphraseNeedsTerminal { .. } => Hint::AgePassphraseTerminal,
            Self::LocalKeyringNeedsTerminal { .. } => Hint::LocalKeyringTerminal,
            Self::Keychain { .. } => Hint::Keychain,
            Self::NoKeychainKey { .. } => Hint::BringLocalKey { key_ids: Vec::new() },
            _ => return Vec::new(),
        }]
    }
}
