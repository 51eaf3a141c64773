//! The zeroizing secret value type.
//!
//! Plaintext never lives in a `String` or `Vec<u8>` that outlives its use: it
//! is held in a [`SecretBytes`], whose memory is wiped on drop and whose
//! `Debug` output is `[redacted]`. Call [`SecretBytes::expose`] only at the
//! point that needs the bytes (the cipher, stdout, the child environment).

use std::fmt;

use secrecy::{ExposeSecret, SecretSlice};

/// Secret bytes (a plaintext value or key material), wiped from memory on drop.
pub struct SecretBytes(SecretSlice<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when the value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The plaintext bytes. Keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Length in bytes (not secret: it is visible in the ciphertext anyway).
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// True for the empty value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Clone for SecretBytes {
    fn clone(&self) -> Self {
        Self::from_slice(self.expose())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretBytes {
    fn from(s: String) -> Self {
        Self::new(s.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = SecretBytes::from_slice(b"hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(s.expose(), b"hunter2");
    }
}
