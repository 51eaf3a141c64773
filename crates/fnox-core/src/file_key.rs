//! Data-key mode (`data_key = true` on an `aws-kms` or `vault-transit`
//! provider): one random 256-bit data key per (provider, file), wrapped
//! once by the key service and stored in the file's `[data_keys]` table;
//! each value of that provider in that file is AES-256-GCM under it. So
//! reading any number of values costs one unwrap per (provider, file).
//!
//! Formats (pure: no I/O, no provider):
//! - the `[data_keys]` line: `PROVIDER = "v1:ID:WRAPPED"`, ID 32 hex digits
//!   (16 random bytes), WRAPPED the provider's stored text of the wrapped
//!   key (base64 of a KMS blob, a transit `vault:vN:...` string);
//! - the wrapped plaintext: [`crate::envelope::DATA_KEY_MARKER`] ‖ key,
//!   under the binding [`binding`] (`fnox:file-key:ID:PROVIDER`: KMS
//!   EncryptionContext `fnox:data-key-id` = ID, `fnox:provider` = PROVIDER;
//!   transit context = base64 of the binding);
//! - a value (before base64): `"FNXK" ‖ 0x01 ‖ ID (16) ‖ nonce (12) ‖
//!   ciphertext ‖ tag (16)`, AAD = `"FNXK" ‖ 0x01 ‖ ID ‖ secret name`.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use rand::RngCore;

use crate::{
    envelope,
    hint::{Damage, Hint},
    secret::SecretBytes,
};

/// The magic bytes that start every data-key value.
pub const MAGIC: &[u8; 4] = b"FNXK";
/// The value format's version.
pub const VERSION: u8 = 1;
/// The `[data_keys]` line's version prefix.
const LINE_VERSION: &str = "v1";
/// What a data key's binding (the name given to the provider) starts with.
const BINDING: &str = "fnox:file-key:";
/// Length of a data key's id.
pub const ID_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 4 + 1 + ID_LEN;

/// Why a data key or a data-key value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileKeyError {
    /// The value is shorter than its fields.
    #[error("the data-key value is truncated")]
    Truncated,
    /// A value format version this build does not know.
    #[error("unknown data-key value version {0}")]
    Version(u8),
    /// The file has no `[data_keys]` entry for the provider.
    #[error(
        "the value is encrypted under a data key of provider `{provider}`, and its file has no `[data_keys]` entry `{provider}`"
    )]
    Missing {
        /// The provider.
        provider: String,
    },
    /// The value names another data key than the file's.
    #[error(
        "the value was made under data key {value_id}, and the file's data key of provider `{provider}` is {file_id}: it was copied from another file, or the data key was replaced"
    )]
    OtherKey {
        /// The provider.
        provider: String,
        /// The id in the value.
        value_id: String,
        /// The id in `[data_keys]`.
        file_id: String,
    },
    /// A `[data_keys]` line that does not parse.
    #[error("the `[data_keys]` entry of provider `{provider}` is not `v1:ID:WRAPPED`")]
    BadLine {
        /// The provider.
        provider: String,
    },
    /// The unwrapped data key is not a marked 256-bit key.
    #[error(
        "the `[data_keys]` entry of provider `{provider}` does not unwrap to a data key: it was tampered with"
    )]
    NotAKey {
        /// The provider.
        provider: String,
    },
    /// A data-key value read without its file (so without its data key).
    #[error("the value is under its file's data key, and was read without its file")]
    NeedsFile,
    /// `--new-data-key` would replace a data key that values outside the
    /// rotation (another profile's, or left out by a filter) still need.
    #[error(
        "--new-data-key replaces the data key of provider `{provider}` in this file, and other values under it are not part of this rotation (another profile's, or left out by a filter or by names): they would no longer open. Rotate them together (--all-profiles, without a filter or names)"
    )]
    NotAllSelected {
        /// The provider.
        provider: String,
    },
    /// The payload failed authentication.
    #[error(
        "the value does not decrypt under this secret's name and its file's data key: it was moved from another secret, or tampered with"
    )]
    Payload,
}

