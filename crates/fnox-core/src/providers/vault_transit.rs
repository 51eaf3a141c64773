//! The `vault-transit` provider: HashiCorp Vault's or OpenBao's transit
//! engine encrypts, and the stored value is the engine's own
//! `vault:vN:...` text (an envelope value is base64 as for every provider).
//!
//! Name binding: a derived key (`derived=true`, recommended) gets
//! `context` = base64(name), and `rewrap` keeps it, so rotation never sees
//! the plaintext; a plain AEAD key gets `associated_data` = base64(name),
//! which `rewrap` cannot carry, so rotation decrypts and encrypts. The
//! key's settings are read once per process from `{mount}/keys/{key}`.
//!
//! Many values go to the server in one `batch_input` request: resolution
//! calls [`Provider::decrypt_many`], and concurrent single calls (rotation)
//! are coalesced into batches.

mod api;
mod batch;
pub mod error;
mod failure;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, atomic::AtomicBool},
};

use async_trait::async_trait;
use base64::Engine as _;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

pub use self::api::{Binding, KeyInfo};
use self::{
    api::{Api, ApiSettings, Failure, Item, Op},
    batch::Coalescer,
    error::{TransitError, TransitErrorKind},
};
use super::{
    error::ProviderError,
    provider::{Context, Provider, Rewrapped},
};
use crate::{config::VaultTransitConfig, env::Environment, notice::Notice, secret::SecretBytes};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Values larger than this go into an envelope: the server then sees only
/// a 32-byte data key, and rotation re-wraps only that key.
pub const DIRECT_LIMIT: usize = 32 * 1024;

/// The `vault-transit` provider.
#[derive(Debug)]
pub struct VaultTransitProvider {
    api: Arc<Api>,
    batches: Arc<Coalescer>,
    key_info: OnceCell<KeyInfo>,
    envelope: bool,
    data_key: bool,
    ctx: Context,
    noted_unbound: AtomicBool,
}

/// `FNOX_VAULT_TOKEN`, else `VAULT_TOKEN` / `BAO_TOKEN`, else
/// `~/.vault-token`.
fn load_token(env: &Environment) -> Result<Zeroizing<String>, ProviderError> {
    if let Some(t) = env.first_var(&["FNOX_VAULT_TOKEN", "VAULT_TOKEN", "BAO_TOKEN"]) {
        return Ok(Zeroizing::new(t.to_string()));
    }
    let file = env.home().unwrap_or(Path::new("/")).join(".vault-token");
    match std::fs::read_to_string(&file).map(Zeroizing::new) {
        Ok(t) if !t.trim().is_empty() => Ok(Zeroizing::new(t.trim().to_string())),
        Ok(_) => Err(TransitError::NoToken { file }.into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(TransitError::NoToken { file }.into())
        }
        Err(source) => Err(ProviderError::KeyFile { path: file, source }),
    }
}

