//! The [`Provider`] trait: one encryption backend, and what it is given
//! ([`Context`]).

use std::{fmt, path::PathBuf, sync::Arc};

use async_trait::async_trait;

use super::error::ProviderError;
use crate::{env::Environment, notice::Notify, secret::SecretBytes};

/// At most this many provider calls are in flight at once: high enough
/// that the per-secret values of one `exec` (100 is a large project) go out
/// in one wave, over the provider's one shared client and its connection
/// pool, and low enough to stay within a key service's request rate (AWS
/// KMS allows thousands of cryptographic requests per second).
pub const MAX_IN_FLIGHT: usize = 128;

/// One encryption backend.
///
/// A new method must also be forwarded by the agent's wrapper
/// (`providers/cached.rs`).
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

    /// True when the provider is set to `data_key = true`: its values in
    /// a file are sealed under that file's one data key
    /// ([`crate::file_key`]).
    fn data_key(&self) -> bool {
        false
    }

    /// True for the `plain` provider: the stored value is the value itself,
    /// as written (no base64, no envelope), and it is a setting, not a
    /// secret, unless its entry says `sensitive = true`.
    fn stores_plaintext(&self) -> bool {
        false
    }

    /// Whether `ciphertext` (a direct value, or an envelope's wrapped data
    /// key, under `name` as [`Provider::decrypt`] takes it) is bound to its
    /// name. `None`: the provider cannot tell, or binds every value. It
    /// may ask the key service.
    async fn is_bound(&self, _name: &str, _ciphertext: &[u8]) -> Option<bool> {
        None
    }

    /// A fresh 256-bit data key for secret `name`, and its wrapped form
    /// (which [`Provider::decrypt`] unwraps under
    /// [`crate::envelope::data_key_binding`] of `name`).
    /// By default a random key wrapped with [`Provider::wrap_data_key`].
    async fn new_data_key(&self, name: &str) -> Result<(SecretBytes, Vec<u8>), ProviderError> {
        let key = crate::envelope::generate_data_key();
        let wrapped = self.wrap_data_key(name, &key).await?;
        Ok((key, wrapped))
    }

    /// Wraps `data_key` of secret `name` apart from the secret's values:
    /// [`Provider::encrypt`] of the marked key under the data-key binding.
    async fn wrap_data_key(
        &self,
        name: &str,
        data_key: &SecretBytes,
    ) -> Result<Vec<u8>, ProviderError> {
        let binding = crate::envelope::data_key_binding(name);
        self.encrypt(&binding, &crate::envelope::mark_data_key(data_key)).await
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

    /// The provider's keys and when each was created (or, for a key
    /// service, when its newest key material was), for `max_key_age`; it
    /// may ask the key service. `Ok(None)`: the provider's keys have no
    /// age it can tell.
    async fn key_dates(&self) -> Result<Option<Vec<KeyDate>>, ProviderError> {
        Ok(None)
    }

    /// The id of the key (as [`Provider::key_dates`] names it) that a
    /// stored value's bytes are under, when the value itself says.
    /// `None`: every value is taken to be under the current key.
    fn key_of(&self, _stored: &[u8]) -> Option<String> {
        None
    }

    /// Decrypts many values at once (wrapped data keys of envelopes
    /// included), results in the order of `items`. By default the calls run
    /// concurrently, at most [`MAX_IN_FLIGHT`] at a time;
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
            futures::stream::iter(calls).buffer_unordered(MAX_IN_FLIGHT).collect().await;
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }

    /// The text stored in `fnox.toml` for `ciphertext`: standard base64.
    fn encode(&self, ciphertext: &[u8]) -> String {
        crate::codec::encode_base64(ciphertext)
    }

    /// The ciphertext bytes of a stored value. ASCII whitespace is ignored,
    /// so a value pasted from `base64` with line breaks still reads.
    fn decode(&self, stored: &str) -> Result<Vec<u8>, ProviderError> {
        Ok(crate::codec::decode_base64(stored)?)
    }
}

/// One key of a provider and its date, for `max_key_age`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDate {
    /// The key's id (a `local` key's 8 hex digits, a KMS key id).
    pub id: String,
    /// When it (or its newest key material) was created; `None`: unknown.
    pub created: Option<std::time::SystemTime>,
    /// It is the key new values are encrypted under.
    pub current: bool,
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

/// What providers need to know about where they run, and what they share.
#[derive(Clone)]
pub struct Context {
    /// The environment (key variables, home directory).
    pub env: Arc<Environment>,
    /// fnox's config directory: home of `local.key` and `age.txt`.
    pub config_dir: PathBuf,
    /// Where notices go.
    pub notify: Notify,
    /// Who answers a key's questions (an age plugin's PIN).
    pub prompter: crate::prompt::SharedPrompter,
    /// The agent that key-service and age decryptions ask first.
    pub(crate) agent: Arc<crate::agent::Link>,
    /// The passphrase-protected keyrings opened so far.
    pub(crate) unlocked: Arc<super::keyring_file::Unlocked>,
    /// HTTPS clients shared by the transit providers of this context.
    #[cfg(feature = "vault-transit")]
    pub(crate) http: Arc<super::http::HttpClients>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("config_dir", &self.config_dir).finish()
    }
}

impl Context {
    /// A context whose notices go to `notify`.
    pub fn new(env: Arc<Environment>, config_dir: PathBuf, notify: Notify) -> Self {
        let agent = Arc::new(crate::agent::Link::new(&env, notify.clone()));
        Self {
            env,
            config_dir,
            notify,
            prompter: crate::prompt::none(),
            agent,
            unlocked: Arc::default(),
            #[cfg(feature = "vault-transit")]
            http: Arc::default(),
        }
    }

    /// A context for unit tests: an empty environment, notices recorded
    /// in the returned list.
    #[cfg(test)]
    pub fn for_tests() -> (Self, Arc<std::sync::Mutex<Vec<crate::notice::Notice>>>) {
        let notes: Arc<std::sync::Mutex<Vec<crate::notice::Notice>>> = Arc::default();
        let sink = notes.clone();
        let notify: Notify =
            Arc::new(move |n| sink.lock().unwrap_or_else(|e| e.into_inner()).push(n));
        (Self::new(Arc::new(Environment::new("/")), "/nonexistent".into(), notify), notes)
    }
}
