//! What the saved text changes: encrypt what changed, confirm removals,
//! write the file once.

use std::path::PathBuf;

use fnox_core::{
    Project, SecretBytes,
    config::SecretDef,
    keys,
    plan::{Change, LocalKeyUse, Removal, WritePlan},
    resolve::provider_of,
    value::FileKeys,
};
use zeroize::Zeroizing;

use super::{
    super::{error::CommandError, ui::Ui},
    form::Values,
};
use crate::exit_codes::ExitStatus;

/// An edit to apply.
pub struct Edit {
    pub file: PathBuf,
    pub table: Vec<String>,
    /// The file and table, as notes show them.
    pub place: String,
    /// The entries shown, and their values.
    pub entries: Vec<SecretDef>,
    pub values: Vec<Zeroizing<Vec<u8>>>,
    /// The values saved.
    pub edited: Values,
    /// `--yes`.
    pub yes: bool,
}

/// Writes what `edit` changes; `file_keys` holds the data keys the read
/// unwrapped (shared by the new values' seals).
pub fn apply(
    ui: &Ui,
    project: &Project,
    edit: &Edit,
    mut file_keys: FileKeys,
) -> Result<ExitStatus, CommandError> {
    let config = project.config();
    let mut changed = Vec::new();
    let mut removed = Vec::new();
    for (def, old) in edit.entries.iter().zip(&edit.values) {
        match edit.edited.get(&def.name) {
            None => removed.push(def),
            Some(new) if **new == **old => {}
            Some(_) => changed.push((def.name.clone(), provider_of(config, def)?, Some(def))),
        }
    }
    let shown = |name: &str| edit.entries.iter().any(|d| d.name == name);
    for name in edit.edited.keys().filter(|n| !shown(n)) {
        let provider =
            config.default_provider.clone().ok_or_else(|| fnox_core::Error::NoDefaultProvider {
                name: name.clone(),
                defined: config.provider_names(),
            })?;
        changed.push((name.clone(), provider, None));
    }
    if changed.is_empty() && removed.is_empty() {
        ui.note(&format!("no changes to {}", edit.place));
        return Ok(ExitStatus::SUCCESS);
    }
    if !removed.is_empty() && !edit.yes {
        let names: Vec<&str> = removed.iter().map(|d| d.name.as_str()).collect();
        let what = format!(
            "remove {} from {}: {}",
            fnox_core::words::count(names.len(), "secret", "secrets"),
            edit.place,
            names.join(", ")
        );
        if let Some(why) = ui.cannot_ask() {
            return Err(CommandError::user(format!(
                "not confirmed ({why}): {what}; nothing was changed"
            ))
            .hint("run `fnox edit --yes` to remove deleted lines without a question"));
        }
        if !ui.confirm(&format!("{what}?"))? {
            return Err(CommandError::user("not confirmed; nothing was changed"));
        }
    }
    let mut plan = WritePlan::new()
        .with_lock_wait(project.fnox().lock_wait()?)
        .with_context(project.fnox().context());
    for (name, provider, def) in &changed {
        let missing = keys::missing_keys(project, provider, &edit.file, name)?;
        if !missing.is_empty() {
            return Err(fnox_core::Error::ForeignLocalKeys {
                file: edit.file.clone(),
                provider: provider.clone(),
                key_ids: missing,
            }
            .into());
        }
        let plaintext = SecretBytes::from_slice(&edit.edited[name]);
        let stored = seal(project, &mut file_keys, &edit.file, name, provider, &plaintext)?;
        let local_key = LocalKeyUse::of(project.registry(), provider, &stored);
        let mut change = Change::new(edit.table.clone(), name, stored);
        change.provider = def.is_none().then(|| provider.clone());
        change.expect = Some(def.and_then(|d| d.value.clone()));
        change.local_key = local_key;
        plan.change(edit.file.clone(), change);
    }
    for (file, write) in file_keys.writes() {
        plan.data_key(file.clone(), write.clone());
    }
    for def in &removed {
        let removal = Removal {
            table: edit.table.clone(),
            name: def.name.clone(),
            expect: def.value.clone(),
        };
        plan.remove(edit.file.clone(), removal);
    }
    plan.commit()?;
    ui.note(&summary(edit, &changed, &removed));
    Ok(ExitStatus::SUCCESS)
}

type Changed<'a> = (String, String, Option<&'a SecretDef>);

fn summary(edit: &Edit, changed: &[Changed<'_>], removed: &[&SecretDef]) -> String {
    let names = |it: &mut dyn Iterator<Item = &str>| it.collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    let updated = names(&mut changed.iter().filter(|c| c.2.is_some()).map(|c| c.0.as_str()));
    let added = names(&mut changed.iter().filter(|c| c.2.is_none()).map(|c| c.0.as_str()));
    let gone = names(&mut removed.iter().map(|d| d.name.as_str()));
    for (verb, list) in [("changed", updated), ("added", added), ("removed", gone)] {
        if !list.is_empty() {
            parts.push(format!("{verb} {list}"));
        }
    }
    format!("{}: {}", edit.place, parts.join("; "))
}

/// The stored text of `plaintext` for secret `name` in `file` (in
/// data-key mode under the file's data key, shared through `file_keys`).
fn seal(
    project: &Project,
    file_keys: &mut FileKeys,
    file: &std::path::Path,
    name: &str,
    provider_name: &str,
    plaintext: &SecretBytes,
) -> Result<String, CommandError> {
    let registry = project.registry().clone();
    let line = project.config().data_key(file, provider_name);
    let stored = project.fnox().block_on(async {
        let provider = registry.get(provider_name).await?;
        file_keys.seal(provider.as_ref(), provider_name, file, line, name, plaintext).await.map_err(
            |source| fnox_core::Error::Encrypt {
                name: name.to_string(),
                provider: provider_name.to_string(),
                file: file.to_path_buf(),
                source,
            },
        )
    })??;
    Ok(stored)
}
