//! Providers: the [`Provider`] trait, the typed provider settings, and the
//! per-process registry that builds each provider once.
//!
//! A provider turns plaintext into ciphertext bytes and back, bound to the
//! secret's name where the cipher allows it. How those bytes are stored in
//! `fnox.toml` (base64 by default) is the provider's [`Provider::encode`].

mod age;
pub mod aws_kms;
mod error;
pub mod local;
pub mod vault_transit;

use std::{collections::HashMap, fmt, path::PathBuf, sync::Arc};

use async_trait::async_trait;
use base64::Engine as _;
use tokio::sync::OnceCell;

pub use self::error::ProviderError;
use crate::{
    config::{Fields, ProviderDef},
    error::{ConfigError, Error},
    secret::SecretBytes,
};

/// The `type = ...` values this build knows.
pub const KNOWN_TYPES: &[&str] = &["local", "age", "aws-kms", "vault-transit"];

/// One encryption backend.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// Encrypts `plaintext` for the secret `name`.
    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError>;

    /// Decrypts `ciphertext`, which must have been made for `name` where the
    /// provider binds names.
    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError>;

    /// The largest plaintext `encrypt` takes; larger values use the
    /// envelope format. `None`: no limit.
    fn direct_limit(&self) -> Option<usize> {
        None
    }

    /// True when the provider is set to `envelope = true`.
    fn always_envelope(&self) -> bool {
        false
    }

    /// A fresh 256-bit data key for secret `name`, and its wrapped form
    /// (which [`Provider::decrypt`] unwraps).
    /// By default a random key encrypted with [`Provider::encrypt`].
    async fn new_data_key(&self, name: &str) -> Result<(SecretBytes, Vec<u8>), ProviderError> {
        let key = crate::envelope::generate_data_key();
        let wrapped = self.encrypt(name, &key).await?;
        Ok((key, wrapped))
    }

    /// Moves `ciphertext` (a direct value, or an envelope's wrapped data key)
    /// of secret `name` to the provider's current key inside the key
    /// service, so the plaintext never leaves it. `None`: this provider
    /// cannot; rotation then decrypts and encrypts.
    async fn rewrap(
        &self,
        _name: &str,
        _ciphertext: &[u8],
    ) -> Option<Result<Rewrapped, ProviderError>> {
        None
    }

    /// Whether `ciphertext` is already under the provider's current key.
    /// `None`: the provider cannot tell (rotation re-encrypts).
    fn is_current(&self, _ciphertext: &[u8]) -> Option<bool> {
        None
    }

    /// A line about the provider's key for `doctor` (e.g. how values are
    /// bound to names), where there is something to say; it may ask the
    /// key service. `Ok(None)`: nothing to add.
    async fn describe(&self) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    /// Decrypts many values at once (wrapped data keys of envelopes
    /// included), results in the order of `items`. By default the calls run
    /// concurrently, at most [`crate::resolve::MAX_IN_FLIGHT`] at a time;
    /// a provider with a batch API sends them in one request.
    async fn decrypt_many(
        &self,
        items: &[(String, Vec<u8>)],
    ) -> Vec<Result<SecretBytes, ProviderError>> {
        use futures::StreamExt as _;
        let mut calls = Vec::with_capacity(items.len());
        for (i, (name, ciphertext)) in items.iter().enumerate() {
            let call = self.decrypt(name, ciphertext);
            calls.push(async move { (i, call.await) });
        }
        // Unordered: a slow answer does not hold back the next call; the
        // results are put back in order afterwards.
        let mut done: Vec<(usize, Result<SecretBytes, ProviderError>)> =
            futures::stream::iter(calls)
                .buffer_unordered(crate::resolve::MAX_IN_FLIGHT)
                .collect()
                .await;
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }

    /// The text stored in `fnox.toml` for `ciphertext`: standard base64.
    fn encode(&self, ciphertext: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(ciphertext)
    }

    /// The ciphertext bytes of a stored value. ASCII whitespace is ignored,
    /// so a value pasted from `base64` with line breaks still reads.
    fn decode(&self, stored: &str) -> Result<Vec<u8>, ProviderError> {
        let compact: String = stored.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| ProviderError::BadBase64)
    }
}

/// The result of [`Provider::rewrap`].
#[derive(Debug)]
pub struct Rewrapped {
    /// The new ciphertext.
    pub ciphertext: Vec<u8>,
    /// It was already under the current key and bound to its name: keep
    /// the old value.
    pub unchanged: bool,
    /// It was not bound to its name before (a legacy value); now it is.
    pub upgraded: bool,
}

/// Typed provider settings, tagged by `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderConfig {
    /// `type = "local"`.
    Local(local::LocalConfig),
    /// `type = "age"`.
    Age(age::AgeConfig),
    /// `type = "aws-kms"`.
    AwsKms(aws_kms::AwsKmsConfig),
    /// `type = "vault-transit"`.
    VaultTransit(vault_transit::VaultTransitConfig),
}

