//! The envelope format, for large values and for rotation without
//! re-encrypting data: a random 256-bit data key encrypts the value with
//! AES-256-GCM, and the provider wraps only the data key.
//!
//! Layout (before base64):
//! `"FNXE" ‖ version ‖ u32 BE length of wrapped key ‖ wrapped key ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//! The payload's AAD is `"FNXE" ‖ 0x01 ‖ secret name` in every version: it
//! binds the name but not the wrapped key, so re-wrapping the data key (or
//! upgrading the envelope's version) leaves the payload bytes untouched.
//!
//! Version 2 binds the wrapped data key apart from a direct value: the
//! provider wraps it under [`data_key_binding`] of the name (another AAD,
//! KMS EncryptionContext entry or transit context than the value's), and
//! the wrapped plaintext starts with [`DATA_KEY_MARKER`] where fnox makes
//! the key (every provider but KMS, whose `GenerateDataKey` makes it). So
//! an envelope's wrapped key put in place of a value never decrypts to the
//! data key. Version 1 wrapped the key exactly like a value; it still
//! reads, and `rotate` upgrades it. This module is pure: no I/O, no
//! provider.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, AeadInPlace, Payload},
};
use rand::RngCore;

use crate::secret::SecretBytes;

/// The magic bytes that start every envelope.
pub const MAGIC: &[u8; 4] = b"FNXE";
/// The version written: the data key is bound as a data key.
pub const VERSION: u8 = 2;
/// The first version: the data key was wrapped like a direct value.
pub const LEGACY_VERSION: u8 = 1;
/// The version byte in the payload's AAD, the same in every version.
const PAYLOAD_AAD_VERSION: u8 = 1;
/// What the plaintext of a data key wrapped by fnox starts with.
pub const DATA_KEY_MARKER: &[u8; 14] = b"fnox:data-key\0";
/// What a data key's binding (the name given to the provider) starts with.
const DATA_KEY_BINDING: &str = "fnox:data-key:";
/// The largest wrapped key accepted; checked before any allocation.
pub const MAX_WRAPPED_KEY: usize = 64 * 1024;
/// Size of a data key.
pub const DATA_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 4 + 1 + 4;

/// Why an envelope cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Shorter than its own fields say.
    #[error("the envelope is truncated")]
    Truncated,
    /// A version this build does not know.
    #[error("unknown envelope version {0}")]
    Version(u8),
    /// The wrapped-key length is beyond [`MAX_WRAPPED_KEY`].
    #[error("the envelope's wrapped key claims {0} bytes (at most 65536 are allowed)")]
    WrappedKeyTooLarge(u32),
    /// The payload failed authentication (wrong name, modified bytes).
    #[error(
        "the envelope payload does not decrypt under this secret's name: it was moved from another secret, or tampered with"
    )]
    Payload,
    /// The unwrapped data key is not 32 bytes.
    #[error("the unwrapped data key is {0} bytes, not 32")]
    DataKeyLength(usize),
    /// A direct value decrypted to a wrapped data key: an envelope's key
    /// was put in place of the value.
    #[error(
        "the stored value is an envelope's wrapped data key, not a value: it was copied from an envelope, or tampered with"
    )]
    DataKeyAsValue,
}

/// The name a provider binds a data key of secret `name` to, apart from
/// the secret's own values (`fnox:data-key:NAME`; a secret name has no `:`).
pub fn data_key_binding(name: &str) -> String {
    format!("{DATA_KEY_BINDING}{name}")
}

/// The secret whose data key `binding` names, if it is a data-key binding.
pub fn data_key_of(binding: &str) -> Option<&str> {
    binding.strip_prefix(DATA_KEY_BINDING)
}

/// The plaintext fnox wraps for `data_key`: the marker, then the key.
pub fn mark_data_key(data_key: &SecretBytes) -> SecretBytes {
    SecretBytes::new([&DATA_KEY_MARKER[..], data_key.expose()].concat())
}

/// True when a decrypted value has the form of a marked data key.
pub fn is_marked_data_key(plaintext: &[u8]) -> bool {
    plaintext.len() == DATA_KEY_MARKER.len() + DATA_KEY_LEN
        && plaintext.starts_with(DATA_KEY_MARKER)
}

/// The data key in an unwrapped plaintext: marked (made by fnox), or the
/// bare key (made by the key service, or a version-1 envelope).
pub fn unwrapped_data_key(opened: &SecretBytes) -> SecretBytes {
    if is_marked_data_key(opened.expose()) {
        SecretBytes::from_slice(&opened.expose()[DATA_KEY_MARKER.len()..])
    } else {
        opened.clone()
    }
}

