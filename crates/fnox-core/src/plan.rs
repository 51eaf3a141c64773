//! [`WritePlan`]: changes to several config files and keyrings, applied all
//! or nothing. `set`, `import` and `rotate` build one and commit it.
//!
//! Committing locks every config file first, checks under the locks that
//! each value a change expects is still there, and computes every new text;
//! only then is anything written: new keyrings first (they keep the old
//! keys, so a crash between writes leaves every value decryptable), then
//! each config file once, atomically; keys are retired last.

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
    path::{Path, PathBuf},
    sync::Arc,
};

use crate::{
    config::{
        digest,
        edit::{self, SecretUpdate},
        write::{self, LockWait, Locked},
    },
    error::{Error, FileAction},
    providers::local::Keyring,
};

/// A new or changed secret entry.
#[derive(Debug, Clone)]
pub struct Change {
    /// The `[secrets]` table that holds it (e.g. `["secrets"]`).
    pub table: Vec<String>,
    /// The secret.
    pub name: String,
    /// `provider = ...` to write (when given and different).
    pub provider: Option<String>,
    /// The new stored value.
    pub value: String,
    /// `description = ...` to write.
    pub description: Option<String>,
    /// The stored value the entry must still have when the plan commits;
    /// `None`: whatever it has.
    pub expect: Option<Option<Arc<str>>>,
    /// Where the old value token is and the digest of the file it was read
    /// from: when the file is unchanged, the token is replaced in place.
    pub in_place: Option<(Range<usize>, u64)>,
}

impl Change {
    /// A change of secret `name` in `table` to `value`.
    pub fn new(table: Vec<String>, name: impl Into<String>, value: String) -> Self {
        Self {
            table,
            name: name.into(),
            provider: None,
            value,
            description: None,
            expect: None,
            in_place: None,
        }
    }
}

/// Changes to files and keyrings, committed together.
#[derive(Debug, Default)]
pub struct WritePlan {
    keyrings: Vec<(PathBuf, Keyring)>,
    files: BTreeMap<PathBuf, Vec<Change>>,
    retire: Vec<(PathBuf, Vec<String>)>,
    wait: LockWait,
}

impl WritePlan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for other writers' locks as `wait` says (by default
    /// [`write::DEFAULT_LOCK_TIMEOUT`], silently).
    #[must_use]
    pub fn with_lock_wait(mut self, wait: LockWait) -> Self {
        self.wait = wait;
        self
    }

    /// Writes `ring` to `path` before any config file.
    pub fn keyring(&mut self, path: PathBuf, ring: Keyring) {
        self.keyrings.push((path, ring));
    }

    /// Applies `change` to config file `file`.
    pub fn change(&mut self, file: PathBuf, change: Change) {
        self.files.entry(file).or_default().push(change);
    }

    /// After everything else, removes keys `ids` from the keyring at `path`
    /// (which must then hold exactly those old keys besides its primary).
    pub fn retire_keys(&mut self, path: PathBuf, ids: Vec<String>) {
        self.retire.push((path, ids));
    }

    /// The config files the plan changes.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }

    /// True when the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.keyrings.is_empty() && self.files.is_empty() && self.retire.is_empty()
    }

    /// Applies the plan. On an error before the first write nothing has
    /// changed.
    pub fn commit(self) -> Result<(), Error> {
        let mut writes = Vec::with_capacity(self.files.len());
        let wait = &self.wait;
        for (file, changes) in &self.files {
            let lock = lock(file, wait)?;
            let new = new_text(file, &lock.text, changes)?;
            writes.push((lock, new));
        }
        for (path, ring) in &self.keyrings {
            let locked = lock(path, wait)?;
            replace(&locked, &ring.to_text())?;
        }
        for (lock, new) in &writes {
            replace(lock, new)?;
        }
        for (path, ids) in &self.retire {
            retire(path, ids, wait)?;
        }
        Ok(())
    }
}

fn lock(path: &Path, wait: &LockWait) -> Result<Locked, Error> {
    Ok(Locked::open(path, wait)?)
}

fn replace(lock: &Locked, text: &str) -> Result<(), Error> {
    Ok(lock.replace(text)?)
}

