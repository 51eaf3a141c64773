//! From plaintext to the text stored in `fnox.toml`, and back: a provider
//! applied to the stored-value format of [`crate::codec`].

use crate::{
    codec::{Stored, encode_base64},
    envelope,
    file_key::{self, FileKeyError, FileKeyLine, KeyId},
    providers::{Provider, ProviderError},
    secret::SecretBytes,
};

/// A file's data key of one provider (`data_key = true`), unwrapped.
#[derive(Debug, Clone)]
pub struct FileKey {
    /// Its id.
    pub id: KeyId,
    /// The key.
    pub key: SecretBytes,
    /// Its `[data_keys]` text.
    pub line: String,
}

/// What a write in data-key mode needs of a file's `[data_keys]` entry
/// of `provider`: that it is still `expect` (`None`: absent), and then
/// that it becomes `line` (`None`: removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyWrite {
    /// The provider.
    pub provider: String,
    /// The entry's text when the value was sealed.
    pub expect: Option<String>,
    /// Its text afterwards.
    pub line: Option<String>,
}

/// Unwraps `line`, the `[data_keys]` text of provider `provider_name`:
/// one request to the key service.
pub async fn unwrap_file_key(
    provider: &dyn Provider,
    provider_name: &str,
    line: &str,
) -> Result<FileKey, ProviderError> {
    let parsed = FileKeyLine::parse(provider_name, line)?;
    let wrapped = provider.decode(&parsed.wrapped)?;
    let opened = provider.decrypt(&file_key::binding(provider_name, &parsed.id), &wrapped).await?;
    let key = file_key::unwrapped(provider_name, &opened)?;
    Ok(FileKey { id: parsed.id, key, line: line.to_string() })
}

/// A new data key for provider `provider_name`, wrapped by it: one
/// request to the key service.
pub async fn new_file_key(
    provider: &dyn Provider,
    provider_name: &str,
) -> Result<FileKey, ProviderError> {
    let (id, key) = (KeyId::random(), file_key::generate());
    let marked = envelope::mark_data_key(&key);
    let wrapped = provider.encrypt(&file_key::binding(provider_name, &id), &marked).await?;
    let line = FileKeyLine { id, wrapped: provider.encode(&wrapped) }.to_text();
    Ok(FileKey { id, key, line })
}

/// The stored text of secret `name` under the file's data key `key`.
pub fn seal_under(key: &FileKey, name: &str, plaintext: &SecretBytes) -> String {
    encode_base64(&file_key::seal(&key.key, &key.id, name, plaintext.expose()))
}

/// The plaintext of data-key value `bytes` of secret `name` of provider
/// `provider_name`, under the file's data key `key`.
pub fn open_under(
    key: &FileKey,
    provider_name: &str,
    name: &str,
    bytes: &[u8],
) -> Result<SecretBytes, ProviderError> {
    let id = file_key::value_id(bytes)?;
    if id != key.id {
        return Err(FileKeyError::OtherKey {
            provider: provider_name.to_string(),
            value_id: id.hex(),
            file_id: key.id.hex(),
        }
        .into());
    }
    Ok(file_key::open(&key.key, name, bytes)?)
}

/// [`seal`] for a value in a file whose `[data_keys]` entry of provider
/// `provider_name` is `line`: a provider with `data_key = true` seals it
/// under that data key (unwrapped, or created when there is none), unless
/// an envelope is asked for. Also returns what the write must check and
/// change in `[data_keys]`.
pub async fn seal_in_file(
    provider: &dyn Provider,
    provider_name: &str,
    name: &str,
    plaintext: &SecretBytes,
    envelope: bool,
    line: Option<&str>,
) -> Result<(String, Option<DataKeyWrite>), ProviderError> {
    if !provider.data_key() || envelope || provider.stores_plaintext() {
        return Ok((seal(provider, name, plaintext, envelope).await?, None));
    }
    let (key, write) = key_for_write(provider, provider_name, line).await?;
    Ok((seal_under(&key, name, plaintext), Some(write)))
}

