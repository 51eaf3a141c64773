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

/// Whether `plaintext` is sealed in an envelope: as [`wants_envelope`]
/// says, and always for a value that looks like a wrapped data key (a
/// direct value of that form would be refused on read).
fn envelope_for(provider: &dyn Provider, plaintext: &SecretBytes, forced: bool) -> bool {
    wants_envelope(provider, plaintext.len(), forced)
        || envelope::is_marked_data_key(plaintext.expose())
}

/// Encrypts `plaintext` for secret `name` and returns the stored text. With
/// `envelope`, or when the provider wants it, the envelope format is used.
/// The `plain` provider stores the text itself (and has no envelope).
pub async fn seal(
    provider: &dyn Provider,
    name: &str,
    plaintext: &SecretBytes,
    envelope: bool,
) -> Result<String, ProviderError> {
    if provider.stores_plaintext() {
        if envelope {
            return Err(ProviderError::PlainEnvelope);
        }
        return crate::providers::plain::stored_text(plaintext);
    }
    if envelope_for(provider, plaintext, envelope) {
        let (data_key, wrapped) = provider.new_data_key(name).await?;
        let bytes = envelope::seal(&data_key, &wrapped, name, plaintext.expose())?;
        return Ok(encode_base64(&bytes));
    }
    let ciphertext = provider.encrypt(name, plaintext).await?;
    Ok(provider.encode(&ciphertext))
}

/// Decrypts the stored text of secret `name`, direct or envelope (the
/// `plain` provider: the text itself).
pub async fn open(
    provider: &dyn Provider,
    name: &str,
    stored: &str,
) -> Result<SecretBytes, ProviderError> {
    if provider.stores_plaintext() {
        return Ok(SecretBytes::from_slice(stored.as_bytes()));
    }
    let bytes = provider.decode(stored)?;
    let form = Stored::parse(&bytes)?;
    let opened = provider.decrypt(&form.provider_binding(name), form.provider_ciphertext()).await?;
    Ok(form.finish(opened, name)?)
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::{codec, envelope::EnvelopeError};

    /// A toy provider: ciphertext = binding ‖ 0 ‖ plaintext; with `binds`,
    /// decryption checks the binding (as local, KMS and transit do),
    /// without it the binding is ignored (as age does).
    #[derive(Debug)]
    struct Toy {
        binds: bool,
    }

    #[async_trait]
    impl Provider for Toy {
        async fn encrypt(&self, name: &str, p: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
            Ok([name.as_bytes(), &[0], p.expose()].concat())
        }

        async fn decrypt(&self, name: &str, c: &[u8]) -> Result<SecretBytes, ProviderError> {
            let at = c.iter().position(|&b| b == 0).ok_or(ProviderError::Tampered)?;
            if self.binds && &c[..at] != name.as_bytes() {
                return Err(ProviderError::Tampered);
            }
            Ok(SecretBytes::from_slice(&c[at + 1..]))
        }
    }

    /// The stored text of an envelope's wrapped key put in as a direct value.
    fn wrapped_key_as_value(stored: &str) -> String {
        let bytes = codec::decode_base64(stored).unwrap();
        let Stored::Envelope(env) = Stored::parse(&bytes).unwrap() else { panic!("direct") };
        encode_base64(env.wrapped_key)
    }

    #[tokio::test]
    async fn a_wrapped_data_key_never_opens_as_a_value() {
        for binds in [true, false] {
            let toy = Toy { binds };
            let stored = seal(&toy, "A", &SecretBytes::from_slice(b"plain"), true).await.unwrap();
            assert_eq!(open(&toy, "A", &stored).await.unwrap().expose(), b"plain");
            let attack = wrapped_key_as_value(&stored);
            let err = open(&toy, "A", &attack).await.unwrap_err();
            let expected = if binds { "Tampered" } else { "Envelope(DataKeyAsValue)" };
            assert_eq!(format!("{err:?}"), expected, "binds: {binds}");
            // The provider was given the data-key binding, not the name.
            let binding = crate::envelope::data_key_binding("A");
            assert!(codec::decode_base64(&attack).unwrap().starts_with(binding.as_bytes()));
        }
    }

    #[tokio::test]
    async fn a_value_shaped_like_a_wrapped_data_key_goes_into_an_envelope() {
        let toy = Toy { binds: false };
        let key = crate::envelope::generate_data_key();
        let lookalike = crate::envelope::mark_data_key(&key);
        let stored = seal(&toy, "A", &lookalike, false).await.unwrap();
        assert!(crate::envelope::is_envelope(&codec::decode_base64(&stored).unwrap()));
        assert_eq!(open(&toy, "A", &stored).await.unwrap().expose(), lookalike.expose());
    }

    #[tokio::test]
    async fn a_version_1_envelope_still_opens() {
        let toy = Toy { binds: true };
        let key = crate::envelope::generate_data_key();
        // Version 1 wrapped the bare key under the secret's own name.
        let wrapped = toy.encrypt("A", &key).await.unwrap();
        let mut bytes = crate::envelope::seal(&key, &wrapped, "A", b"old").unwrap();
        bytes[4] = crate::envelope::LEGACY_VERSION;
        let stored = encode_base64(&bytes);
        assert_eq!(open(&toy, "A", &stored).await.unwrap().expose(), b"old");
        assert!(matches!(
            open(&toy, "B", &stored).await,
            Err(ProviderError::Tampered | ProviderError::Envelope(EnvelopeError::Payload))
        ));
    }
}
