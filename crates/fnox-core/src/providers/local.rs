//! The `local` provider: AES-256-GCM under a key kept outside the repository.
//!
//! Stored value: `0x01 ‖ key id (4) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//! The AAD is the 5-byte header followed by the secret name, so a value
//! moved to another name fails to decrypt.
//!
//! Key material: `FNOX_LOCAL_KEY` (base64 of 32 bytes), else the provider's
//! `key_file`, else `$FNOX_CONFIG_DIR/local.key`, created 0600 on first
//! use; with `key_store = "keychain"`, the keyring is in the OS keychain
//! instead (see [`super::keychain`]). The file is a keyring (see [`super::keyring`]): a value under a
//! retired key still decrypts, with a notice that names the secret.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use async_trait::async_trait;
use rand::RngCore;
use zeroize::Zeroizing;

pub use super::keyring::{
    KeySource, Keyring, LocalKey, check_private, create_protected, load_existing, load_or_create,
    load_or_create_in, prepare_key_file, read_key_bytes, read_key_file,
};
use super::{
    error::ProviderError,
    provider::{Context, KeyDate, Provider},
};
use crate::{config::LocalConfig, notice::Notice, secret::SecretBytes};

const VERSION: u8 = 1;
const HEADER: usize = 5;
const NONCE: usize = 12;
const TAG: usize = 16;

/// Encrypts `plaintext` for `name` under `key`.
pub fn seal(key: &LocalKey, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, ProviderError> {
    let mut header = [0u8; HEADER];
    header[0] = VERSION;
    header[1..].copy_from_slice(&key.id);
    let mut nonce = [0u8; NONCE];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = [&header[..], name.as_bytes()].concat();
    let cipher =
        Aes256Gcm::new_from_slice(key.key.as_ref()).map_err(|_| ProviderError::Tampered)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| ProviderError::Tampered)?;
    let mut out = Vec::with_capacity(HEADER + NONCE + sealed.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a local value made for `name` with a key of `ring`.
pub fn open(ring: &Keyring, name: &str, value: &[u8]) -> Result<SecretBytes, ProviderError> {
    Opener::default().open(ring, name, value)
}

/// Opens the values of one call: each key's cipher is expanded once.
#[derive(Default)]
struct Opener {
    ciphers: Vec<([u8; 4], Aes256Gcm)>,
    aad: Vec<u8>,
}

impl Opener {
    fn open(
        &mut self,
        ring: &Keyring,
        name: &str,
        value: &[u8],
    ) -> Result<SecretBytes, ProviderError> {
        if value.len() < HEADER + NONCE + TAG {
            return Err(ProviderError::Truncated { kind: "local", len: value.len() });
        }
        if value[0] != VERSION {
            return Err(ProviderError::UnknownVersion(value[0]));
        }
        let (header, rest) = value.split_at(HEADER);
        let (nonce, sealed) = rest.split_at(NONCE);
        let id: [u8; 4] = header[1..].try_into().expect("HEADER is 5 bytes");
        let cipher = match self.ciphers.iter().position(|(k, _)| *k == id) {
            Some(i) => &self.ciphers[i].1,
            None => {
                let key = ring.find(&id).ok_or_else(|| ProviderError::UnknownKeyId {
                    id: hex::encode(id),
                    source_name: ring.source_name.clone(),
                })?;
                let cipher = Aes256Gcm::new_from_slice(key.key.as_ref())
                    .map_err(|_| ProviderError::Tampered)?;
                self.ciphers.push((id, cipher));
                &self.ciphers[self.ciphers.len() - 1].1
            }
        };
        self.aad.clear();
        self.aad.extend_from_slice(header);
        self.aad.extend_from_slice(name.as_bytes());
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &self.aad })
            .map(SecretBytes::new)
            .map_err(|_| ProviderError::Tampered)
    }
}

/// The key id (hex) of a direct local value, or of the wrapped data key of
/// an envelope made with the local provider.
pub fn key_id_of(value: &[u8]) -> Option<String> {
    key_id_of_direct(crate::codec::Stored::parse(value).ok()?.provider_ciphertext())
}

