//! After a rotation: which old `local` keys can be retired, and the write
//! plan that stores the rotated values (new keyrings first). Retiring marks
//! a key `retired` in its keyring: it stops encrypting and stays to decrypt
//! until `fnox keys delete-retired` removes it.

use std::{
    collections::{BTreeSet, HashMap},
    path::Path,
};

use super::{
    run::Outcome,
    select::{Rotation, keyring_path},
};
use crate::{
    Project,
    codec::decode_base64,
    config::{LoadOptions, ProviderConfig, write::LockWait},
    error::Error,
    keys::{Store, load_store, store_of},
    plan::{Change, LocalKeyUse, WritePlan},
    providers::{ProviderError, local},
    resolve::provider_of,
};

/// Old local keys to retire: for each keyring (a file or a keychain item),
/// its old key ids.
pub type Retirement = Vec<(Store, Vec<String>)>;

/// Stored values by (file, table, name) that replace those in the files.
pub type Overrides =
    HashMap<(std::sync::Arc<std::path::Path>, std::sync::Arc<[String]>, String), Option<String>>;

/// The old keys of each local keyring, when no value of any profile (after
/// this rotation) still uses them. A keyring that `new_key` is about to
/// replace is judged by its new version, the one on disk when the keys go.
pub fn plan_retirement(rotation: &Rotation, outcomes: &[Outcome]) -> Result<Retirement, Error> {
    let rotated = overrides(outcomes);
    let mut plans = Vec::new();
    let mut done = BTreeSet::new();
    for view in &rotation.views {
        for def in view.config().providers.values() {
            let ProviderConfig::Local(c) = &def.config else { continue };
            // A key from FNOX_LOCAL_KEY has no keyring to retire keys in.
            let Some(store) = store_of(view.registry().context(), def, c) else { continue };
            if !done.insert(store.clone()) {
                continue;
            }
            let ctx = view.registry().context();
            let ring = match rotation.new_keyrings.iter().find(|(s, _)| s == &store) {
                Some((_, ring)) => ring.clone(),
                None => match load_store(&store, ctx) {
                    Ok(r) => r,
                    // No keyring yet: no old keys.
                    Err(ProviderError::NoKeychainKey { .. }) => continue,
                    Err(_) if matches!(&store, Store::File(p) if !p.exists()) => continue,
                    Err(source) => {
                        return Err(Error::Provider {
                            provider: def.name.clone(),
                            at: def.at.clone(),
                            source,
                        });
                    }
                },
            };
            let old: BTreeSet<String> = ring.old_key_ids().into_iter().collect();
            if old.is_empty() {
                continue;
            }
            let path = store.path().to_path_buf();
            let users = users_of(&rotation.views, &rotated, &path, &old);
            if !users.is_empty() {
                return Err(Error::KeysStillUsed { path, provider: def.name.clone(), users });
            }
            plans.push((store, old.into_iter().collect()));
        }
    }
    Ok(plans)
}

/// The new stored values of `outcomes`.
pub fn overrides(outcomes: &[Outcome]) -> Overrides {
    outcomes
        .iter()
        .map(|o| {
            let d = &o.job.def;
            let value = o.new_value.clone().or_else(|| d.value.as_deref().map(str::to_string));
            ((d.at.file.clone(), d.table.clone(), d.name.clone()), value)
        })
        .collect()
}

/// The values of `views` (with `overrides` in place of what the files
/// hold) of a `local` provider with keyring `keyring`, under a key of `ids`,
/// as `NAME (file:line, key ID)`.
pub fn users_of(
    views: &[Project],
    overrides: &Overrides,
    keyring: &Path,
    ids: &BTreeSet<String>,
) -> Vec<String> {
    let mut users = Vec::new();
    for view in views {
        let config = view.config();
        for s in config.all_secrets.iter().filter(|s| s.value.is_some()) {
            let Ok(provider) = provider_of(config, s) else { continue };
            let Some(def) = config.providers.get(&provider) else { continue };
            let ProviderConfig::Local(c) = &def.config else { continue };
            if keyring_path(view, def, c) != keyring {
                continue;
            }
            let key = (s.at.file.clone(), s.table.clone(), s.name.clone());
            let value: Option<&str> = match overrides.get(&key) {
                Some(v) => v.as_deref(),
                None => s.value.as_deref(),
            };
            let id = value.and_then(|v| decode_base64(v).ok()).and_then(|b| local::key_id_of(&b));
            if let Some(id) = id.filter(|id| ids.contains(id)) {
                users.push(format!("{} ({}, key {id})", s.name, s.at));
            }
        }
    }
    users.sort();
    users.dedup();
    users
}

