//! From plaintext to the text stored in `fnox.toml`, and back.
//!
//! This is the one place that knows the stored forms: today the provider's
//! direct ciphertext; the envelope format plugs in here.

use crate::{
    providers::{Provider, ProviderError},
    secret::SecretBytes,
};

/// Encrypts `plaintext` for secret `name` and returns the stored text.
pub async fn seal(
    provider: &dyn Provider,
    name: &str,
    plaintext: &SecretBytes,
) -> Result<String, ProviderError> {
    let ciphertext = provider.encrypt(name, plaintext).await?;
    Ok(provider.encode(&ciphertext))
}

/// Decrypts the stored text of secret `name`.
pub async fn open(
    provider: &dyn Provider,
    name: &str,
    stored: &str,
) -> Result<SecretBytes, ProviderError> {
    let ciphertext = provider.decode(stored)?;
    provider.decrypt(name, &ciphertext).await
}