/// The key id (hex) of a direct local value.
fn key_id_of_direct(value: &[u8]) -> Option<String> {
    (value.len() >= HEADER && value[0] == VERSION).then(|| hex::encode(&value[1..HEADER]))
}

/// Where the keys of a `local` provider with `config`, defined in a file
/// in `base_dir`, come from: `FNOX_LOCAL_KEY`, else its keyring file (or
/// the keychain item named after that file, with `key_store = "keychain"`).
pub fn key_source(ctx: &Context, config: &LocalConfig, base_dir: &Path) -> KeySource {
    if ctx.env.has(ENV_KEY) {
        KeySource::Env
    } else if config.keychain {
        let path = keyring_path(ctx, config, base_dir);
        KeySource::Keychain(super::keychain::Keychain::for_path(&path))
    } else {
        KeySource::File(keyring_path(ctx, config, base_dir))
    }
}

/// The variable that holds a `local` key for machines without a keyring.
pub const ENV_KEY: &str = "FNOX_LOCAL_KEY";

/// The `local` provider.
pub struct LocalProvider {
    source: KeySource,
    env_key: Option<Zeroizing<String>>,
    envelope: bool,
    ring: Mutex<Option<Arc<Keyring>>>,
    ctx: Context,
}

impl std::fmt::Debug for LocalProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalProvider").field("source", &self.source).finish()
    }
}

impl LocalProvider {
    pub(super) fn new(ctx: &Context, config: &LocalConfig, base_dir: &Path) -> Self {
        let source = key_source(ctx, config, base_dir);
        let env_key = ctx.env.var(ENV_KEY).map(|k| Zeroizing::new(k.to_string()));
        Self {
            source,
            env_key,
            envelope: config.envelope,
            ring: Mutex::new(None),
            ctx: ctx.clone(),
        }
    }

    /// A provider over a given keyring (used by `rotate --new-key` before
    /// the keyring is written).
    pub fn with_keyring(ring: Keyring, envelope: bool, ctx: &Context) -> Self {
        Self {
            source: KeySource::Given,
            env_key: None,
            envelope,
            ring: Mutex::new(Some(Arc::new(ring))),
            ctx: ctx.clone(),
        }
    }

    /// Opens `ciphertext`, and says when its key is retired.
    fn decrypt_now(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        let ring = self.keyring(false)?;
        self.open_noting_retired(&ring, &mut Opener::default(), name, ciphertext)
    }

    /// Opens `ciphertext`, and tells when its key is retired.
    fn open_noting_retired(
        &self,
        ring: &Keyring,
        opener: &mut Opener,
        name: &str,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, ProviderError> {
        let plain = opener.open(ring, name, ciphertext)?;
        if ring.is_retired_id(&ciphertext[1..HEADER]) {
            let key_id = hex::encode(&ciphertext[1..HEADER]);
            (self.ctx.notify)(Notice::RetiredLocalKey { secret: name.to_string(), key_id });
        }
        Ok(plain)
    }

    /// The keyring, loaded once; created when `create` and it does not exist.
    fn keyring(&self, create: bool) -> Result<Arc<Keyring>, ProviderError> {
        let mut slot = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ring) = slot.as_ref() {
            return Ok(ring.clone());
        }
        let ring = match &self.source {
            KeySource::Env | KeySource::Given => {
                let value = self.env_key.as_deref().map_or("", |k| k.as_str());
                Keyring::single(LocalKey::from_base64(value, ENV_KEY)?, ENV_KEY)
            }
            KeySource::File(path) => load_or_create(path, create, &self.ctx)?,
            KeySource::Keychain(item) => load_or_create_in(item, create)?,
        };
        let ring = Arc::new(ring);
        *slot = Some(ring.clone());
        Ok(ring)
    }
}

/// The keyring file for `config`.
pub fn keyring_path(ctx: &Context, config: &LocalConfig, base_dir: &Path) -> PathBuf {
    match &config.key_file {
        Some(p) => ctx.env.resolve_path(base_dir, p),
        None => ctx.config_dir.join("local.key"),
    }
}