/// A parsed envelope, borrowing from the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The provider-wrapped data key.
    pub wrapped_key: &'a [u8],
    /// The payload nonce.
    pub nonce: &'a [u8],
    /// Ciphertext followed by the 16-byte tag.
    pub sealed: &'a [u8],
    /// [`VERSION`], or [`LEGACY_VERSION`] for a data key wrapped like a value.
    pub version: u8,
}

/// True when `bytes` start with the envelope magic (any version).
pub fn is_envelope(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

impl<'a> Envelope<'a> {
    /// Parses `bytes`, checking every length before using it.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() < HEADER_LEN || !is_envelope(bytes) {
            return Err(EnvelopeError::Truncated);
        }
        let version = bytes[4];
        if version != VERSION && version != LEGACY_VERSION {
            return Err(EnvelopeError::Version(version));
        }
        let len = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
        let wrapped_len = len as usize;
        if wrapped_len > MAX_WRAPPED_KEY {
            return Err(EnvelopeError::WrappedKeyTooLarge(len));
        }
        let rest = &bytes[HEADER_LEN..];
        if rest.len() < wrapped_len + NONCE_LEN + TAG_LEN {
            return Err(EnvelopeError::Truncated);
        }
        let (wrapped_key, rest) = rest.split_at(wrapped_len);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        Ok(Self { wrapped_key, nonce, sealed, version })
    }

    /// What the provider binds the wrapped key of secret `name` to: its
    /// data-key binding, or (version 1) the name itself.
    pub fn key_binding(&self, name: &str) -> String {
        if self.version == LEGACY_VERSION { name.to_string() } else { data_key_binding(name) }
    }

    /// True for a version-1 envelope, which `rotate` upgrades.
    pub fn is_legacy(&self) -> bool {
        self.version == LEGACY_VERSION
    }

    /// The stored bytes of this envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(HEADER_LEN + self.wrapped_key.len() + NONCE_LEN + self.sealed.len());
        out.extend_from_slice(MAGIC);
        out.push(self.version);
        out.extend_from_slice(&(self.wrapped_key.len() as u32).to_be_bytes());
        out.extend_from_slice(self.wrapped_key);
        out.extend_from_slice(self.nonce);
        out.extend_from_slice(self.sealed);
        out
    }

    /// The same envelope with another wrapped key (a re-wrap): the payload
    /// bytes are copied unchanged.
    pub fn with_wrapped_key(&self, wrapped_key: &[u8]) -> Vec<u8> {
        Envelope { wrapped_key, ..*self }.to_bytes()
    }

    /// The same envelope, as the current version, with `wrapped_key` (a
    /// data key wrapped under its data-key binding); the payload bytes are
    /// copied unchanged.
    pub fn upgraded(&self, wrapped_key: &[u8]) -> Vec<u8> {
        Envelope { wrapped_key, version: VERSION, ..*self }.to_bytes()
    }

    /// Decrypts the payload with `data_key`, what the provider unwrapped
    /// (marked or not).
    pub fn open(&self, data_key: &SecretBytes, name: &str) -> Result<SecretBytes, EnvelopeError> {
        let cipher = cipher(&unwrapped_data_key(data_key))?;
        cipher
            .decrypt(Nonce::from_slice(self.nonce), Payload { msg: self.sealed, aad: &aad(name) })
            .map(SecretBytes::new)
            .map_err(|_| EnvelopeError::Payload)
    }
}

fn aad(name: &str) -> Vec<u8> {
    [&MAGIC[..], &[PAYLOAD_AAD_VERSION], name.as_bytes()].concat()
}

fn cipher(data_key: &SecretBytes) -> Result<Aes256Gcm, EnvelopeError> {
    if data_key.len() != DATA_KEY_LEN {
        return Err(EnvelopeError::DataKeyLength(data_key.len()));
    }
    Aes256Gcm::new_from_slice(data_key.expose())
        .map_err(|_| EnvelopeError::DataKeyLength(data_key.len()))
}

/// A fresh random data key.
pub fn generate_data_key() -> SecretBytes {
    let mut key = vec![0u8; DATA_KEY_LEN];
    rand::rngs::OsRng.fill_bytes(&mut key);
    SecretBytes::new(key)
}