/// The plan that writes the rotation: new keyrings (with the keys to
/// retire marked), then every changed value (checked to be unchanged since
/// it was read, and, for `local`, to be under its keyring's primary key).
pub fn write_plan(rotation: &Rotation, outcomes: &[Outcome], retire: Retirement) -> WritePlan {
    let mut plan = WritePlan::new();
    if let Some(view) = rotation.views.first() {
        plan = plan.with_context(view.registry().context());
    }
    for (store, ring) in &rotation.new_keyrings {
        match store {
            Store::File(path) => plan.keyring(path.clone(), ring.clone()),
            Store::Keychain(item) => plan.keychain_keyring(item.clone(), ring.clone()),
        }
    }
    for o in outcomes {
        let Some(value) = &o.new_value else { continue };
        let def = &o.job.def;
        let mut change = Change::new(def.table.to_vec(), &def.name, value.clone());
        change.provider = (o.job.from_name != o.job.to_name).then(|| o.job.to_name.clone());
        change.expect = Some(def.value.clone());
        change.local_key = o.job.to_keyring.as_ref().and_then(|keyring| {
            let key_id = local::key_id_of(&decode_base64(value).ok()?)?;
            Some(LocalKeyUse { keyring: keyring.clone(), key_id })
        });
        plan.change(def.at.file.to_path_buf(), change);
    }
    for o in outcomes {
        for write in &o.data_keys {
            plan.data_key(o.job.def.at.file.to_path_buf(), write.clone());
        }
    }
    for (store, ids) in retire {
        match store {
            Store::File(path) => plan.retire_keys(path, ids),
            Store::Keychain(item) => plan.retire_in_keychain(item, ids),
        }
    }
    plan
}

/// Writes the rotation. With keys to retire, checks again under the
/// keyrings' locks (no `set` can write a `local` value meanwhile) that no
/// value in the files, as they are now, still uses one of them.
pub fn commit(
    rotation: &Rotation,
    outcomes: &[Outcome],
    retire: Retirement,
    wait: LockWait,
) -> Result<(), Error> {
    let prepared = write_plan(rotation, outcomes, retire.clone()).with_lock_wait(wait).prepare()?;
    if !retire.is_empty() {
        let views = reload(rotation)?;
        let rotated = overrides(outcomes);
        for (store, ids) in &retire {
            let ids: BTreeSet<String> = ids.iter().cloned().collect();
            let path = store.path();
            let users = users_of(&views, &rotated, path, &ids);
            if !users.is_empty() {
                let provider = provider_of_keyring(&rotation.views, path);
                return Err(Error::KeysStillUsed { path: path.to_path_buf(), provider, users });
            }
        }
    }
    prepared.write()
}

/// The name of a `local` provider of `views` whose keys are in `keyring`.
pub fn provider_of_keyring(views: &[Project], keyring: &Path) -> String {
    views
        .iter()
        .flat_map(|v| v.config().providers.values().map(move |d| (v, d)))
        .find_map(|(v, d)| match &d.config {
            ProviderConfig::Local(c) if keyring_path(v, d, c) == keyring => Some(d.name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "local".into())
}

/// The rotation's profiles, loaded again from the files as they are now.
fn reload(rotation: &Rotation) -> Result<Vec<Project>, Error> {
    rotation
        .views
        .iter()
        .map(|view| {
            let opts =
                LoadOptions { profiles: view.config().profiles.clone(), ..rotation.opts.clone() };
            view.fnox().load(&opts)
        })
        .collect()
}
