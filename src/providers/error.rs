//! Provider errors. None of them carries plaintext or key material.

use std::{io, path::PathBuf};

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
    #[error("{}", kind.message(action, key, endpoint))]
    Kms {
        /// The IAM action, e.g. `kms:Decrypt`.
        action: &'static str,
        /// The configured key id.
        key: String,
        /// The endpoint, as the user would recognise it.
        endpoint: String,
        /// What went wrong.
        kind: super::aws_kms::KmsErrorKind,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No AWS region anywhere.
    #[error(
        "no AWS region: the provider has no `region` and none is configured (AWS_REGION, profile)"
    )]
    KmsNoRegion,
    /// A `vault-transit` failure.
    #[error(transparent)]
    Transit(#[from] Box<super::vault_transit::error::TransitError>),
    /// An envelope that cannot be read.
    #[error(transparent)]
    Envelope(#[from] crate::envelope::EnvelopeError),
    /// An I/O error inside a cipher stream.
    #[error("i/o error")]
    Io(#[source] io::Error),
}

impl ProviderError {
    /// How to fix it, where known. `name` is the secret, when there is one.
    pub fn hint(&self, name: Option<&str>) -> Option<String> {
        let set_again = name.map_or_else(
            || "set the value again".to_string(),
            |n| format!("set the value again with `fnox set {n}`"),
        );
        Some(match self {
            Self::BadBase64 | Self::Truncated { .. } | Self::UnknownVersion(_) => {
                format!("the value in the file is damaged: {set_again}")
            }
            Self::Tampered => format!(
                "values cannot be copied between secret names; {set_again}"
            ),
            Self::NoLocalKey { .. } | Self::UnknownKeyId { .. } => format!(
                "the value was made with a local key from another machine: copy that keyring to $FNOX_CONFIG_DIR/local.key, or set FNOX_LOCAL_KEY; otherwise {set_again}"
            ),
            Self::BadKey { .. } => {
                "FNOX_LOCAL_KEY must be the base64 of 32 bytes, as in the keyring file".into()
            }
            Self::NoAgeIdentity { .. } => "set FNOX_AGE_KEY_FILE to your age identity file, or run `fnox init --provider age` to create one".into(),
            Self::AgeNoMatchingKey { .. } => "ask a teammate whose key can read it to add your recipient and run `fnox rotate`, or point FNOX_AGE_KEY_FILE at the right identity".into(),
            Self::Kms { kind, action, .. } => return kind.hint(action),
            Self::Transit(e) => return e.hint(name),
            Self::KmsNoRegion => "set `region = \"...\"` in the provider, or AWS_REGION".into(),
            Self::Envelope(_) => format!("the value in the file is damaged or was moved: {set_again}"),
            Self::BadRecipient { .. } | Self::NoRecipients => {
                "list recipients as `recipients = [\"age1...\"]` in the provider".into()
            }
            _ => return None,
        })
    }
}