/// Encrypts `plaintext` for `name` under `data_key` and lays out the
/// envelope around `wrapped_key`.
pub fn seal(
    data_key: &SecretBytes,
    wrapped_key: &[u8],
    name: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    if wrapped_key.len() > MAX_WRAPPED_KEY {
        return Err(EnvelopeError::WrappedKeyTooLarge(wrapped_key.len() as u32));
    }
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    // Lay out the envelope and encrypt the payload in place at its end, so
    // a large value is held once as plaintext and once as ciphertext.
    let head = HEADER_LEN + wrapped_key.len() + NONCE_LEN;
    let mut out = Vec::with_capacity(head + plaintext.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(wrapped_key.len() as u32).to_be_bytes());
    out.extend_from_slice(wrapped_key);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher(data_key)?
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), &aad(name), &mut out[head..])
        .map_err(|_| EnvelopeError::Payload)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn layout_is_byte_exact() {
        let key = generate_data_key();
        let bytes = seal(&key, b"WRAPPED", "N", b"hello").unwrap();
        assert_eq!(&bytes[..4], b"FNXE");
        assert_eq!(bytes[4], 2);
        assert_eq!(&bytes[5..9], &[0, 0, 0, 7]);
        assert_eq!(&bytes[9..16], b"WRAPPED");
        assert_eq!(bytes.len(), 9 + 7 + 12 + 5 + 16);
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(env.open(&key, "N").unwrap().expose(), b"hello");
        assert_eq!(env.open(&key, "M").unwrap_err(), EnvelopeError::Payload);
    }

    #[test]
    fn huge_wrapped_key_length_is_rejected_before_allocating() {
        let mut bytes = b"FNXE\x01".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        bytes.extend_from_slice(&[0u8; 40]);
        assert_eq!(Envelope::parse(&bytes), Err(EnvelopeError::WrappedKeyTooLarge(u32::MAX)));
        let mut bytes = b"FNXE\x01".to_vec();
        bytes.extend_from_slice(&(65_537u32).to_be_bytes());
        assert_eq!(Envelope::parse(&bytes), Err(EnvelopeError::WrappedKeyTooLarge(65_537)));
    }

    #[test]
    fn rewrap_keeps_payload_bytes() {
        let key = generate_data_key();
        let bytes = seal(&key, b"old-wrap", "N", b"payload").unwrap();
        let env = Envelope::parse(&bytes).unwrap();
        let rewrapped = env.with_wrapped_key(b"a much longer new wrapped key");
        let again = Envelope::parse(&rewrapped).unwrap();
        assert_eq!(again.nonce, env.nonce);
        assert_eq!(again.sealed, env.sealed);
        assert_eq!(again.open(&key, "N").unwrap().expose(), b"payload");
    }

    proptest! {
        #[test]
        fn round_trip(wrapped in proptest::collection::vec(any::<u8>(), 0..300),
                      plain in proptest::collection::vec(any::<u8>(), 0..2000),
                      name in "[A-Za-z_][A-Za-z0-9_]{0,20}") {
            let key = generate_data_key();
            let bytes = seal(&key, &wrapped, &name, &plain).unwrap();
            let env = Envelope::parse(&bytes).unwrap();
            prop_assert_eq!(env.wrapped_key, &wrapped[..]);
            let opened = env.open(&key, &name).unwrap();
            prop_assert_eq!(opened.expose(), &plain[..]);
            prop_assert_eq!(env.to_bytes(), bytes);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut with_magic = b"FNXE\x01".to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = Envelope::parse(&bytes);
            let _ = Envelope::parse(&with_magic);
        }

        #[test]
        fn any_truncation_fails(plain in proptest::collection::vec(any::<u8>(), 0..100), cut in any::<usize>()) {
            let key = generate_data_key();
            let bytes = seal(&key, b"wk", "N", &plain).unwrap();
            let cut = cut % bytes.len();
            let short = &bytes[..cut];
            let ok = Envelope::parse(short).and_then(|e| e.open(&key, "N"));
            prop_assert!(ok.is_err());
        }

        #[test]
        fn any_flipped_payload_byte_fails(plain in proptest::collection::vec(any::<u8>(), 1..100), idx in any::<usize>()) {
            let key = generate_data_key();
            let mut bytes = seal(&key, b"wk", "N", &plain).unwrap();
            // Header and wrapped key are checked by parse and by the provider;
            // nonce, ciphertext and tag by the AEAD.
            let start = 9 + 2;
            let i = start + idx % (bytes.len() - start);
            bytes[i] ^= 0x01;
            let ok = Envelope::parse(&bytes).and_then(|e| e.open(&key, "N"));
            prop_assert!(ok.is_err());
        }
    }
}
