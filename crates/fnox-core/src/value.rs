//! From plaintext to the text stored in `fnox.toml`, and back: a provider
//! applied to the stored-value format of [`crate::codec`].

use crate::{
    codec::{Stored, encode_base64},
    envelope,
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
        return Ok(encode_base64(&bytes));
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
    let form = Stored::parse(&bytes)?;
    let opened = provider.decrypt(name, form.provider_ciphertext()).await?;
    Ok(form.finish(opened, name)?)
}