impl FileKeyError {
    /// What to do about it: store the value again, or bring back the
    /// file's `[data_keys]` entry (from git) when that is what is wrong.
    pub fn hints(&self, secret: Option<String>) -> Vec<Hint> {
        vec![match self {
            Self::Missing { provider }
            | Self::BadLine { provider }
            | Self::NotAKey { provider } => Hint::RestoreDataKey { provider: provider.clone() },
            Self::NeedsFile | Self::NotAllSelected { .. } => return Vec::new(),
            Self::OtherKey { .. } => Hint::SetAgain { secret, damage: Damage::Moved },
            Self::Truncated | Self::Version(_) | Self::Payload => {
                Hint::SetAgain { secret, damage: Damage::DamagedOrMoved }
            }
        }]
    }
}

/// A data key's id: 16 random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; ID_LEN]);

impl KeyId {
    /// A fresh random id.
    pub fn random() -> Self {
        let mut id = [0u8; ID_LEN];
        rand::rngs::OsRng.fill_bytes(&mut id);
        Self(id)
    }

    /// As 32 hex digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    fn parse_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

/// One `[data_keys]` entry: the id and the provider's stored text of the
/// wrapped key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKeyLine {
    /// The data key's id.
    pub id: KeyId,
    /// The wrapped key, as the provider stores ciphertext.
    pub wrapped: String,
}

impl FileKeyLine {
    /// Parses the line of provider `provider`.
    pub fn parse(provider: &str, text: &str) -> Result<Self, FileKeyError> {
        let bad = || FileKeyError::BadLine { provider: provider.to_string() };
        let rest = text.trim().strip_prefix(LINE_VERSION).and_then(|r| r.strip_prefix(':'));
        let (id, wrapped) = rest.and_then(|r| r.split_once(':')).ok_or_else(bad)?;
        let id = KeyId::parse_hex(id).ok_or_else(bad)?;
        if wrapped.is_empty() {
            return Err(bad());
        }
        Ok(Self { id, wrapped: wrapped.to_string() })
    }

    /// The text stored in `[data_keys]`.
    pub fn to_text(&self) -> String {
        format!("{LINE_VERSION}:{}:{}", self.id.hex(), self.wrapped)
    }
}

/// The name a provider binds the data key `id` of provider `provider` to:
/// `fnox:file-key:ID:PROVIDER` (never a secret name, which has no `:`).
pub fn binding(provider: &str, id: &KeyId) -> String {
    format!("{BINDING}{}:{provider}", id.hex())
}

/// The id (hex) and provider name of a data-key binding.
pub fn binding_parts(binding: &str) -> Option<(&str, &str)> {
    let rest = binding.strip_prefix(BINDING)?;
    let (id, provider) = rest.split_at_checked(ID_LEN * 2)?;
    Some((id, provider.strip_prefix(':')?))
}

/// A fresh data key.
pub fn generate() -> SecretBytes {
    envelope::generate_data_key()
}

/// The data key in the plaintext a provider unwrapped for provider
/// `provider`: it must be a marked 256-bit key.
pub fn unwrapped(provider: &str, opened: &SecretBytes) -> Result<SecretBytes, FileKeyError> {
    if !envelope::is_marked_data_key(opened.expose()) {
        return Err(FileKeyError::NotAKey { provider: provider.to_string() });
    }
    Ok(envelope::unwrapped_data_key(opened))
}