/// The new text of `file` (now `text`) with `changes`, after checking what
/// they expect.
fn new_text(file: &Path, text: &str, changes: &[Change]) -> Result<String, Error> {
    let edit_error = |source| Error::Edit { path: file.to_path_buf(), source };
    if let [change] = changes
        && let Some((span, read_digest)) = &change.in_place
        && change.expect.is_none()
        && digest(text) == *read_digest
    {
        return Ok(edit::splice(text, span.clone(), &change.value));
    }
    let expecting: Vec<(&[String], &str)> = changes
        .iter()
        .filter(|c| c.expect.is_some())
        .map(|c| (c.table.as_slice(), c.name.as_str()))
        .collect();
    if !expecting.is_empty() {
        let now = edit::stored_values(text, &expecting).map_err(edit_error)?;
        let expected = changes.iter().filter_map(|c| c.expect.as_ref().map(|e| (c, e)));
        for ((change, expected), now) in expected.zip(now) {
            if now.as_deref() != expected.as_deref() {
                return Err(Error::ChangedMeanwhile {
                    name: change.name.clone(),
                    path: file.to_path_buf(),
                });
            }
        }
    }
    let updates: Vec<_> = changes
        .iter()
        .map(|c| {
            let update = SecretUpdate {
                provider: c.provider.as_deref(),
                value: &c.value,
                description: c.description.as_deref(),
            };
            (c.table.as_slice(), c.name.as_str(), update)
        })
        .collect();
    edit::set_secrets(text, &updates).map_err(edit_error)
}

fn retire(path: &Path, ids: &[String], wait: &LockWait) -> Result<(), Error> {
    let locked = lock(path, wait)?;
    let ring = Keyring::parse(&locked.text, &path.display().to_string())
        .map_err(|_| Error::KeyringChanged { path: path.to_path_buf() })?;
    let on_disk: BTreeSet<String> = ring.old_key_ids().into_iter().collect();
    if on_disk != ids.iter().cloned().collect() {
        return Err(Error::KeyringChanged { path: path.to_path_buf() });
    }
    replace(&locked, &ring.only_primary().to_text())
}

/// Edits config file `path` in place, under its lock (waited for as `wait`
/// says): `edit` gets the text and returns the new one (`None`: leave the
/// file alone). Returns whether `edit` returned a new text.
pub fn edit_file(
    path: &Path,
    wait: &LockWait,
    edit: impl FnOnce(&str) -> Result<Option<String>, edit::EditError>,
) -> Result<bool, Error> {
    enum Failed {
        Write(write::WriteError),
        Edit(edit::EditError),
    }
    impl From<write::WriteError> for Failed {
        fn from(e: write::WriteError) -> Self {
            Self::Write(e)
        }
    }
    write::modify(path, wait, |text| {
        let new = edit(text).map_err(Failed::Edit)?;
        let changed = new.is_some();
        Ok((new, changed))
    })
    .map_err(|e| match e {
        Failed::Write(e) => Error::Write(e),
        Failed::Edit(source) => Error::Edit { path: path.to_path_buf(), source },
    })
}

/// Creates `path` with `text` and `mode`; fails when it exists.
pub fn create(path: &Path, text: &[u8], mode: u32) -> Result<(), Error> {
    write::create_new(path, text, mode).map_err(|e| Error::file(FileAction::Create, path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, value: &str) -> Change {
        Change::new(vec!["secrets".into()], name, value.into())
    }

    #[test]
    fn every_file_is_checked_before_any_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
        std::fs::write(&a, "[secrets]\nX = { value = \"old\" }\n").unwrap();
        std::fs::write(&b, "[secrets]\nY = { value = \"was\" }\n").unwrap();
        let mut plan = WritePlan::new();
        plan.change(a.clone(), Change { expect: Some(Some("old".into())), ..change("X", "new") });
        plan.change(b.clone(), Change { expect: Some(Some("other".into())), ..change("Y", "n") });
        let err = plan.commit().unwrap_err();
        assert!(matches!(err, Error::ChangedMeanwhile { ref name, .. } if name == "Y"));
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "[secrets]\nX = { value = \"old\" }\n");

        let mut plan = WritePlan::new();
        plan.change(a.clone(), Change { expect: Some(Some("old".into())), ..change("X", "new") });
        plan.change(b.clone(), change("Z", "z"));
        plan.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "[secrets]\nX = { value = \"new\" }\n");
        assert_eq!(
            std::fs::read_to_string(&b).unwrap(),
            "[secrets]\nY = { value = \"was\" }\nZ = { value = \"z\" }\n"
        );
    }

    #[test]
    fn an_unchanged_file_is_spliced_in_place_a_changed_one_is_edited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fnox.toml");
        let text = "[secrets]\nX = { value = \"old\" } # keep\n";
        std::fs::write(&path, text).unwrap();
        let start = text.find("\"old\"").unwrap();
        let in_place = Some((start..start + 5, digest(text)));
        let mut plan = WritePlan::new();
        plan.change(path.clone(), Change { in_place: in_place.clone(), ..change("X", "new") });
        plan.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[secrets]\nX = { value = \"new\" } # keep\n"
        );
        // The digest no longer matches: the entry is found by name instead.
        std::fs::write(&path, format!("# moved\n{text}")).unwrap();
        let mut plan = WritePlan::new();
        plan.change(path.clone(), Change { in_place, ..change("X", "newer") });
        plan.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# moved\n[secrets]\nX = { value = \"newer\" } # keep\n"
        );
    }
}
