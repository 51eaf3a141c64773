//! The stored value's format: the one place that knows its forms (a
//! provider's direct ciphertext, or the envelope format, detected by its
//! magic on read, for every provider) and the one base64 codec (standard,
//! padded, tolerant of line breaks on read). Pure: no provider, no I/O;
//! [`crate::value`] puts providers to work on it.

use base64::Engine as _;

use crate::{
    envelope::{self, Envelope, EnvelopeError},
    secret::SecretBytes,
};

/// A stored value that is not standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stored value is not valid base64")]
pub struct BadBase64;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Standard padded base64 of `bytes`.
pub fn encode_base64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// The bytes of standard base64 `text`. ASCII whitespace is ignored, so a
/// value pasted from `base64` with line breaks still reads.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, BadBase64> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    // Whitespace is at or below ' ', the base64 alphabet above it: the
    // check runs on whole vectors, and any other byte down there fails
    // the decoding either way.
    let result = if text.bytes().fold(false, |low, b| low | (b <= b' ')) {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        B64.decode_vec(compact, &mut out)
    } else {
        B64.decode_vec(text, &mut out)
    };
    result.map(|()| out).map_err(|_| BadBase64)
}

/// `n` random bytes from the OS generator, as hex (for unique markers,
/// never for keys).
pub fn random_hex(n: usize) -> String {
    let mut raw = vec![0u8; n];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
    hex::encode(raw)
}

/// A stored value's bytes, by form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// The provider's own ciphertext of the value.
    Direct(&'a [u8]),
    /// An envelope: the provider wrapped only its data key.
    Envelope(Envelope<'a>),
}

impl<'a> Stored<'a> {
    /// Tells the form of `bytes` (an envelope by its magic) and parses it.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        if envelope::is_envelope(bytes) {
            Envelope::parse(bytes).map(Self::Envelope)
        } else {
            Ok(Self::Direct(bytes))
        }
    }

    /// What the provider decrypts: the direct ciphertext, or the
    /// envelope's wrapped data key.
    pub fn provider_ciphertext(&self) -> &'a [u8] {
        match self {
            Self::Direct(bytes) => bytes,
            Self::Envelope(env) => env.wrapped_key,
        }
    }

    /// What the provider binds [`Stored::provider_ciphertext`] of secret
    /// `name` to: the name for a direct value, the data-key binding for an
    /// envelope's wrapped key (the name itself in a version-1 envelope).
    pub fn provider_binding(&self, name: &str) -> String {
        match self {
            Self::Direct(_) => name.to_string(),
            Self::Envelope(env) => env.key_binding(name),
        }
    }

    /// The plaintext, given what the provider made of
    /// [`Stored::provider_ciphertext`] for secret `name`. A direct value
    /// that turns out to be a wrapped data key is refused: its bytes were
    /// copied out of an envelope.
    pub fn finish(&self, opened: SecretBytes, name: &str) -> Result<SecretBytes, EnvelopeError> {
        match self {
            Self::Direct(_) if envelope::is_marked_data_key(opened.expose()) => {
                Err(EnvelopeError::DataKeyAsValue)
            }
            Self::Direct(_) => Ok(opened),
            Self::Envelope(env) => env.open(&opened, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_tolerates_line_breaks_and_rejects_garbage() {
        assert_eq!(decode_base64("Rk5Y\nRQE=").unwrap(), b"FNXE\x01");
        assert_eq!(decode_base64(" aGk=\r\n").unwrap(), b"hi");
        assert_eq!(decode_base64("not base64!"), Err(BadBase64));
        assert_eq!(decode_base64("aGk"), Err(BadBase64));
        assert_eq!(encode_base64(b"hi"), "aGk=");
    }

    #[test]
    fn forms_are_told_apart_by_the_magic() {
        let key = envelope::generate_data_key();
        let sealed = envelope::seal(&key, b"wrapped", "A", b"payload").unwrap();
        let form = Stored::parse(&sealed).unwrap();
        assert!(matches!(form, Stored::Envelope(_)));
        assert_eq!(form.provider_ciphertext(), b"wrapped");
        assert_eq!(form.finish(key.clone(), "A").unwrap().expose(), b"payload");
        assert!(form.finish(key, "B").is_err());
        let direct = Stored::parse(b"\x01abcd").unwrap();
        assert_eq!(direct, Stored::Direct(b"\x01abcd"));
        assert_eq!(direct.provider_ciphertext(), b"\x01abcd");
        assert_eq!(
            Stored::parse(b"FNXE\x02").unwrap_err(),
            EnvelopeError::Truncated,
            "a short envelope is truncated before its version is looked at"
        );
    }
}
