//! Rotation in data-key mode: a file's data key is re-wrapped once (one
//! `ReEncrypt` or transit `rewrap` per data key, its values untouched);
//! `--new-data-key` replaces it and re-seals that file's values; values
//! move between per-secret and data-key mode as the provider's
//! `data_key` setting says. Each (file, provider) entry is unwrapped,
//! created or re-wrapped once, before its values.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use super::run::{Job, Method, Options};
use crate::{
    codec,
    file_key::{self, FileKeyError, FileKeyLine},
    providers::{Provider, ProviderError},
    value::{self, DataKeyWrite, FileKey},
};

/// True when rotating `job` involves a data key: its value is under one,
/// or its provider after rotation has `data_key = true`.
pub(super) fn involves_file_key(job: &Job) -> bool {
    if job.to.data_key() && !job.to.stores_plaintext() {
        return true;
    }
    let stored = job.def.value.as_deref().unwrap_or_default();
    !job.from.stores_plaintext() && job.from.decode(stored).is_ok_and(|b| file_key::is_value(&b))
}

/// One (file, provider) data key as rotation leaves it.
#[derive(Debug, Default)]
pub(super) struct Entry {
    /// The unwrapped key its values are under now.
    old: Option<FileKey>,
    /// The key values sealed in this rotation go under.
    target: Option<FileKey>,
    /// The change of its `[data_keys]` line.
    write: Option<DataKeyWrite>,
}

/// The data keys of a rotation, by (file, provider), each prepared once.
pub(super) type Entries = BTreeMap<(PathBuf, String), Result<Entry, Arc<ProviderError>>>;

/// What the jobs need of each (file, provider) entry.
#[derive(Debug, Default)]
struct Need {
    provider: Option<Arc<dyn Provider>>,
    line: Option<String>,
    /// Values under it that are re-sealed elsewhere (opened with it).
    leaving: usize,
    /// Values sealed under it in this rotation.
    arriving: bool,
    /// The names of the values under it that leave.
    leaving_names: Vec<String>,
}

/// Prepares every entry the data-key `jobs` touch.
pub(super) async fn prepare(jobs: &[&Job], opts: Options) -> Entries {
    let mut needs: BTreeMap<(PathBuf, String), Need> = BTreeMap::new();
    for job in jobs {
        let file = job.def.at.file.to_path_buf();
        let stored = job.def.value.as_deref().unwrap_or_default();
        let under_key = job.from.decode(stored).is_ok_and(|b| file_key::is_value(&b))
            && !job.from.stores_plaintext();
        let stays = under_key && !moves(job, opts);
        if under_key {
            let need = needs.entry((file.clone(), job.from_name.clone())).or_default();
            need.provider = Some(job.from.clone());
            need.line = job.data_keys.get(&job.from_name).cloned();
            if !stays {
                need.leaving += 1;
                need.leaving_names.push(job.def.name.clone());
            }
        }
        if job.to.data_key() && !stays {
            let need = needs.entry((file, job.to_name.clone())).or_default();
            need.provider = Some(job.to.clone());
            need.line = job.data_keys.get(&job.to_name).cloned();
            need.arriving = true;
        }
    }
    let prepared =
        futures::future::join_all(needs.into_iter().map(|((file, name), need)| async move {
            let entry = prepare_one(&file, &name, need, opts).await.map_err(Arc::new);
            ((file, name), entry)
        }))
        .await;
    prepared.into_iter().collect()
}

/// True when a value under a data key leaves it: `--new-data-key`, a move
/// to another provider, or a provider no longer in data-key mode.
fn moves(job: &Job, opts: Options) -> bool {
    opts.new_data_key || job.from_name != job.to_name || !job.from.data_key()
}

async fn prepare_one(
    file: &Path,
    name: &str,
    need: Need,
    opts: Options,
) -> Result<Entry, ProviderError> {
    let provider = need.provider.as_deref().expect("every need names its provider");
    let Some(line) = need.line else {
        if need.leaving > 0 {
            return Err(FileKeyError::Missing { provider: name.to_string() }.into());
        }
        let target = value::new_file_key(provider, name).await?;
        let write = DataKeyWrite {
            provider: name.to_string(),
            expect: None,
            line: Some(target.line.clone()),
        };
        return Ok(Entry { old: None, target: Some(target), write: Some(write) });
    };
    let keeps = provider.data_key() && !opts.new_data_key;
    let old = if need.leaving > 0 || (keeps && need.arriving) {
        Some(value::unwrap_file_key(provider, name, &line).await?)
    } else {
        None
    };
    let (target, new_line) = if keeps {
        let new_line = rewrap_line(provider, name, &line).await?;
        (old.clone().map(|k| FileKey { line: new_line.clone(), ..k }), Some(new_line))
    } else if provider.data_key() {
        // A new data key: every value under the old one must move with it.
        if still_used(file, &line, &need.leaving_names) {
            return Err(FileKeyError::NotAllSelected { provider: name.to_string() }.into());
        }
        let fresh = value::new_file_key(provider, name).await?;
        let new_line = fresh.line.clone();
        (Some(fresh), Some(new_line))
    } else if still_used(file, &line, &need.leaving_names) {
        (None, Some(line.clone()))
    } else {
        (None, None)
    };
    let write = DataKeyWrite { provider: name.to_string(), expect: Some(line), line: new_line };
    Ok(Entry { old, target, write: Some(write) })
}

