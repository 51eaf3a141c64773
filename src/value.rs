//! From plaintext to the text stored in `fnox.toml`, and back.
//!
//! This is the one place that knows the stored forms: the provider's direct
//! ciphertext, or the envelope format (detected by its magic on read, for
//! every provider).

use base64::Engine as _;

use crate::{
    envelope::{self, Envelope},
    providers::{Provider, ProviderError},
    secret::SecretBytes,
};

/// Whether a value of `len` bytes goes into an envelope.
pub fn wants_envelope(provider: &dyn Provider, len: usize, forced: bool) -> bool {
    forced || provider.always_envelope() || provider.direct_limit().is_some_and(|limit| len > limit)
}

/// Encrypts `plaintext` for secret `name` and returns the stored text. With
/// `envelope`, or when the provider wants it, the envelope format is used.
pub async fn seal(
    provider: &dyn Provider,
    name: &str,
    plaintext: &SecretBytes,
    envelope: bool,
) -> Result<String, ProviderError> {
    if wants_envelope(provider, plaintext.len(), envelope) {
        let (data_key, wrapped) = provider.new_data_key(name).await?;
        let bytes = envelope::seal(&data_key, &wrapped, name, plaintext.expose())?;
        return Ok(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let ciphertext = provider.encrypt(name, plaintext).await?;
    Ok(provider.encode(&ciphertext))
}

/// Decrypts the stored text of secret `name`, direct or envelope.
pub async fn open(
    provider: &dyn Provider,
    name: &str,
    stored: &str,
) -> Result<SecretBytes, ProviderError> {
    let bytes = provider.decode(stored)?;
    if envelope::is_envelope(&bytes) {
        let env = Envelope::parse(&bytes)?;
        let data_key = provider.decrypt(name, env.wrapped_key).await?;
        return Ok(env.open(&data_key, name)?);
    }
    provider.decrypt(name, &bytes).await
}
