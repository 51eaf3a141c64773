//! The `plain` provider (as in jdx/fnox): the secret's `value` is the value
//! itself, as written, for settings that are not secret. Nothing is
//! encrypted; a plain value is shown in clear by `exec --redact` and not
//! masked in CI unless its entry says `sensitive = true`.
//!
//! jdx/fnox's `file` and `format` (look the value up in a plaintext file)
//! load, and such a provider refuses to be used.

use async_trait::async_trait;

use super::{error::ProviderError, provider::Provider};
use crate::{config::PlainConfig, secret::SecretBytes};

/// The `plain` provider.
#[derive(Debug)]
pub struct PlainProvider;

impl PlainProvider {
    pub(super) fn new(config: &PlainConfig) -> Result<Self, ProviderError> {
        match &config.file {
            Some(file) => Err(ProviderError::PlainFile { file: file.clone() }),
            None => Ok(Self),
        }
    }
}

/// The text stored for `plaintext`: the value itself, which must be text.
pub fn stored_text(plaintext: &SecretBytes) -> Result<String, ProviderError> {
    std::str::from_utf8(plaintext.expose())
        .map(str::to_string)
        .map_err(|_| ProviderError::PlainNotText)
}

#[async_trait]
impl Provider for PlainProvider {
    async fn encrypt(
        &self,
        _name: &str,
        plaintext: &SecretBytes,
    ) -> Result<Vec<u8>, ProviderError> {
        Ok(plaintext.expose().to_vec())
    }

    async fn decrypt(&self, _name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        Ok(SecretBytes::from_slice(ciphertext))
    }

    fn stores_plaintext(&self) -> bool {
        true
    }

    fn encode(&self, ciphertext: &[u8]) -> String {
        String::from_utf8_lossy(ciphertext).into_owned()
    }

    fn decode(&self, stored: &str) -> Result<Vec<u8>, ProviderError> {
        Ok(stored.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_value_is_stored_as_written() {
        let p = PlainProvider::new(&PlainConfig::default()).unwrap();
        let value = SecretBytes::from_slice("debug ✓\n".as_bytes());
        let stored = crate::value::seal(&p, "LEVEL", &value, false).await.unwrap();
        assert_eq!(stored, "debug ✓\n");
        let opened = crate::value::open(&p, "OTHER", "FNXE looks like an envelope").await.unwrap();
        assert_eq!(opened.expose(), b"FNXE looks like an envelope");
        let binary = SecretBytes::from_slice(&[0xff, 0]);
        let err = crate::value::seal(&p, "B", &binary, false).await.unwrap_err();
        assert!(matches!(err, ProviderError::PlainNotText), "{err:?}");
        let err = crate::value::seal(&p, "E", &value, true).await.unwrap_err();
        assert!(matches!(err, ProviderError::PlainEnvelope), "{err:?}");
    }

    #[test]
    fn a_file_to_read_values_from_is_refused() {
        let config = PlainConfig { file: Some("values.env".into()) };
        let err = PlainProvider::new(&config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reading values from a file (`file = \"values.env\"`) is not supported by fnox; put each value in its secret's `value`"
        );
    }
}