#[async_trait]
impl Provider for LocalProvider {
    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
        let ring = self.keyring(true)?;
        seal(ring.primary(), name, plaintext.expose())
    }

    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        self.decrypt_now(name, ciphertext)
    }

    /// Each value in turn, on the calling task: opening a `local` value
    /// takes microseconds of CPU, less than a future per value costs.
    async fn decrypt_many(
        &self,
        items: &[(String, Vec<u8>)],
    ) -> Vec<Result<SecretBytes, ProviderError>> {
        if items.is_empty() {
            return Vec::new();
        }
        let ring = match self.keyring(false) {
            Ok(ring) => ring,
            // Each value fails as it would alone: the first with this
            // failure, each other one reading the keyring again.
            Err(first) => {
                let rest = items[1..].iter().map(|(name, c)| self.decrypt_now(name, c));
                return std::iter::once(Err(first)).chain(rest).collect();
            }
        };
        let mut opener = Opener::default();
        items
            .iter()
            .map(|(name, ciphertext)| {
                self.open_noting_retired(&ring, &mut opener, name, ciphertext)
            })
            .collect()
    }

    fn always_envelope(&self) -> bool {
        self.envelope
    }

    fn is_current(&self, ciphertext: &[u8]) -> Option<bool> {
        let ring = self.keyring(false).ok()?;
        Some(key_id_of(ciphertext)? == ring.primary().id_hex())
    }

    /// Each key of the keyring, with the date its line records.
    async fn key_dates(&self) -> Result<Option<Vec<KeyDate>>, ProviderError> {
        let ring = self.keyring(false)?;
        let primary = ring.primary().id_hex();
        let dates = ring.ids().into_iter().map(|id| KeyDate {
            created: ring.created(&id),
            current: id == primary,
            id,
        });
        Ok(Some(dates.collect()))
    }

    fn key_of(&self, stored: &[u8]) -> Option<String> {
        key_id_of(stored)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ring() -> Keyring {
        Keyring::single(LocalKey::generate(), "test")
    }

    #[test]
    fn name_is_bound() {
        let r = ring();
        let v = seal(r.primary(), "A", b"hello").unwrap();
        assert_eq!(open(&r, "A", &v).unwrap().expose(), b"hello");
        assert!(matches!(open(&r, "B", &v), Err(ProviderError::Tampered)));
    }

    #[test]
    fn layout_is_version_id_nonce_ct_tag() {
        let r = ring();
        let v = seal(r.primary(), "A", b"hello").unwrap();
        assert_eq!(v.len(), 1 + 4 + 12 + 5 + 16);
        assert_eq!(v[0], 1);
        assert_eq!(hex::encode(&v[1..5]), r.primary().id_hex());
    }

    #[test]
    fn keyring_text_round_trips() {
        let r = ring();
        let text = r.to_text();
        let back = Keyring::parse(&text, "k").unwrap();
        assert_eq!(back.primary().id_hex(), r.primary().id_hex());
        let v = seal(r.primary(), "A", b"x").unwrap();
        assert_eq!(open(&back, "A", &v).unwrap().expose(), b"x");
    }

    #[test]
    fn unknown_key_id_and_truncation() {
        let v = seal(ring().primary(), "A", b"x").unwrap();
        assert!(matches!(open(&ring(), "A", &v), Err(ProviderError::UnknownKeyId { .. })));
        assert!(matches!(open(&ring(), "A", &v[..20]), Err(ProviderError::Truncated { .. })));
    }

    proptest! {
        #[test]
        fn any_flipped_byte_fails(data in proptest::collection::vec(any::<u8>(), 0..200), idx in any::<usize>(), bit in 0u8..8) {
            let r = ring();
            let mut v = seal(r.primary(), "N", &data).unwrap();
            let i = idx % v.len();
            v[i] ^= 1 << bit;
            prop_assert!(open(&r, "N", &v).is_err());
        }
    }
}
