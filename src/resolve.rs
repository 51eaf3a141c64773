//! Turning secret entries into plaintext, one or many at a time.

use std::sync::Arc;

use tokio::{sync::Semaphore, task::JoinSet};

use crate::{
    config::{Config, SecretDef},
    error::Error,
    providers::Registry,
    secret::SecretBytes,
    value,
};

/// At most this many provider calls are in flight at once.
pub const MAX_IN_FLIGHT: usize = 64;

/// The provider that encrypts `def`: its own, else the default.
pub fn provider_of(config: &Config, def: &SecretDef) -> Result<String, Error> {
    def.provider.clone().or_else(|| config.default_provider.clone()).ok_or_else(|| {
        Error::NoDefaultProvider { name: def.name.clone(), defined: config.provider_names() }
    })
}

/// The plaintext of `def`: its decrypted `value`, else its `default`, else
/// `None` (the secret is missing).
pub async fn resolve(
    config: &Config,
    registry: &Registry,
    def: &SecretDef,
) -> Result<Option<SecretBytes>, Error> {
    if let Some(stored) = &def.value {
        let provider_name = provider_of(config, def)?;
        let provider = registry.get(&provider_name).await?;
        return value::open(provider.as_ref(), &def.name, stored).await.map(Some).map_err(
            |source| Error::Decrypt {
                name: def.name.clone(),
                provider: provider_name,
                at: def.at.clone(),
                source,
            },
        );
    }
    Ok(def.default.clone().map(SecretBytes::from))
}

/// Resolves every entry in `defs` concurrently (at most [`MAX_IN_FLIGHT`]
/// provider calls at once). Results keep the order of `defs`; the first
/// failure in that order is returned.
pub async fn resolve_all(
    config: Arc<Config>,
    registry: Arc<Registry>,
    defs: Vec<SecretDef>,
) -> Result<Vec<(SecretDef, Option<SecretBytes>)>, Error> {
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (i, def) in defs.into_iter().enumerate() {
        let (config, registry, limit) = (config.clone(), registry.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let out = resolve(&config, &registry, &def).await;
            (i, def, out)
        });
    }
    let mut results: Vec<_> = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    results.sort_by_key(|(i, _, _)| *i);
    results.into_iter().map(|(_, def, out)| out.map(|v| (def, v))).collect()
}
