//! [`AgentCached`]: a key-service or age provider with the agent in front
//! of its decryption. Every decryption (a direct value, or an envelope's or
//! a file's data key: each is a [`Provider::decrypt`] under a binding name)
//! asks the agent first; what it lacks is decrypted by the provider and
//! handed to it. Everything else goes straight to the provider.
//!
//! A method added to [`Provider`] must be forwarded here too, or a
//! provider's own version of it would be hidden behind its default.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    error::ProviderError,
    provider::{KeyDate, Provider, Rewrapped},
};
use crate::{
    agent::{Key, Link, entry_key, protocol::PutEntry},
    config::ProviderDef,
    secret::SecretBytes,
};

/// A provider whose decryptions go through the agent.
#[derive(Debug)]
pub(crate) struct AgentCached {
    inner: Arc<dyn Provider>,
    /// The provider's name (for `agent status --names`).
    name: String,
    /// What makes this provider this one: its name, file and settings.
    identity: Vec<u8>,
    link: Arc<Link>,
}

impl AgentCached {
    /// `inner`, defined by `def`, with `link` in front of its decryption.
    pub(crate) fn new(inner: Arc<dyn Provider>, def: &ProviderDef, link: Arc<Link>) -> Self {
        let identity =
            format!("{}\0{}\0{:?}", def.name, def.at.file.display(), def.config).into_bytes();
        Self { inner, name: def.name.clone(), identity, link }
    }

    fn key(&self, name: &str, ciphertext: &[u8]) -> Key {
        entry_key(&self.identity, name, ciphertext)
    }

    fn entry(&self, key: Key, name: &str, value: &SecretBytes) -> PutEntry {
        PutEntry {
            key,
            provider: self.name.clone(),
            secret: name.to_string(),
            value: value.clone(),
        }
    }
}

#[async_trait]
impl Provider for AgentCached {
    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
        self.inner.encrypt(name, plaintext).await
    }

    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        let key = self.key(name, ciphertext);
        if let Some(Some(value)) = self.link.get(vec![key]).await.and_then(|mut v| v.pop()) {
            return Ok(value);
        }
        let value = self.inner.decrypt(name, ciphertext).await?;
        self.link.put(vec![self.entry(key, name, &value)]).await;
        Ok(value)
    }

    fn direct_limit(&self) -> Option<usize> {
        self.inner.direct_limit()
    }

    fn always_envelope(&self) -> bool {
        self.inner.always_envelope()
    }

    fn data_key(&self) -> bool {
        self.inner.data_key()
    }

    fn stores_plaintext(&self) -> bool {
        self.inner.stores_plaintext()
    }

    async fn is_bound(&self, name: &str, ciphertext: &[u8]) -> Option<bool> {
        self.inner.is_bound(name, ciphertext).await
    }

    async fn new_data_key(&self, name: &str) -> Result<(SecretBytes, Vec<u8>), ProviderError> {
        self.inner.new_data_key(name).await
    }

    async fn wrap_data_key(
        &self,
        name: &str,
        data_key: &SecretBytes,
    ) -> Result<Vec<u8>, ProviderError> {
        self.inner.wrap_data_key(name, data_key).await
    }

    async fn rewrap(
        &self,
        name: &str,
        ciphertext: &[u8],
    ) -> Option<Result<Rewrapped, ProviderError>> {
        self.inner.rewrap(name, ciphertext).await
    }

    fn is_current(&self, ciphertext: &[u8]) -> Option<bool> {
        self.inner.is_current(ciphertext)
    }

    async fn key_dates(&self) -> Result<Option<Vec<KeyDate>>, ProviderError> {
        self.inner.key_dates().await
    }

    fn key_of(&self, stored: &[u8]) -> Option<String> {
        self.inner.key_of(stored)
    }

    async fn describe(&self) -> Result<Option<String>, ProviderError> {
        self.inner.describe().await
    }

    async fn decrypt_many(
        &self,
        items: &[(String, Vec<u8>)],
    ) -> Vec<Result<SecretBytes, ProviderError>> {
        let keys: Vec<Key> = items.iter().map(|(n, c)| self.key(n, c)).collect();
        let mut found = match self.link.get(keys.clone()).await {
            Some(values) => values,
            None => return self.inner.decrypt_many(items).await,
        };
        let missing: Vec<usize> = (0..items.len()).filter(|&i| found[i].is_none()).collect();
        if missing.is_empty() {
            return found.into_iter().flatten().map(Ok).collect();
        }
        let asked: Vec<(String, Vec<u8>)> = missing.iter().map(|&i| items[i].clone()).collect();
        let decrypted = self.inner.decrypt_many(&asked).await;
        if decrypted.len() != asked.len() {
            let (asked, got) = (asked.len(), decrypted.len());
            return (0..items.len())
                .map(|_| Err(ProviderError::ShortAnswer { asked, got }))
                .collect();
        }
        let mut results: Vec<Option<Result<SecretBytes, ProviderError>>> =
            found.iter_mut().map(|v| v.take().map(Ok)).collect();
        let mut handed = Vec::new();
        for (&i, result) in missing.iter().zip(decrypted) {
            if let Ok(value) = &result {
                handed.push(self.entry(keys[i], &items[i].0, value));
            }
            results[i] = Some(result);
        }
        self.link.put(handed).await;
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(ProviderError::ShortAnswer { asked: items.len(), got: 0 })))
            .collect()
    }

    fn encode(&self, ciphertext: &[u8]) -> String {
        self.inner.encode(ciphertext)
    }

    fn decode(&self, stored: &str) -> Result<Vec<u8>, ProviderError> {
        self.inner.decode(stored)
    }
}
