//! After a rotation: which old `local` keys can be retired, and the write
//! plan that stores the rotated values (new keyrings first).

use std::{
    collections::{BTreeSet, HashMap},
    path::PathBuf,
};

use super::{
    run::Outcome,
    select::{Rotation, keyring_path},
};
use crate::{
    codec::decode_base64,
    config::{Config, ProviderConfig, SecretDef},
    error::Error,
    plan::{Change, WritePlan},
    providers::local,
    resolve::provider_of,
};

/// Old local keys that can go: for each keyring, its old key ids.
pub type Retirement = Vec<(PathBuf, Vec<String>)>;

/// The old keys of each local keyring, when no value of any profile (after
/// this rotation) still uses them. A keyring that `new_key` is about to
/// replace is judged by its new version, the one on disk when the keys go.
pub fn plan_retirement(rotation: &Rotation, outcomes: &[Outcome]) -> Result<Retirement, Error> {
    let rotated: HashMap<(PathBuf, Vec<String>, String), &Outcome> = outcomes
        .iter()
        .map(|o| ((o.job.def.at.file.clone(), o.job.def.table.clone(), o.job.def.name.clone()), o))
        .collect();
    let mut plans = Vec::new();
    let mut done = BTreeSet::new();
    for view in &rotation.views {
        for def in view.config().providers.values() {
            let ProviderConfig::Local(c) = &def.config else { continue };
            let path = keyring_path(view, def, c);
            if !done.insert(path.clone()) {
                continue;
            }
            let ring = match rotation.new_keyrings.iter().find(|(p, _)| p == &path) {
                Some((_, ring)) => ring.clone(),
                None => match local::load_or_create(&path, false) {
                    Ok(r) => r,
                    Err(_) => continue,
                },
            };
            let old: BTreeSet<String> = ring.old_key_ids().into_iter().collect();
            if old.is_empty() {
                continue;
            }
            let users = users_of(rotation, &rotated, &def.name, &old);
            if !users.is_empty() {
                return Err(Error::KeysStillUsed { path, provider: def.name.clone(), users });
            }
            plans.push((path, old.into_iter().collect()));
        }
    }
    Ok(plans)
}

/// The values (after rotation) of provider `provider` under a key of `old`,
/// as `NAME (file:line, key ID)`.
fn users_of(
    rotation: &Rotation,
    rotated: &HashMap<(PathBuf, Vec<String>, String), &Outcome>,
    provider: &str,
    old: &BTreeSet<String>,
) -> Vec<String> {
    let mut users = Vec::new();
    for view in &rotation.views {
        let config = view.config();
        for s in config.all_secrets.iter().filter(|s| uses_provider(config, s, provider)) {
            let key = (s.at.file.clone(), s.table.clone(), s.name.clone());
            let value: Option<&str> = match rotated.get(&key) {
                Some(o) => o.new_value.as_deref().or(s.value.as_deref()),
                None => s.value.as_deref(),
            };
            let id = value.and_then(|v| decode_base64(v).ok()).and_then(|b| local::key_id_of(&b));
            if let Some(id) = id.filter(|id| old.contains(id)) {
                users.push(format!("{} ({}, key {id})", s.name, s.at));
            }
        }
    }
    users.sort();
    users.dedup();
    users
}

fn uses_provider(config: &Config, def: &SecretDef, provider: &str) -> bool {
    def.value.is_some() && provider_of(config, def).is_ok_and(|p| p == provider)
}

/// The plan that writes the rotation: new keyrings, every changed value
/// (checked to be unchanged since it was read), then the retirement.
pub fn write_plan(rotation: &Rotation, outcomes: &[Outcome], retire: Retirement) -> WritePlan {
    let mut plan = WritePlan::new();
    for (path, ring) in &rotation.new_keyrings {
        plan.keyring(path.clone(), ring.clone());
    }
    for o in outcomes {
        let Some(value) = &o.new_value else { continue };
        let def = &o.job.def;
        let mut change = Change::new(def.table.clone(), &def.name, value.clone());
        change.provider = (o.job.from_name != o.job.to_name).then(|| o.job.to_name.clone());
        change.expect = Some(def.value.clone());
        plan.change(def.at.file.clone(), change);
    }
    for (path, ids) in retire {
        plan.retire_keys(path, ids);
    }
    plan
}