/// The data key a write into a file whose `[data_keys]` entry of provider
/// `provider_name` is `line` uses: that entry's, unwrapped, or a new one
/// when there is none; and the change of the entry the write makes (none
/// but a check that it is still `line`, when it was there).
async fn key_for_write(
    provider: &dyn Provider,
    provider_name: &str,
    line: Option<&str>,
) -> Result<(FileKey, DataKeyWrite), ProviderError> {
    let key = match line {
        Some(line) => unwrap_file_key(provider, provider_name, line).await?,
        None => new_file_key(provider, provider_name).await?,
    };
    let write = DataKeyWrite {
        provider: provider_name.to_string(),
        expect: line.map(str::to_string),
        line: Some(key.line.clone()),
    };
    Ok((key, write))
}

/// Seals the values of one write (`import`, `edit`) in data-key mode:
/// each (file, provider)'s data key is unwrapped, or made, once and shared
/// by every value the write puts there; [`FileKeys::writes`] are the
/// `[data_keys]` changes the write must make.
#[derive(Debug, Default)]
pub struct FileKeys {
    keys: std::collections::BTreeMap<(std::path::PathBuf, String), (FileKey, DataKeyWrite)>,
}

impl FileKeys {
    /// [`seal_in_file`] of secret `name` into `file`, whose `[data_keys]`
    /// entry of provider `provider_name` is `line` as loaded.
    pub async fn seal(
        &mut self,
        provider: &dyn Provider,
        provider_name: &str,
        file: &std::path::Path,
        line: Option<&str>,
        name: &str,
        plaintext: &SecretBytes,
    ) -> Result<String, ProviderError> {
        if !provider.data_key() || provider.stores_plaintext() {
            return seal(provider, name, plaintext, false).await;
        }
        let key = self.key(provider, provider_name, file, line).await?;
        Ok(seal_under(key, name, plaintext))
    }

    /// The data key of (`file`, `provider_name`): the one this write
    /// already has, else [`key_for_write`]'s, kept for the next values.
    async fn key(
        &mut self,
        provider: &dyn Provider,
        provider_name: &str,
        file: &std::path::Path,
        line: Option<&str>,
    ) -> Result<&FileKey, ProviderError> {
        let slot = (file.to_path_buf(), provider_name.to_string());
        if !self.keys.contains_key(&slot) {
            let made = key_for_write(provider, provider_name, line).await?;
            self.keys.insert(slot.clone(), made);
        }
        Ok(&self.keys[&slot].0)
    }

    /// [`open`] of secret `name`'s `stored` text in `file`, whose
    /// `[data_keys]` entry of provider `provider_name` is `line`: a
    /// data-key value opens under that key, unwrapped once for all values
    /// (and later seals) of the file.
    pub async fn open(
        &mut self,
        provider: &dyn Provider,
        provider_name: &str,
        file: &std::path::Path,
        line: Option<&str>,
        name: &str,
        stored: &str,
    ) -> Result<SecretBytes, ProviderError> {
        if provider.stores_plaintext() {
            return open(provider, name, stored).await;
        }
        let bytes = provider.decode(stored)?;
        if !file_key::is_value(&bytes) {
            return open(provider, name, stored).await;
        }
        let line =
            line.ok_or_else(|| FileKeyError::Missing { provider: provider_name.to_string() })?;
        let key = self.key(provider, provider_name, file, Some(line)).await?;
        open_under(key, provider_name, name, &bytes)
    }

    /// The `[data_keys]` changes, by file: a made key is added; an
    /// existing one is checked to be unchanged at write time.
    pub fn writes(&self) -> impl Iterator<Item = (&std::path::PathBuf, &DataKeyWrite)> {
        self.keys.iter().map(|((file, _), (_, write))| (file, write))
    }
}

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
    if file_key::is_value(&bytes) {
        return Err(FileKeyError::NeedsFile.into());
    }
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