impl ProviderConfig {
    /// Reads a `[providers.NAME]` table.
    pub fn parse(name: &str, f: &Fields<'_>) -> Result<Self, ConfigError> {
        let kind = f.required_str("type")?;
        match kind.as_str() {
            "local" => local::LocalConfig::parse(f).map(Self::Local),
            "age" => age::AgeConfig::parse(f).map(Self::Age),
            "aws-kms" => aws_kms::AwsKmsConfig::parse(f).map(Self::AwsKms),
            "vault-transit" => vault_transit::VaultTransitConfig::parse(f).map(Self::VaultTransit),
            _ => Err(ConfigError::UnknownProviderType {
                at: f.key_at("type"),
                provider: name.to_string(),
                kind,
            }),
        }
    }

    /// The `type` string.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Age(_) => "age",
            Self::AwsKms(_) => "aws-kms",
            Self::VaultTransit(_) => "vault-transit",
        }
    }
}

/// Receives notes for the user (printed on stderr unless `--quiet`).
pub type Notify = Arc<dyn Fn(&str) + Send + Sync>;

/// What providers need to know about where they run.
#[derive(Clone)]
pub struct Context {
    /// `$FNOX_CONFIG_DIR`: home of `local.key` and `age.txt`.
    pub config_dir: PathBuf,
    /// Where notes go.
    pub notify: Notify,
    #[cfg(test)]
    notes: Arc<std::sync::Mutex<Vec<String>>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("config_dir", &self.config_dir).finish()
    }
}

impl Context {
    /// A context whose notes go to `notify`.
    pub fn new(config_dir: PathBuf, notify: Notify) -> Self {
        Self {
            config_dir,
            notify,
            #[cfg(test)]
            notes: Arc::default(),
        }
    }

    /// A context that records notes, for unit tests.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        let notes: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let sink = notes.clone();
        Self {
            config_dir: PathBuf::from("/nonexistent"),
            notify: Arc::new(move |m: &str| {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(m.to_string())
            }),
            notes,
        }
    }

    /// The notes recorded so far (tests only).
    #[cfg(test)]
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Builds each provider once per process, on first use, and shares it.
#[derive(Debug)]
pub struct Registry {
    ctx: Context,
    defs: HashMap<String, ProviderDef>,
    built: HashMap<String, OnceCell<Arc<dyn Provider>>>,
}

impl Registry {
    /// A registry over the providers of one merged config.
    pub fn new(ctx: Context, defs: impl IntoIterator<Item = ProviderDef>) -> Self {
        let defs: HashMap<_, _> = defs.into_iter().map(|d| (d.name.clone(), d)).collect();
        let built = defs.keys().map(|k| (k.clone(), OnceCell::new())).collect();
        Self { ctx, defs, built }
    }

    /// Uses `provider` for `name` instead of building it from its settings
    /// (e.g. a `local` provider with a new primary key during `rotate`).
    pub fn preset(&self, name: &str, provider: Arc<dyn Provider>) -> Result<(), Error> {
        let cell = self.built.get(name).ok_or_else(|| Error::UnknownProvider {
            name: name.to_string(),
            defined: self.defs.keys().cloned().collect(),
        })?;
        cell.set(provider)
            .map_err(|_| Error::Failed(format!("provider `{name}` is already in use")))
    }

    /// The settings of provider `name`.
    pub fn def(&self, name: &str) -> Option<&ProviderDef> {
        self.defs.get(name)
    }

    /// The provider context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The provider called `name`, built on first use.
    pub async fn get(&self, name: &str) -> Result<Arc<dyn Provider>, Error> {
        let (Some(def), Some(cell)) = (self.defs.get(name), self.built.get(name)) else {
            let mut defined: Vec<String> = self.defs.keys().cloned().collect();
            defined.sort();
            return Err(Error::UnknownProvider { name: name.to_string(), defined });
        };
        cell.get_or_try_init(|| build(&self.ctx, def)).await.cloned()
    }
}

async fn build(ctx: &Context, def: &ProviderDef) -> Result<Arc<dyn Provider>, Error> {
    let base_dir = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
    let built: Result<Arc<dyn Provider>, ProviderError> = match &def.config {
        ProviderConfig::Local(c) => Ok(Arc::new(local::LocalProvider::new(ctx, c, &base_dir))),
        ProviderConfig::Age(c) => {
            age::AgeProvider::new(ctx, c, &base_dir).map(|p| Arc::new(p) as _)
        }
        ProviderConfig::AwsKms(c) => {
            aws_kms::AwsKmsProvider::new(ctx, c).await.map(|p| Arc::new(p) as _)
        }
        ProviderConfig::VaultTransit(c) => {
            vault_transit::VaultTransitProvider::new(ctx, c, &base_dir).map(|p| Arc::new(p) as _)
        }
    };
    built.map_err(|source| Error::Provider {
        provider: def.name.clone(),
        at: def.at.clone(),
        source,
    })
}

/// Resolves a `key_file` setting: `~/` is the home directory, a relative
/// path is relative to the config file that names it.
pub(crate) fn resolve_path(base_dir: &std::path::Path, path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    base_dir.join(path)
}