/// The line `line` re-wrapped under the provider's current key, in the
/// key service (a key that cannot be re-wrapped there is unwrapped and
/// wrapped again).
async fn rewrap_line(
    provider: &dyn Provider,
    name: &str,
    line: &str,
) -> Result<String, ProviderError> {
    let parsed = FileKeyLine::parse(name, line)?;
    let binding = file_key::binding(name, &parsed.id);
    let wrapped = provider.decode(&parsed.wrapped)?;
    let new = match provider.rewrap(&binding, &wrapped).await {
        Some(result) => {
            let r = result?;
            if r.unchanged {
                return Ok(line.to_string());
            }
            r.ciphertext
        }
        None => {
            if provider.is_current(&wrapped) == Some(true) {
                return Ok(line.to_string());
            }
            let opened = provider.decrypt(&binding, &wrapped).await?;
            file_key::unwrapped(name, &opened)?;
            provider.encrypt(&binding, &opened).await?
        }
    };
    Ok(FileKeyLine { id: parsed.id, wrapped: provider.encode(&new) }.to_text())
}

/// True when file `file` holds a data-key value under `line`'s key other
/// than those of `leaving` (read from the file as it is now; any profile).
fn still_used(file: &Path, line: &str, leaving: &[String]) -> bool {
    let Ok(parsed) = FileKeyLine::parse("", line) else { return true };
    let Ok(text) = std::fs::read_to_string(file) else { return true };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else { return true };
    let mut tables: Vec<&dyn toml_edit::TableLike> = Vec::new();
    tables.extend(doc.get("secrets").and_then(|t| t.as_table_like()));
    if let Some(profiles) = doc.get("profiles").and_then(|t| t.as_table_like()) {
        for (_, p) in profiles.iter() {
            tables.extend(p.get("secrets").and_then(|t| t.as_table_like()));
        }
    }
    let under = |v: &str| {
        codec::decode_base64(v)
            .is_ok_and(|b| file_key::value_id(&b).is_ok_and(|id| id == parsed.id))
    };
    // A profile's entry of a leaving name may stay: count every use, and
    // the leaving ones once each.
    let uses = tables
        .iter()
        .flat_map(|t| t.iter())
        .filter(|(_, e)| e.get("value").and_then(|v| v.as_str()).is_some_and(under))
        .count();
    uses > leaving.len()
}

/// Rotates one data-key job with its entries prepared.
pub(super) async fn rotate_value(
    job: &Job,
    entries: &Entries,
    opts: Options,
) -> Result<(Method, Option<String>, Vec<DataKeyWrite>), ProviderError> {
    let file = job.def.at.file.to_path_buf();
    let name = &job.def.name;
    let stored = job.def.value.as_deref().unwrap_or_default();
    let entry = |provider: &str| -> Result<&Entry, ProviderError> {
        match entries.get(&(file.clone(), provider.to_string())) {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(ProviderError::FileKeyUnwrap {
                provider: provider.to_string(),
                source: e.clone(),
            }),
            None => Err(FileKeyError::Missing { provider: provider.to_string() }.into()),
        }
    };
    let bytes = job.from.decode(stored)?;
    let mut writes = Vec::new();
    let plain = if file_key::is_value(&bytes) {
        let from = entry(&job.from_name)?;
        writes.extend(from.write.clone());
        if !moves(job, opts) {
            return Ok((Method::Unchanged, None, writes));
        }
        let old = from.old.as_ref().ok_or(FileKeyError::NeedsFile)?;
        value::open_under(old, &job.from_name, name, &bytes)?
    } else {
        value::open(job.from.as_ref(), name, stored).await?
    };
    let method = if job.from_name == job.to_name { Method::Reencrypt } else { Method::Move };
    if job.to.data_key() {
        let to = entry(&job.to_name)?;
        writes.extend(to.write.clone());
        let target = to.target.as_ref().ok_or(FileKeyError::NeedsFile)?;
        return Ok((method, Some(value::seal_under(target, name, &plain)), writes));
    }
    let sealed = value::seal(job.to.as_ref(), name, &plain, false).await?;
    Ok((method, Some(sealed), writes))
}
