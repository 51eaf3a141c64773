//! Decrypting the values of many entries: one [`Provider::decrypt_many`]
//! call per provider (one batch request where the provider has a batch
//! API), providers concurrently.
//!
//! [`Provider::decrypt_many`]: crate::providers::Provider::decrypt_many

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use super::provider_of;
use crate::{
    codec::Stored,
    config::{Config, SecretDef},
    error::Error,
    providers::{ProviderError, Registry},
    secret::SecretBytes,
};

/// A decrypted value, or why not; a failure that several values share
/// (their provider cannot be used) is shared.
pub(super) type Opened = Result<SecretBytes, Arc<Error>>;

/// The decrypted values of the entries of `defs` that have a `value`, by
/// name. A value that fails, fails alone; a provider that cannot be used
/// fails each of its values.
pub(super) async fn decrypt_all(
    config: &Config,
    registry: &Registry,
    defs: &[SecretDef],
) -> HashMap<String, Opened> {
    let mut out = HashMap::new();
    let mut groups: BTreeMap<String, Vec<&SecretDef>> = BTreeMap::new();
    for def in defs.iter().filter(|d| d.value.is_some()) {
        match provider_of(config, def) {
            Ok(p) => groups.entry(p).or_default().push(def),
            Err(e) => {
                out.insert(def.name.clone(), Err(Arc::new(e)));
            }
        }
    }
    let opened = futures::future::join_all(
        groups.iter().map(|(name, defs)| open_group(registry, name, defs)),
    )
    .await;
    for ((_, defs), result) in groups.iter().zip(opened) {
        match result {
            Ok(values) => {
                for (def, value) in defs.iter().zip(values) {
                    out.insert(def.name.clone(), value.map_err(Arc::new));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for def in defs {
                    out.insert(def.name.clone(), Err(e.clone()));
                }
            }
        }
    }
    out
}

/// Opens the values of `defs`, all of provider `name`, in their order.
async fn open_group(
    registry: &Registry,
    name: &str,
    defs: &[&SecretDef],
) -> Result<Vec<Result<SecretBytes, Error>>, Error> {
    let built = registry.get(name).await;
    let provider = built.map_err(|e| Error::from(e).needed_by(&defs[0].name))?;
    if provider.stores_plaintext() {
        // `plain`: the value is the text as written.
        let text = |def: &SecretDef| {
            SecretBytes::from_slice(def.value.as_deref().unwrap_or_default().as_bytes())
        };
        return Ok(defs.iter().map(|d| Ok(text(d))).collect());
    }
    let fail = |def: &SecretDef, source| Error::Decrypt {
        name: def.name.clone(),
        provider: name.to_string(),
        at: def.at.clone(),
        source,
    };
    // Decode each value; an envelope contributes its wrapped data key. A
    // value that does not decode fails alone.
    let mut out: Vec<Option<Result<SecretBytes, Error>>> = defs.iter().map(|_| None).collect();
    let mut items = Vec::with_capacity(defs.len());
    let mut decoded = Vec::with_capacity(defs.len());
    for (k, def) in defs.iter().enumerate() {
        let stored = def.value.as_deref().unwrap_or_default();
        let key = provider.decode(stored).and_then(|bytes| {
            let form = Stored::parse(&bytes)?;
            let key = (form.provider_binding(&def.name), form.provider_ciphertext().to_vec());
            Ok((bytes, key))
        });
        match key {
            Ok((bytes, key)) => {
                items.push(key);
                decoded.push((k, bytes));
            }
            Err(e) => out[k] = Some(Err(fail(def, e))),
        }
    }
    let opened = provider.decrypt_many(&items).await;
    // A short answer fails every value of the group: never a secret
    // quietly missing.
    let (asked, got) = (items.len(), opened.len());
    let mut opened = opened.into_iter();
    for (k, bytes) in decoded {
        let def = defs[k];
        let plain = opened
            .next()
            .filter(|_| asked == got)
            .unwrap_or(Err(ProviderError::ShortAnswer { asked, got }));
        let result = plain.and_then(|plain| Ok(Stored::parse(&bytes)?.finish(plain, &def.name)?));
        out[k] = Some(result.map_err(|e| fail(def, e)));
    }
    debug_assert!(out.iter().all(Option::is_some), "every value has its result");
    Ok(out.into_iter().flatten().collect())
}