/// True when `bytes` start with the data-key value magic.
pub fn is_value(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn aad(id: &KeyId, name: &str) -> Vec<u8> {
    [&MAGIC[..], &[VERSION], &id.0, name.as_bytes()].concat()
}

fn cipher(key: &SecretBytes) -> Aes256Gcm {
    Aes256Gcm::new_from_slice(key.expose()).expect("a data key is 32 bytes")
}

/// The value of secret `name`: `plaintext` under data key `key` (id `id`).
pub fn seal(key: &SecretBytes, id: &KeyId, name: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = aad(id, name);
    let sealed = cipher(key)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .expect("AES-GCM encryption of an in-memory buffer does not fail");
    [&MAGIC[..], &[VERSION], &id.0, &nonce, &sealed].concat()
}

/// The id of the data key a value was made under, checking its header.
pub fn value_id(bytes: &[u8]) -> Result<KeyId, FileKeyError> {
    if bytes.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || !is_value(bytes) {
        return Err(FileKeyError::Truncated);
    }
    if bytes[4] != VERSION {
        return Err(FileKeyError::Version(bytes[4]));
    }
    Ok(KeyId(bytes[5..HEADER_LEN].try_into().expect("16 bytes")))
}

/// The plaintext of value `bytes` of secret `name` under data key `key`.
pub fn open(key: &SecretBytes, name: &str, bytes: &[u8]) -> Result<SecretBytes, FileKeyError> {
    let id = value_id(bytes)?;
    let (nonce, sealed) = bytes[HEADER_LEN..].split_at(NONCE_LEN);
    let aad = aad(&id, name);
    cipher(key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
        .map(SecretBytes::new)
        .map_err(|_| FileKeyError::Payload)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_value_opens_under_its_name_and_key_only() {
        let (key, id) = (generate(), KeyId::random());
        let v = seal(&key, &id, "A", b"secret");
        assert_eq!(value_id(&v).unwrap(), id);
        assert_eq!(open(&key, "A", &v).unwrap().expose(), b"secret");
        assert_eq!(open(&key, "B", &v).unwrap_err(), FileKeyError::Payload);
        assert_eq!(open(&generate(), "A", &v).unwrap_err(), FileKeyError::Payload);
        let mut other_id = v.clone();
        other_id[5] ^= 1;
        assert_eq!(open(&key, "A", &other_id).unwrap_err(), FileKeyError::Payload);
        assert_eq!(value_id(&v[..20]).unwrap_err(), FileKeyError::Truncated);
        let mut v2 = v;
        v2[4] = 2;
        assert_eq!(value_id(&v2).unwrap_err(), FileKeyError::Version(2));
    }

    #[test]
    fn lines_and_bindings_round_trip() {
        let id = KeyId([0xab; 16]);
        let line = FileKeyLine { id, wrapped: "vault:v1:abc".into() };
        let text = line.to_text();
        assert_eq!(text, format!("v1:{}:vault:v1:abc", "ab".repeat(16)));
        assert_eq!(FileKeyLine::parse("kms", &text).unwrap(), line);
        for bad in ["", "v1:", "v2:abab:x", &format!("v1:{}:", "ab".repeat(16)), "v1:zz:x"] {
            assert!(FileKeyLine::parse("kms", bad).is_err(), "{bad:?}");
        }
        let b = binding("my:kms", &id);
        assert_eq!(b, format!("fnox:file-key:{}:my:kms", "ab".repeat(16)));
        assert_eq!(binding_parts(&b), Some(("abababababababababababababababab", "my:kms")));
        assert_eq!(binding_parts("fnox:data-key:A"), None);
        assert_eq!(binding_parts("A"), None);
    }

    #[test]
    fn only_a_marked_key_is_a_data_key() {
        let key = generate();
        let marked = envelope::mark_data_key(&key);
        assert_eq!(unwrapped("kms", &marked).unwrap().expose(), key.expose());
        assert!(unwrapped("kms", &key).is_err());
    }

    proptest! {
        #[test]
        fn any_flipped_bit_fails(byte in 0usize..64, bit in 0u8..8) {
            let (key, id) = (generate(), KeyId([7; 16]));
            let mut v = seal(&key, &id, "A", b"0123456789abcdef0123456789");
            let at = byte % v.len();
            v[at] ^= 1 << bit;
            prop_assert!(open(&key, "A", &v).is_err());
        }
    }
}
