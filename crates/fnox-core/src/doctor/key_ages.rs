//! `doctor`'s key ages: for each provider with a `max_key_age`, the keys
//! in use (the current one, and those that values of the profile are
//! under), how old each is, and which values are under a key older than
//! the policy.

use std::time::{Duration, SystemTime};

use crate::{
    config::{Config, MaxKeyAge},
    error::Error,
    key_age,
    providers::{KeyDate, Provider, ProviderError, Registry},
    resolve,
};

/// The keys of one provider with a policy.
#[derive(Debug)]
pub struct KeyAges {
    /// The provider's name.
    pub provider: String,
    /// Its type.
    pub kind: &'static str,
    /// Its `max_key_age` (its own, the profile's or the top level's).
    pub policy: MaxKeyAge,
    /// The keys in use, current key first; or why they could not be read.
    pub keys: Result<Vec<AgedKey>, Error>,
}

/// One key in use and the values under it.
#[derive(Debug)]
pub struct AgedKey {
    /// The key and its date.
    pub key: KeyDate,
    /// How old it is; `None`: its date is unknown.
    pub age: Option<Duration>,
    /// The values of the profile under it, in the profile's order.
    pub secrets: Vec<String>,
}

impl AgedKey {
    /// True when it is older than `policy`.
    pub fn too_old(&self, policy: &MaxKeyAge) -> bool {
        self.age.is_some_and(|age| age > policy.age)
    }
}

impl KeyAges {
    /// The values under a key older than the policy.
    pub fn stale_secrets(&self) -> Vec<&str> {
        self.keys_where(|k| k.too_old(&self.policy))
            .flat_map(|k| k.secrets.iter().map(String::as_str))
            .collect()
    }

    /// The keys in use whose date is unknown.
    pub fn undated(&self) -> Vec<&AgedKey> {
        self.keys_where(|k| k.age.is_none()).collect()
    }

    fn keys_where(&self, keep: impl Fn(&AgedKey) -> bool) -> impl Iterator<Item = &AgedKey> {
        self.keys.as_ref().into_iter().flatten().filter(move |k| keep(k))
    }
}

/// The key ages of every provider of `config` with a `max_key_age`, as
/// they are at `now`.
pub async fn key_ages(config: &Config, registry: &Registry, now: SystemTime) -> Vec<KeyAges> {
    let mut out = Vec::new();
    for def in config.providers.values() {
        let Some(policy) = config.max_key_age_of(&def.name) else { continue };
        let keys = match registry.get(&def.name).await {
            Ok(provider) => {
                keys_in_use(config, &def.name, provider.as_ref(), now).await.map_err(|source| {
                    Error::Provider { provider: def.name.clone(), at: def.at.clone(), source }
                })
            }
            Err(e) => Err(e.into()),
        };
        out.push(KeyAges {
            provider: def.name.clone(),
            kind: def.config.kind(),
            policy: policy.clone(),
            keys,
        });
    }
    out
}

/// The keys of `provider` (named `name`) that are current or that a value
/// of the profile is under, with those values.
async fn keys_in_use(
    config: &Config,
    name: &str,
    provider: &dyn Provider,
    now: SystemTime,
) -> Result<Vec<AgedKey>, ProviderError> {
    let Some(dates) = provider.key_dates().await? else { return Ok(Vec::new()) };
    let mut keys: Vec<AgedKey> = dates
        .into_iter()
        .map(|key| AgedKey {
            age: key.created.map(|c| key_age::age(c, now)),
            key,
            secrets: Vec::new(),
        })
        .collect();
    for def in config.secrets.values() {
        if def.value.is_none() || resolve::provider_of(config, def).ok().as_deref() != Some(name) {
            continue;
        }
        let id = value_key(provider, def.value.as_deref().unwrap_or_default());
        let key = match &id {
            Some(id) => keys.iter_mut().find(|k| &k.key.id == id),
            None => keys.iter_mut().find(|k| k.key.current),
        };
        if let Some(key) = key {
            key.secrets.push(def.name.clone());
        }
    }
    keys.retain(|k| k.key.current || !k.secrets.is_empty());
    keys.sort_by_key(|k| !k.key.current);
    Ok(keys)
}

/// The key a stored value says it is under (see [`Provider::key_of`]).
pub fn value_key(provider: &dyn Provider, stored: &str) -> Option<String> {
    provider.key_of(&provider.decode(stored).ok()?)
}