impl VaultTransitProvider {
    /// Resolves address, token and CA file, and takes the process's HTTP
    /// client. Nothing is sent yet.
    pub(super) fn new(
        ctx: &Context,
        config: &VaultTransitConfig,
        base_dir: &Path,
    ) -> Result<Self, ProviderError> {
        let address = config
            .address
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| ctx.env.first_var(&["VAULT_ADDR", "BAO_ADDR"]).map(str::to_string))
            .ok_or(TransitError::NoAddress)?;
        let ca_cert: Option<PathBuf> = match &config.ca_cert {
            Some(p) => Some(ctx.env.resolve_path(base_dir, p)),
            None => {
                ctx.env.first_var(&["VAULT_CACERT", "BAO_CACERT"]).map(|p| ctx.env.cwd().join(p))
            }
        };
        let api = Api::new(
            ApiSettings {
                address: address.trim().to_string(),
                mount: config.mount.clone(),
                key: config.key.clone(),
                namespace: config.namespace.clone(),
                ca_cert,
                token: load_token(&ctx.env)?,
            },
            &ctx.http,
        )?;
        Ok(Self {
            api: Arc::new(api),
            batches: Arc::default(),
            key_info: OnceCell::new(),
            envelope: config.envelope,
            data_key: config.data_key,
            ctx: ctx.clone(),
            noted_unbound: AtomicBool::new(false),
        })
    }

    /// The key's settings, read once per process.
    pub async fn key_info(&self) -> Result<&KeyInfo, ProviderError> {
        self.key_info_or_failure().await.map_err(|f| f.error())
    }

    async fn key_info_or_failure(&self) -> Result<&KeyInfo, Failure> {
        self.key_info.get_or_try_init(|| self.api.read_key()).await
    }

    /// How the key binds names, for `doctor` (also [`Provider::describe`]):
    /// e.g. "transit key `app` at http://127.0.0.1:8200/transit
    /// (aes256-gcm96, version 2): derived key (recommended): ...".
    pub async fn describe_key(&self) -> Result<String, ProviderError> {
        let info = self.key_info().await?;
        let how = match info.binding() {
            Binding::Context => {
                "derived key (recommended): names bound with context; rotation re-wraps on the server"
            }
            Binding::AssociatedData => {
                "non-derived key: names bound with associated_data; rewrap not possible (rotation decrypts and re-encrypts); a derived key is recommended"
            }
            Binding::Unbound => {
                "this key type cannot bind values to secret names; use an aes256-gcm96 key with derived=true"
            }
        };
        Ok(format!(
            "transit key `{}` at {}/{} ({}, version {}): {how}",
            self.api.key, self.api.address, self.api.mount, info.kind, info.latest_version
        ))
    }

    async fn binding(&self, encrypting: bool) -> Result<Binding, Failure> {
        let info = self.key_info_or_failure().await?;
        if encrypting && !info.supports_encryption {
            return Err(Failure::Call {
                call: Box::new(self.api.call("encrypt")),
                kind: TransitErrorKind::KeyCannotEncrypt,
                detail: format!("key type {}", info.kind),
            });
        }
        let binding = info.binding();
        if encrypting
            && binding == Binding::Unbound
            && !self.noted_unbound.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            (self.ctx.notify)(Notice::UnbindableTransitKey {
                key: self.api.key.clone(),
                kind: info.kind.clone(),
            });
        }
        Ok(binding)
    }

    async fn one(
        &self,
        op: Op,
        binding: Binding,
        item: Item,
    ) -> Result<Zeroizing<String>, ProviderError> {
        Coalescer::submit(&self.api, &self.batches, op, binding, item).await
    }
}

/// The `vault:vN:...` text of a stored ciphertext.
fn ciphertext_text(ciphertext: &[u8]) -> Result<&str, ProviderError> {
    std::str::from_utf8(ciphertext)
        .ok()
        .filter(|s| s.starts_with("vault:v"))
        .ok_or_else(|| TransitError::NotCiphertext.into())
}

/// The key version `N` of `vault:vN:...`.
pub fn key_version(ciphertext: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(ciphertext).ok()?;
    text.strip_prefix("vault:v")?.split(':').next()?.parse().ok()
}

fn decode_plaintext(b64: &str) -> Result<SecretBytes, ProviderError> {
    // Go's encoder writes standard padded base64; `Zeroizing` wipes the
    // decoded bytes if decoding fails halfway.
    let mut out = Zeroizing::new(Vec::with_capacity(b64.len() / 4 * 3 + 3));
    B64.decode_vec(b64, &mut out).map_err(|_| ProviderError::BadBase64)?;
    Ok(SecretBytes::new(std::mem::take(&mut *out)))
}

