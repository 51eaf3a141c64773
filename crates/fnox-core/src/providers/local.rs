//! The `local` provider: AES-256-GCM under a key kept outside the repository.
//!
//! Stored value: `0x01 ‖ key id (4) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//! The AAD is the 5-byte header followed by the secret name, so a value
//! moved to another name fails to decrypt.
//!
//! Key material: `FNOX_LOCAL_KEY` (base64 of 32 bytes), else the provider's
//! `key_file`, else `$FNOX_CONFIG_DIR/local.key`, created 0600 on first
//! use. The file is a keyring: one key per line, `ID BASE64 [primary]`.
//! A key's id is derived from the key, so the same key has the same id
//! everywhere (on a laptop's keyring and in CI's `FNOX_LOCAL_KEY`).

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use async_trait::async_trait;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{
    error::ProviderError,
    provider::{Context, Provider},
};
use crate::{config::LocalConfig, secret::SecretBytes};

const VERSION: u8 = 1;
const HEADER: usize = 5;
const NONCE: usize = 12;
const TAG: usize = 16;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A 256-bit key and its 4-byte id.
#[derive(Clone)]
pub struct LocalKey {
    id: [u8; 4],
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalKey({})", hex::encode(self.id))
    }
}

impl LocalKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        Self::from_bytes(key)
    }

    fn from_bytes(key: Zeroizing<[u8; 32]>) -> Self {
        let digest =
            Sha256::new().chain_update(b"fnox local key id\0").chain_update(&key[..]).finalize();
        let mut id = [0u8; 4];
        id.copy_from_slice(&digest[..4]);
        Self { id, key }
    }

    fn from_base64(text: &str, source_name: &str) -> Result<Self, ProviderError> {
        let bad = |reason: &str| ProviderError::BadKey {
            source_name: source_name.to_string(),
            reason: reason.to_string(),
        };
        let bytes = Zeroizing::new(
            B64.decode(text.trim()).map_err(|_| bad("the key is not valid base64"))?,
        );
        let arr: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| bad("the key is not 32 bytes long"))?;
        Ok(Self::from_bytes(Zeroizing::new(arr)))
    }

    /// The key id as 8 hex digits.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// The key as base64 (for the keyring file and `FNOX_LOCAL_KEY`).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(&self.key[..]))
    }
}

/// Several keys, one of them primary (used to encrypt).
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<LocalKey>,
    primary: usize,
    source_name: String,
}

impl Keyring {
    /// Parses a keyring file's text.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ProviderError> {
        let mut keys = Vec::new();
        let mut primary = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let where_ = format!("{source_name}:{}", i + 1);
            let mut parts = line.split_whitespace();
            let (Some(id), Some(b64)) = (parts.next(), parts.next()) else {
                return Err(ProviderError::BadKey {
                    source_name: where_,
                    reason: "expected `ID BASE64_KEY [primary]`".into(),
                });
            };
            let key = LocalKey::from_base64(b64, &where_)?;
            if key.id_hex() != id {
                return Err(ProviderError::BadKey {
                    source_name: where_,
                    reason: format!("key id {id} does not match its key"),
                });
            }
            match parts.next() {
                Some("primary") => primary = Some(keys.len()),
                None => {}
                Some(_) => {
                    return Err(ProviderError::BadKey {
                        source_name: where_,
                        reason: "the third field may only be `primary`".into(),
                    });
                }
            }
            keys.push(key);
        }
        let Some(last) = keys.len().checked_sub(1) else {
            return Err(ProviderError::BadKey {
                source_name: source_name.to_string(),
                reason: "the keyring holds no key".into(),
            });
        };
        Ok(Self { primary: primary.unwrap_or(last), keys, source_name: source_name.to_string() })
    }

    /// The same keyring with `key` added as the primary key.
    pub fn with_new_primary(&self, key: LocalKey) -> Self {
        let mut keys = self.keys.clone();
        keys.push(key);
        Self { primary: keys.len() - 1, keys, source_name: self.source_name.clone() }
    }

    /// Ids (hex) of the keys that are not primary.
    pub fn old_key_ids(&self) -> Vec<String> {
        self.keys
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.primary)
            .map(|(_, k)| k.id_hex())
            .collect()
    }

    /// The keyring without its old keys.
    pub fn only_primary(&self) -> Self {
        Self::single(self.primary().clone(), &self.source_name)
    }

    /// A keyring of one key.
    pub fn single(key: LocalKey, source_name: &str) -> Self {
        Self { keys: vec![key], primary: 0, source_name: source_name.to_string() }
    }

    /// The file text for this keyring.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::from(
            "# fnox local keyring: the keys that decrypt `local` secrets.\n\
             # Keep this file private and out of git. One key per line:\n\
             # key id, base64 key, and `primary` on the key that encrypts new values.\n",
        ));
        for (i, k) in self.keys.iter().enumerate() {
            out.push_str(&k.id_hex());
            out.push(' ');
            out.push_str(&k.to_base64());
            if i == self.primary {
                out.push_str(" primary");
            }
            out.push('\n');
        }
        out
    }

    /// The key that encrypts.
    pub fn primary(&self) -> &LocalKey {
        &self.keys[self.primary]
    }

    fn find(&self, id: &[u8]) -> Option<&LocalKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

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
    if value.len() < HEADER + NONCE + TAG {
        return Err(ProviderError::Truncated { kind: "local", len: value.len() });
    }
    if value[0] != VERSION {
        return Err(ProviderError::UnknownVersion(value[0]));
    }
    let (header, rest) = value.split_at(HEADER);
    let (nonce, sealed) = rest.split_at(NONCE);
    let key = ring.find(&header[1..]).ok_or_else(|| ProviderError::UnknownKeyId {
        id: hex::encode(&header[1..]),
        source_name: ring.source_name.clone(),
    })?;
    let aad = [header, name.as_bytes()].concat();
    let cipher =
        Aes256Gcm::new_from_slice(key.key.as_ref()).map_err(|_| ProviderError::Tampered)?;
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
        .map(SecretBytes::new)
        .map_err(|_| ProviderError::Tampered)
}

