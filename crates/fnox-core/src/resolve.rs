//! Turning secret entries into plaintext, one or many at a time.

use std::sync::Arc;

use std::collections::BTreeMap;

use tokio::task::JoinSet;

use crate::{
    codec::Stored,
    config::{Config, SecretDef},
    error::Error,
    providers::{ProviderError, Registry},
    secret::SecretBytes,
    value,
};

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

/// Resolves every entry in `defs`. The values of each provider go to it in
/// one [`Provider::decrypt_many`] call (one batch request where the
/// provider has a batch API); providers run concurrently. Results keep the
/// order of `defs`; the first failure in that order is returned.
///
/// [`Provider::decrypt_many`]: crate::providers::Provider::decrypt_many
pub async fn resolve_all(
    config: Arc<Config>,
    registry: Arc<Registry>,
    defs: Vec<SecretDef>,
) -> Result<Vec<(SecretDef, Option<SecretBytes>)>, Error> {
    let mut results: Vec<Option<Result<Option<SecretBytes>, Error>>> =
        (0..defs.len()).map(|_| None).collect();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, def) in defs.iter().enumerate() {
        match &def.value {
            Some(_) => match provider_of(&config, def) {
                Ok(p) => groups.entry(p).or_default().push(i),
                Err(e) => results[i] = Some(Err(e)),
            },
            None => results[i] = Some(Ok(def.default.clone().map(SecretBytes::from))),
        }
    }
    let defs = Arc::new(defs);
    let mut tasks = JoinSet::new();
    for (provider_name, indices) in groups {
        let (registry, defs) = (registry.clone(), defs.clone());
        tasks.spawn(async move {
            let out = open_group(&registry, &provider_name, &defs, &indices).await;
            (indices, out)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (indices, out) = match joined {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        match out {
            Ok(values) => {
                for (i, v) in indices.into_iter().zip(values) {
                    results[i] = Some(v.map(Some));
                }
            }
            Err(e) => {
                let first = indices[0];
                results[first] = Some(Err(e));
            }
        }
    }
    let defs = Arc::try_unwrap(defs).unwrap_or_else(|d| (*d).clone());
    defs.into_iter().zip(results).filter_map(|(def, r)| r.map(|r| r.map(|v| (def, v)))).collect()
}

/// Opens the values at `indices` of `defs`, all of provider `name`.
async fn open_group(
    registry: &Registry,
    name: &str,
    defs: &[SecretDef],
    indices: &[usize],
) -> Result<Vec<Result<SecretBytes, Error>>, Error> {
    let provider = registry.get(name).await?;
    let fail = |def: &SecretDef, source| Error::Decrypt {
        name: def.name.clone(),
        provider: name.to_string(),
        at: def.at.clone(),
        source,
    };
    // Decode each value; an envelope contributes its wrapped data key.
    let mut items = Vec::with_capacity(indices.len());
    let mut decoded = Vec::with_capacity(indices.len());
    for &i in indices {
        let def = &defs[i];
        let stored = def.value.as_deref().unwrap_or_default();
        let bytes = provider.decode(stored).map_err(|e| fail(def, e))?;
        let key = Stored::parse(&bytes).map_err(|e| fail(def, e.into()))?.provider_ciphertext();
        items.push((def.name.clone(), key.to_vec()));
        decoded.push(bytes);
    }
    let mut opened = provider.decrypt_many(&items).await;
    if opened.len() != items.len() {
        // Never a secret quietly missing: every value fails instead.
        let short =
            |def| fail(def, ProviderError::ShortAnswer { asked: items.len(), got: opened.len() });
        return Ok(indices.iter().map(|&i| Err(short(&defs[i]))).collect());
    }
    Ok(indices
        .iter()
        .zip(decoded)
        .zip(opened.drain(..))
        .map(|((&i, bytes), plain)| {
            let def = &defs[i];
            let plain = plain.map_err(|e| fail(def, e))?;
            let form = Stored::parse(&bytes).map_err(|e| fail(def, e.into()))?;
            form.finish(plain, &def.name).map_err(|e| fail(def, e.into()))
        })
        .collect())
}