#[async_trait]
impl Provider for VaultTransitProvider {
    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
        let binding = self.binding(true).await.map_err(|f| f.error())?;
        let input = Zeroizing::new(B64.encode(plaintext.expose()));
        let item = Item { name: name.to_string(), input };
        Ok(self.one(Op::Encrypt, binding, item).await?.as_bytes().to_vec())
    }

    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        let input = Zeroizing::new(ciphertext_text(ciphertext)?.to_string());
        let binding = self.binding(false).await.map_err(|f| f.error())?;
        let item = Item { name: name.to_string(), input };
        decode_plaintext(&self.one(Op::Decrypt, binding, item).await?)
    }

    async fn decrypt_many(
        &self,
        items: &[(String, Vec<u8>)],
    ) -> Vec<Result<SecretBytes, ProviderError>> {
        let mut results: Vec<Option<Result<SecretBytes, ProviderError>>> =
            items.iter().map(|_| None).collect();
        let mut batch = Vec::with_capacity(items.len());
        let mut slots = Vec::with_capacity(items.len());
        for (i, (name, ct)) in items.iter().enumerate() {
            match ciphertext_text(ct) {
                Ok(text) => {
                    batch
                        .push(Item { name: name.clone(), input: Zeroizing::new(text.to_string()) });
                    slots.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !batch.is_empty() {
            match self.binding(false).await {
                Ok(binding) => {
                    let mut slot = slots.into_iter();
                    for chunk in batch::chunks(&batch, |item| item.input.len()) {
                        for out in self.api.run(Op::Decrypt, binding, chunk).await {
                            if let Some(i) = slot.next() {
                                results[i] = Some(out.and_then(|b64| decode_plaintext(&b64)));
                            }
                        }
                    }
                }
                Err(f) => {
                    for i in slots {
                        results[i] = Some(Err(f.error()));
                    }
                }
            }
        }
        let answered = results.iter().filter(|r| r.is_some()).count();
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or(Err(ProviderError::ShortAnswer { asked: items.len(), got: answered }))
            })
            .collect()
    }

    fn direct_limit(&self) -> Option<usize> {
        Some(DIRECT_LIMIT)
    }

    fn always_envelope(&self) -> bool {
        self.envelope
    }

    fn data_key(&self) -> bool {
        self.data_key
    }

    async fn rewrap(
        &self,
        name: &str,
        ciphertext: &[u8],
    ) -> Option<Result<Rewrapped, ProviderError>> {
        let binding = match self.binding(false).await {
            Ok(b) => b,
            Err(f) => return Some(Err(f.error())),
        };
        // Without a derived key's context the server cannot check the name
        // while re-wrapping: rotation decrypts and encrypts instead.
        if binding != Binding::Context {
            return None;
        }
        let input = match ciphertext_text(ciphertext) {
            Ok(text) => Zeroizing::new(text.to_string()),
            Err(e) => return Some(Err(e)),
        };
        let item = Item { name: name.to_string(), input };
        Some(self.one(Op::Rewrap, binding, item).await.map(|new| {
            let unchanged = key_version(ciphertext) == key_version(new.as_bytes());
            Rewrapped { ciphertext: new.as_bytes().to_vec(), unchanged, upgraded: false }
        }))
    }

    fn is_current(&self, ciphertext: &[u8]) -> Option<bool> {
        let latest = self.key_info.get()?.latest_version;
        Some(key_version(ciphertext)? == latest)
    }

    async fn describe(&self) -> Result<Option<String>, ProviderError> {
        self.describe_key().await.map(Some)
    }

    fn encode(&self, ciphertext: &[u8]) -> String {
        match std::str::from_utf8(ciphertext) {
            Ok(text) if text.starts_with("vault:") => text.to_string(),
            _ => crate::codec::encode_base64(ciphertext),
        }
    }

    fn decode(&self, stored: &str) -> Result<Vec<u8>, ProviderError> {
        let stored = stored.trim();
        if stored.starts_with("vault:") {
            return Ok(stored.as_bytes().to_vec());
        }
        Ok(crate::codec::decode_base64(stored)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_the_prefix() {
        assert_eq!(key_version(b"vault:v1:abc"), Some(1));
        assert_eq!(key_version(b"vault:v12:abc"), Some(12));
        assert_eq!(key_version(b"vault:x1:abc"), None);
        assert_eq!(key_version(b"FNXE"), None);
    }

    #[test]
    fn stored_text_is_the_vault_string_and_base64_otherwise() {
        let p = VaultTransitProvider {
            api: Arc::new(
                Api::new(
                    ApiSettings {
                        address: "http://127.0.0.1:1".into(),
                        mount: "transit".into(),
                        key: "k".into(),
                        namespace: None,
                        ca_cert: None,
                        token: Zeroizing::new("t".into()),
                    },
                    &crate::providers::http::HttpClients::default(),
                )
                .unwrap(),
            ),
            batches: Arc::default(),
            key_info: OnceCell::new(),
            envelope: false,
            data_key: false,
            ctx: Context::for_tests().0,
            noted_unbound: AtomicBool::new(false),
        };
        assert_eq!(p.encode(b"vault:v1:abc"), "vault:v1:abc");
        assert_eq!(p.decode(" vault:v1:abc\n").unwrap(), b"vault:v1:abc");
        assert_eq!(p.encode(b"FNXE\x01"), "Rk5YRQE=");
        assert_eq!(p.decode("Rk5Y\nRQE=").unwrap(), b"FNXE\x01");
        assert!(matches!(p.decode("not base64!"), Err(ProviderError::BadBase64)));
        assert!(format!("{p:?}").contains("address: \"http://127.0.0.1:1\""));
        assert!(!format!("{p:?}").contains("token"));
    }
}