/// The key id (hex) of a direct local value, or of the wrapped data key of
/// an envelope made with the local provider.
pub fn key_id_of(value: &[u8]) -> Option<String> {
    let value = crate::codec::Stored::parse(value).ok()?.provider_ciphertext();
    (value.len() >= HEADER && value[0] == VERSION).then(|| hex::encode(&value[1..HEADER]))
}

/// Where a `local` provider's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `FNOX_LOCAL_KEY` (one key, for CI).
    Env,
    /// A keyring file.
    File(PathBuf),
    /// A keyring given in memory (`rotate --new-key` before it is written).
    Given,
}

/// Where the keys of a `local` provider with `config`, defined in a file
/// in `base_dir`, come from: `FNOX_LOCAL_KEY`, else its keyring file.
pub fn key_source(ctx: &Context, config: &LocalConfig, base_dir: &Path) -> KeySource {
    if ctx.env.has(ENV_KEY) {
        KeySource::Env
    } else {
        KeySource::File(keyring_path(ctx, config, base_dir))
    }
}

/// The variable that holds a `local` key for machines without a keyring.
pub const ENV_KEY: &str = "FNOX_LOCAL_KEY";

/// The `local` provider.
#[derive(Debug)]
pub struct LocalProvider {
    source: KeySource,
    env_key: Option<Zeroizing<String>>,
    envelope: bool,
    ring: Mutex<Option<Arc<Keyring>>>,
}

impl LocalProvider {
    pub(super) fn new(ctx: &Context, config: &LocalConfig, base_dir: &Path) -> Self {
        let source = key_source(ctx, config, base_dir);
        let env_key = ctx.env.var(ENV_KEY).map(|k| Zeroizing::new(k.to_string()));
        Self { source, env_key, envelope: config.envelope, ring: Mutex::new(None) }
    }

    /// A provider over a given keyring (used by `rotate --new-key` before
    /// the keyring is written).
    pub fn with_keyring(ring: Keyring, envelope: bool) -> Self {
        Self {
            source: KeySource::Given,
            env_key: None,
            envelope,
            ring: Mutex::new(Some(Arc::new(ring))),
        }
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
            KeySource::File(path) => load_or_create(path, create)?,
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

/// Reads the keyring at `path`; when it does not exist and `create` is set,
/// makes one with a fresh primary key (mode 0600, in a 0700 directory).
pub fn load_or_create(path: &Path, create: bool) -> Result<Keyring, ProviderError> {
    let file_err = |source| ProviderError::KeyFile { path: path.to_path_buf(), source };
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => return Keyring::parse(&Zeroizing::new(text), &name),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(file_err(e)),
        Err(_) if !create => {
            return Err(ProviderError::NoLocalKey { path: path.to_path_buf() });
        }
        Err(_) => {}
    }
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(file_err)?;
    }
    let ring = Keyring::single(LocalKey::generate(), &name);
    match crate::config::write::create_new(path, ring.to_text().as_bytes(), 0o600) {
        Ok(()) => Ok(ring),
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(file_err)?);
            Keyring::parse(&text, &name)
        }
        Err(e) => Err(file_err(e)),
    }
}

#[async_trait]
impl Provider for LocalProvider {
    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
        let ring = self.keyring(true)?;
        seal(ring.primary(), name, plaintext.expose())
    }

    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        open(&*self.keyring(false)?, name, ciphertext)
    }

    fn always_envelope(&self) -> bool {
        self.envelope
    }

    fn is_current(&self, ciphertext: &[u8]) -> Option<bool> {
        let ring = self.keyring(false).ok()?;
        Some(key_id_of(ciphertext)? == ring.primary().id_hex())
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
