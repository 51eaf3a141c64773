//! Decrypting the values of many entries: one [`Provider::decrypt_many`]
//! call per provider (one batch request where the provider has a batch
//! API), providers concurrently.
//!
//! [`Provider::decrypt_many`]: crate::providers::Provider::decrypt_many

use std::{collections::BTreeMap, sync::Arc};

use foldhash::{HashMap, HashMapExt};

use super::provider_name_of;
use crate::{
    codec::Stored,
    config::{Config, SecretDef},
    error::Error,
    file_key::{self, FileKeyError, FileKeyLine},
    providers::{Provider, ProviderError, Registry},
    secret::SecretBytes,
    value,
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
    defs: &[&SecretDef],
) -> HashMap<String, Opened> {
    let mut out = HashMap::with_capacity(defs.len());
    let mut groups: BTreeMap<&str, Vec<&SecretDef>> = BTreeMap::new();
    for &def in defs.iter().filter(|d| d.value.is_some()) {
        match provider_name_of(config, def) {
            Ok(p) => groups.entry(p).or_default().push(def),
            Err(e) => {
                out.insert(def.name.clone(), Err(Arc::new(e)));
            }
        }
    }
    let opened = futures::future::join_all(
        groups.iter().map(|(name, defs)| open_group(config, registry, name, defs)),
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

/// Opens the values of `defs`, all of provider `name`, in their order. A
/// data-key value adds its file's wrapped data key to the provider's
/// calls once per file, whatever the number of values under it.
async fn open_group(
    config: &Config,
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
    // Decode each value; an envelope contributes its wrapped data key, a
    // data-key value its file's data key (once). A value that does not
    // decode fails alone.
    let mut out: Vec<Option<Result<SecretBytes, Error>>> = defs.iter().map(|_| None).collect();
    let mut calls = Calls { items: Vec::with_capacity(defs.len()), files: Vec::new() };
    let mut decoded = Vec::with_capacity(defs.len());
    for (k, def) in defs.iter().enumerate() {
        let stored = def.value.as_deref().unwrap_or_default();
        match calls.add(config, provider.as_ref(), name, def, stored) {
            Ok((bytes, slot)) => decoded.push((k, bytes, slot)),
            Err(e) => out[k] = Some(Err(fail(def, e))),
        }
    }
    let mut opened = provider.decrypt_many(&calls.items).await;
    if let Some(i) = opened.iter().position(|r| r.as_ref().is_err_and(ProviderError::is_setup)) {
        let Err(source) = opened.swap_remove(i) else { unreachable!("an error at {i}") };
        return Err(Error::from(registry.setup_failed(name, source)).needed_by(&defs[0].name));
    }
    // A short answer fails every value of the group: never a secret
    // quietly missing.
    let (asked, got) = (calls.items.len(), opened.len());
    let mut opened: Vec<Option<Result<SecretBytes, ProviderError>>> =
        opened.into_iter().map(Some).collect();
    let file_keys = calls.unwrap_file_keys(name, &mut opened);
    for (k, bytes, slot) in decoded {
        let def = defs[k];
        let result = match slot {
            Slot::File(i) => match &file_keys[i] {
                Ok(key) => value::open_under(key, name, &def.name, &bytes),
                Err(e) => Err(ProviderError::FileKeyUnwrap {
                    provider: name.to_string(),
                    source: e.clone(),
                }),
            },
            Slot::Item(i) => opened
                .get_mut(i)
                .and_then(Option::take)
                .filter(|_| asked == got)
                .unwrap_or(Err(ProviderError::ShortAnswer { asked, got }))
                .and_then(|plain| Ok(Stored::parse(&bytes)?.finish(plain, &def.name)?)),
        };
        out[k] = Some(result.map_err(|e| fail(def, e)));
    }
    debug_assert!(out.iter().all(Option::is_some), "every value has its result");
    // `flatten` does not know the count: collected into a Vec of the right
    // size, not one doubled six times for 100 values.
    let mut results = Vec::with_capacity(out.len());
    results.extend(out.into_iter().flatten());
    Ok(results)
}

/// Where a value's provider call is: its own, or its file's data key's.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// `items[i]`: the value's own ciphertext or envelope key.
    Item(usize),
    /// `files[i]`: the data key of the value's file.
    File(usize),
}

/// The provider calls of one group: one per value, one per file's data key.
#[derive(Default)]
struct Calls<'c> {
    items: Vec<(String, Vec<u8>)>,
    /// Each file with data-key values: its path, its `[data_keys]` line
    /// and the index of its wrapped key in `items`.
    files: Vec<(&'c std::path::Path, FileKeyLine, usize)>,
}

impl<'c> Calls<'c> {
    /// Adds the call value `stored` of `def` needs; returns its bytes and
    /// where its call is.
    fn add(
        &mut self,
        config: &'c Config,
        provider: &dyn Provider,
        name: &str,
        def: &'c SecretDef,
        stored: &str,
    ) -> Result<(Vec<u8>, Slot), ProviderError> {
        let bytes = provider.decode(stored)?;
        if !file_key::is_value(&bytes) {
            let form = Stored::parse(&bytes)?;
            let item = (form.provider_binding(&def.name), form.provider_ciphertext().to_vec());
            self.items.push(item);
            return Ok((bytes, Slot::Item(self.items.len() - 1)));
        }
        let file = &*def.at.file;
        if let Some(i) = self.files.iter().position(|(f, _, _)| *f == file) {
            return Ok((bytes, Slot::File(i)));
        }
        let text = config
            .data_key(file, name)
            .ok_or_else(|| FileKeyError::Missing { provider: name.to_string() })?;
        let line = FileKeyLine::parse(name, text)?;
        let wrapped = provider.decode(&line.wrapped)?;
        self.items.push((file_key::binding(name, &line.id), wrapped));
        self.files.push((file, line, self.items.len() - 1));
        Ok((bytes, Slot::File(self.files.len() - 1)))
    }

    /// Each file's data key, unwrapped from its call's result (taken out
    /// of `opened`); a failure is shared by the file's values.
    fn unwrap_file_keys(
        &self,
        name: &str,
        opened: &mut [Option<Result<SecretBytes, ProviderError>>],
    ) -> Vec<Result<value::FileKey, Arc<ProviderError>>> {
        let (asked, got) = (self.items.len(), opened.len());
        let shared = Arc::new;
        self.files
            .iter()
            .map(|(_, line, i)| {
                let plain = opened
                    .get_mut(*i)
                    .and_then(Option::take)
                    .filter(|_| asked == got)
                    .unwrap_or(Err(ProviderError::ShortAnswer { asked, got }))
                    .map_err(shared)?;
                let key = file_key::unwrapped(name, &plain).map_err(|e| Arc::new(e.into()))?;
                Ok(value::FileKey { id: line.id, key, line: line.to_text() })
            })
            .collect()
    }
}
