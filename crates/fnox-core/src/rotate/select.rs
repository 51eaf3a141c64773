//! What a rotation covers: the profiles it loads, the values it rotates
//! (each with the provider that made it and the one it ends up with), and
//! the new `local` keys it brings.

use std::{
    collections::{BTreeSet, HashMap},
    path::PathBuf,
    sync::Arc,
};

use super::run::Job;
use crate::{
    Fnox, Project,
    config::{DEFAULT_PROFILE, LoadOptions, ProviderConfig, ProviderDef},
    error::Error,
    keys::{Store, load_store, store_of},
    providers::local::{self, Keyring, LocalKey},
    resolve::provider_of,
};

/// What to rotate.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Only these secrets (empty: every secret with a value).
    pub names: Vec<String>,
    /// Only secrets of this provider.
    pub provider: Option<String>,
    /// Move the selected secrets to this provider.
    pub to: Option<String>,
    /// Every profile, not only the active one.
    pub all_profiles: bool,
    /// Also values in the global config file.
    pub global: bool,
    /// `local`: a new primary key first, and everything re-encrypted under it.
    pub new_key: bool,
    /// `local`: afterwards, remove keys that no value uses.
    pub retire_old: bool,
    /// Only values under a key older than this (a `local` value's key is
    /// the one its bytes name); a primary key older than this is replaced
    /// first, as with `new_key`. A key of unknown age is not selected.
    pub older_than: Option<std::time::Duration>,
}

/// A rotation ready to run: the profiles it sees, its jobs, and the new
/// keyrings (written only when it succeeds).
#[derive(Debug)]
pub struct Rotation {
    /// One loaded project per profile.
    pub views: Vec<Project>,
    /// The values to rotate, each once.
    pub jobs: Vec<Job>,
    /// `--new-key`: each local keyring with its new primary key.
    pub new_keyrings: Vec<(Store, Keyring)>,
    /// How the first profile was loaded (the others differ in the profile).
    pub opts: LoadOptions,
}

/// Loads the profiles `req` covers (`first`, loaded with `opts`, or every
/// profile with the same options), presets new local keys, and selects the
/// jobs.
pub fn prepare(
    fnox: &Fnox,
    opts: &LoadOptions,
    first: Project,
    req: &Request,
) -> Result<Rotation, Error> {
    let views = load_views(fnox, opts, first, req.all_profiles || req.retire_old)?;
    let new_keyrings =
        if req.new_key || req.older_than.is_some() { new_keys(&views, req)? } else { Vec::new() };
    let mut jobs = fnox.block_on(select_jobs(&views, req))??;
    if let Some(age) = req.older_than {
        jobs = fnox.block_on(under_older_keys(jobs, age))?;
    }
    Ok(Rotation { views, jobs, new_keyrings, opts: opts.clone() })
}

pub(crate) fn load_views(
    fnox: &Fnox,
    opts: &LoadOptions,
    first: Project,
    all_profiles: bool,
) -> Result<Vec<Project>, Error> {
    if !all_profiles {
        return Ok(vec![first]);
    }
    let config = first.config().clone();
    let profiles: BTreeSet<String> = std::iter::once(DEFAULT_PROFILE.to_string())
        .chain(config.known_profiles.iter().cloned())
        .collect();
    let mut views = Vec::with_capacity(profiles.len());
    for profile in profiles {
        if config.profiles == [profile.as_str()] {
            views.push(first.clone());
        } else {
            views.push(fnox.load(&LoadOptions { profiles: vec![profile], ..opts.clone() })?);
        }
    }
    Ok(views)
}

/// The keyring file of local provider `def` of `view`.
pub fn keyring_path(view: &Project, def: &ProviderDef, c: &crate::config::LocalConfig) -> PathBuf {
    let base = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
    local::keyring_path(view.registry().context(), c, &base)
}

/// The keyring file of provider `name` of `view`, when it is a `local`
/// provider whose keys come from a file.
pub(crate) fn local_keyring(view: &Project, name: &str) -> Option<PathBuf> {
    let def = view.config().providers.get(name)?;
    let ProviderConfig::Local(c) = &def.config else { return None };
    match store_of(view.registry().context(), def, c)? {
        Store::File(path) => Some(path),
        Store::Keychain(_) => None,
    }
}

/// `new_key`: a keyring with a new primary key for every local provider in
/// play (in a file or the keychain), preset in the registries; written only
/// when rotation succeeds. With `older_than`, only for the keyrings whose
/// primary key is older.
fn new_keys(views: &[Project], req: &Request) -> Result<Vec<(Store, Keyring)>, Error> {
    let mut rings: HashMap<Store, Keyring> = HashMap::new();
    let mut young = std::collections::HashSet::new();
    for view in views {
        for def in view.config().providers.values() {
            let ProviderConfig::Local(c) = &def.config else { continue };
            if req.provider.as_ref().is_some_and(|p| p != &def.name) {
                continue;
            }
            let Some(store) = store_of(view.registry().context(), def, c) else {
                return Err(Error::NewKeyWithoutKeyring);
            };
            if young.contains(&store) {
                continue;
            }
            let ring = match rings.get(&store) {
                Some(r) => r.clone(),
                None => {
                    let ctx = view.registry().context();
                    let old = load_store(&store, ctx).map_err(|source| Error::Provider {
                        provider: def.name.clone(),
                        at: def.at.clone(),
                        source,
                    })?;
                    if req.older_than.is_some_and(|age| !older_than(old.primary().created(), age)) {
                        young.insert(store);
                        continue;
                    }
                    let ring = old.with_new_primary(LocalKey::generate());
                    rings.insert(store, ring.clone());
                    ring
                }
            };
            let provider =
                local::LocalProvider::with_keyring(ring, c.envelope, view.registry().context());
            view.registry().preset(&def.name, Arc::new(provider))?;
        }
    }
    if rings.is_empty() && req.new_key {
        return Err(Error::NewKeyWithoutLocalProvider);
    }
    Ok(rings.into_iter().collect())
}

/// True when a key created at `created` is older than `age` now; a key of
/// unknown age is not.
fn older_than(created: Option<std::time::SystemTime>, age: std::time::Duration) -> bool {
    created.is_some_and(|c| crate::key_age::age(c, crate::key_age::now()) > age)
}

/// The jobs whose value is under a key older than `age`: the key its bytes
/// name ([`crate::providers::Provider::key_of`]), dated by its provider.
async fn under_older_keys(jobs: Vec<Job>, age: std::time::Duration) -> Vec<Job> {
    let mut kept = Vec::new();
    for job in jobs {
        let stored = job.def.value.as_deref().unwrap_or_default();
        let Some(id) = crate::doctor::key_ages::value_key(job.from.as_ref(), stored) else {
            continue;
        };
        let dates = job.from.key_dates().await.ok().flatten().unwrap_or_default();
        if dates.iter().any(|k| k.id == id && older_than(k.created, age)) {
            kept.push(job);
        }
    }
    kept
}

async fn select_jobs(views: &[Project], req: &Request) -> Result<Vec<Job>, Error> {
    let mut seen = BTreeSet::new();
    let mut matched_names = BTreeSet::new();
    let mut jobs = Vec::new();
    for view in views {
        let config = view.config();
        for def in &config.all_secrets {
            if def.value.is_none() || (*def.at.file == *config.global_file && !req.global) {
                continue;
            }
            if !req.names.is_empty() && !req.names.contains(&def.name) {
                continue;
            }
            let from_name = provider_of(config, def)?;
            if req.provider.as_ref().is_some_and(|p| p != &from_name) {
                continue;
            }
            matched_names.insert(def.name.clone());
            if !seen.insert((def.at.file.clone(), def.table.clone(), def.name.clone())) {
                continue;
            }
            let to_name = req.to.clone().unwrap_or_else(|| from_name.clone());
            let from = view.registry().get(&from_name).await?;
            let to = view.registry().get(&to_name).await?;
            let to_keyring = local_keyring(view, &to_name);
            let data_keys = config.data_keys.get(&*def.at.file).cloned().unwrap_or_default();
            jobs.push(Job {
                def: def.clone(),
                from_name,
                to_name,
                from,
                to,
                to_keyring,
                data_keys,
            });
        }
    }
    if let Some(missing) = req.names.iter().find(|n| !matched_names.contains(*n)) {
        let profiles: Vec<String> = views.iter().map(|v| v.config().profile.clone()).collect();
        let defined = views.iter().flat_map(|v| v.config().secrets.keys().map(String::as_str));
        return Err(Error::UnknownSecret {
            name: missing.clone(),
            profile: profiles.join(", "),
            near: crate::suggest::nearest(missing, defined),
        });
    }
    Ok(jobs)
}
