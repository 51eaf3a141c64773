//! [`WritePlan`]: changes to several config files and keyrings, applied all
//! or nothing. `set`, `import` and `rotate` build one and commit it.
//!
//! Committing locks the keyrings it involves first (exclusively those it
//! changes, shared those whose key encrypted a new value), then every config
//! file; under the locks it checks that each value a change expects is
//! still there and that each new `local` value is under its keyring's
//! primary key (a rotation that ran meanwhile makes it refuse), and
//! computes every new text. Only then is anything written: keyrings first
//! (they keep every old key, retired ones included, so a crash between
//! writes leaves every value decryptable), then each config file once,
//! atomically. Every writer takes the locks in that order (keyrings, then
//! config files), so two writers never wait for each other in a cycle.

mod data_keys;

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
    path::{Path, PathBuf},
    sync::Arc,
};

use zeroize::Zeroizing;

use crate::{
    codec::decode_base64,
    config::{
        ProviderConfig, digest,
        edit::{self, SecretUpdate},
        write::{self, LockWait, Locked},
    },
    error::Error,
    providers::{
        Context, ProviderError, Registry,
        keychain::Keychain,
        keyring_file,
        local::{self, KeySource, Keyring},
    },
    value::DataKeyWrite,
};

/// A value encrypted with a key of a `local` keyring file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalKeyUse {
    /// The keyring file.
    pub keyring: PathBuf,
    /// The key's id (hex).
    pub key_id: String,
}

impl LocalKeyUse {
    /// The key of keyring file that made `stored`, when provider `provider`
    /// of `registry` is a `local` provider with a keyring file.
    pub fn of(registry: &Registry, provider: &str, stored: &str) -> Option<Self> {
        let def = registry.def(provider)?;
        let ProviderConfig::Local(c) = &def.config else { return None };
        let base = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
        let KeySource::File(keyring) = local::key_source(registry.context(), c, &base) else {
            return None;
        };
        let key_id = local::key_id_of(&decode_base64(stored).ok()?)?;
        Some(Self { keyring, key_id })
    }
}

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
    /// Other string fields to write with the value (`default`,
    /// `if_missing`).
    pub settings: Vec<(&'static str, String)>,
    /// The stored value the entry must still have when the plan commits;
    /// `None`: whatever it has.
    pub expect: Option<Option<Arc<str>>>,
    /// Where the old value token is and the digest of the file it was read
    /// from: when the file is unchanged, the token is replaced in place.
    pub in_place: Option<(Range<usize>, u64)>,
    /// For a new entry: where its line goes in the file (see
    /// [`crate::config::Config::new_entry_at`]) and the digest of the file
    /// it was read from: when the file is unchanged, the line is put there
    /// without reading the file again.
    pub insert_at: Option<(usize, u64)>,
    /// The `local` key that made the value: the plan commits it only while
    /// that key is its keyring's primary.
    pub local_key: Option<LocalKeyUse>,
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
            settings: Vec::new(),
            expect: None,
            in_place: None,
            insert_at: None,
            local_key: None,
        }
    }
}

/// A secret entry to remove (`edit`).
#[derive(Debug, Clone)]
pub struct Removal {
    /// The `[secrets]` table that holds it.
    pub table: Vec<String>,
    /// The secret.
    pub name: String,
    /// The stored value the entry must still have when the plan commits.
    pub expect: Option<Arc<str>>,
}

/// Changes to files and keyrings, committed together.
#[derive(Debug, Default)]
pub struct WritePlan {
    keyrings: Vec<(PathBuf, Keyring)>,
    files: BTreeMap<PathBuf, Vec<Change>>,
    removals: BTreeMap<PathBuf, Vec<Removal>>,
    retire: Vec<(PathBuf, Vec<String>)>,
    data_keys: BTreeMap<PathBuf, Vec<DataKeyWrite>>,
    /// Keyrings in the OS keychain: keys to add (with the new primary) and
    /// keys to retire, by item.
    items: BTreeMap<Keychain, (Vec<Keyring>, Vec<String>)>,
    wait: LockWait,
    /// How passphrase-protected keyrings are opened and sealed again.
    ctx: Option<Context>,
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

    /// Opens and seals passphrase-protected keyrings through `ctx` (its
    /// prompter and agent); without it, a protected keyring is an error.
    #[must_use]
    pub fn with_context(mut self, ctx: &Context) -> Self {
        self.ctx = Some(ctx.clone());
        self
    }

    /// Adds the keys of `ring` to the keyring at `path` (keeping the keys
    /// there), with `ring`'s primary as the primary; written before any
    /// config file.
    pub fn keyring(&mut self, path: PathBuf, ring: Keyring) {
        self.keyrings.push((path, ring));
    }

    /// Applies `change` to config file `file`.
    pub fn change(&mut self, file: PathBuf, change: Change) {
        self.files.entry(file).or_default().push(change);
    }

    /// Removes an entry of config file `file` (after the changes to it).
    pub fn remove(&mut self, file: PathBuf, removal: Removal) {
        self.files.entry(file.clone()).or_default();
        self.removals.entry(file).or_default().push(removal);
    }

    /// Checks and changes the `[data_keys]` entry of config file `file`
    /// that a value was sealed under (see [`DataKeyWrite`]).
    pub fn data_key(&mut self, file: PathBuf, write: DataKeyWrite) {
        self.files.entry(file.clone()).or_default();
        self.data_keys.entry(file).or_default().push(write);
    }

    /// Marks keys `ids` of the keyring at `path` retired: they stop
    /// encrypting and stay to decrypt (written with the keyring, before any
    /// config file).
    pub fn retire_keys(&mut self, path: PathBuf, ids: Vec<String>) {
        self.retire.push((path, ids));
    }

    /// [`Self::keyring`] for a keyring kept in keychain item `item`.
    pub fn keychain_keyring(&mut self, item: Keychain, ring: Keyring) {
        self.items.entry(item).or_default().0.push(ring);
    }

    /// [`Self::retire_keys`] for a keyring kept in keychain item `item`.
    pub fn retire_in_keychain(&mut self, item: Keychain, ids: Vec<String>) {
        self.items.entry(item).or_default().1.extend(ids);
    }

    /// Applies the plan. On an error before the first write nothing has
    /// changed.
    pub fn commit(self) -> Result<(), Error> {
        self.prepare()?.write()
    }

    /// Takes every lock, checks what the changes expect and computes every
    /// new text; nothing is written until [`Prepared::write`]. The locks
    /// are held until then, so a caller may check more under them.
    pub fn prepare(mut self) -> Result<Prepared, Error> {
        let mut exclusive: BTreeSet<&Path> =
            self.keyrings.iter().map(|(p, _)| p.as_path()).collect();
        exclusive.extend(self.retire.iter().map(|(p, _)| p.as_path()));
        let mut involved: BTreeMap<&Path, bool> = exclusive.iter().map(|p| (*p, true)).collect();
        for change in self.files.values().flatten() {
            if let Some(used) = &change.local_key {
                involved.entry(used.keyring.as_path()).or_insert(false);
            }
        }
        let mut keyrings = Vec::with_capacity(involved.len());
        let mut primaries = BTreeMap::new();
        for (path, exclusive) in involved {
            let locked = if exclusive {
                Locked::open(path, &self.wait)?
            } else {
                Locked::open_shared(path, &self.wait)?
            };
            let text = self.keyring_text(path, &locked.text)?;
            let mut ring = Keyring::parse(&text, &path.display().to_string())
                .map_err(|_| Error::KeyringChanged { path: path.to_path_buf() })?;
            for (_, new) in self.keyrings.iter().filter(|(p, _)| p == path) {
                ring = ring.merged(new, true);
            }
            for (_, ids) in self.retire.iter().filter(|(p, _)| p == path) {
                ring = ring.with_retired(ids);
            }
            primaries.insert(path.to_path_buf(), ring.primary().id_hex());
            let text = match exclusive {
                true => Some(self.keyring_bytes(path, &locked.text, &ring.to_text())?),
                false => None,
            };
            keyrings.push((locked, text));
        }
        let items = self.keychain_texts()?;
        for change in self.files.values().flatten() {
            let Some(used) = &change.local_key else { continue };
            if primaries.get(&used.keyring) != Some(&used.key_id) {
                return Err(Error::LocalKeyChanged {
                    name: change.name.clone(),
                    keyring: used.keyring.clone(),
                });
            }
        }
        let mut writes = Vec::with_capacity(self.files.len());
        for (file, mut changes) in std::mem::take(&mut self.files) {
            let lock = Locked::open(&file, &self.wait)?;
            let removals = self.removals.get(&file);
            let data_keys = self.data_keys.get(&file);
            if removals.is_none()
                && data_keys.is_none()
                && let Some((span, head)) = in_place(&lock.text, &changes)
            {
                let value = std::mem::take(&mut changes[0].value);
                writes.push((lock, NewText::Spliced { span, head, value }));
                continue;
            }
            let mut new = new_text(&file, &lock.text, &changes)?;
            if let Some(removals) = removals {
                new = without(&file, &lock.text, new, removals)?;
            }
            if let Some(writes) = data_keys {
                new = data_keys::apply(&file, &lock.text, new, writes)?;
            }
            writes.push((lock, NewText::Whole(new)));
        }
        Ok(Prepared { keyrings, items, writes })
    }

    /// The new text of each keychain item the plan changes. The keychain has
    /// no lock: an item changed by another process between this read and
    /// the write loses that change (see docs/keys.md).
    fn keychain_texts(&self) -> Result<Vec<(Keychain, Zeroizing<String>)>, Error> {
        let mut texts = Vec::with_capacity(self.items.len());
        for (item, (new, retire)) in &self.items {
            let err = |e| keyring_error(&item.account, e);
            let mut ring = local::load_or_create_in(item, false).map_err(err)?;
            for new in new {
                ring = ring.merged(new, true);
            }
            if !retire.is_empty() {
                ring = ring.with_retired(retire);
            }
            texts.push((item.clone(), ring.to_text()));
        }
        Ok(texts)
    }

    /// The keyring text of keyring file `path`, read as `stored`.
    fn keyring_text(&self, path: &Path, stored: &str) -> Result<Zeroizing<String>, Error> {
        if !keyring_file::is_protected(stored.as_bytes()) {
            return Ok(Zeroizing::new(stored.to_string()));
        }
        let ctx = self.protected_context(path)?;
        keyring_file::open(ctx, path, stored.as_bytes()).map_err(|e| keyring_error(path, e))
    }

    /// What to write to keyring file `path` (read as `stored`) for `text`.
    fn keyring_bytes(
        &self,
        path: &Path,
        stored: &str,
        text: &str,
    ) -> Result<Zeroizing<String>, Error> {
        if !keyring_file::is_protected(stored.as_bytes()) {
            return Ok(Zeroizing::new(text.to_string()));
        }
        let ctx = self.protected_context(path)?;
        keyring_file::seal_like(ctx, path, stored.as_bytes(), text)
            .map_err(|e| keyring_error(path, e))
    }

    fn protected_context(&self, path: &Path) -> Result<&Context, Error> {
        self.ctx.as_ref().ok_or_else(|| {
            let source_name = path.display().to_string();
            keyring_error(path, ProviderError::LocalKeyringNeedsTerminal { source_name })
        })
    }
}

/// A plan whose locks are held and whose new texts are computed.
#[derive(Debug)]
pub struct Prepared {
    keyrings: Vec<(Locked, Option<zeroize::Zeroizing<String>>)>,
    items: Vec<(Keychain, Zeroizing<String>)>,
    writes: Vec<(Locked, NewText)>,
}

/// The new text of a config file.
#[derive(Debug)]
enum NewText {
    /// All of it.
    Whole(String),
    /// The text read under the lock, with the bytes at `span` (an old
    /// value token, or nothing where a new entry goes) replaced by the
    /// string token of `value`, after `head` (the line of a new entry up to
    /// its value; its tail follows the token): written in parts, so a file
    /// that holds a large value is not built a second time.
    Spliced { span: Range<usize>, head: Option<String>, value: String },
}

impl NewText {
    /// Writes it under `lock`.
    fn write(&self, lock: &Locked) -> Result<(), Error> {
        match self {
            NewText::Whole(text) => replace(lock, text),
            NewText::Spliced { span, head, value } => {
                let token = edit::string_token(value);
                let mut parts = vec![&lock.text[..span.start]];
                parts.extend(head.as_deref());
                parts.extend(token.iter().map(|p| &**p));
                if head.is_some() {
                    parts.push(edit::NEW_ENTRY_TAIL);
                }
                parts.push(&lock.text[span.end..]);
                Ok(lock.replace_with_parts(&parts)?)
            }
        }
    }
}

impl Prepared {
    /// Writes the keyrings, then each config file; releases the locks.
    pub fn write(self) -> Result<(), Error> {
        for (locked, text) in &self.keyrings {
            if let Some(text) = text {
                replace(locked, text)?;
            }
        }
        for (item, text) in &self.items {
            item.write(text).map_err(|e| keyring_error(&item.account, e))?;
        }
        for (lock, new) in &self.writes {
            new.write(lock)?;
        }
        Ok(())
    }
}

fn keyring_error(path: &Path, source: ProviderError) -> Error {
    Error::Provider { provider: "local".into(), at: crate::config::Location::new(path, 0), source }
}

fn replace(lock: &Locked, text: &str) -> Result<(), Error> {
    Ok(lock.replace(text)?)
}

/// Where the one change of `changes` goes in `text` when the file is as it
/// was read and the change knows where: the span of its old value token
/// (the value alone changes), or the empty span where the line of a new
/// entry goes, with that line up to its value.
fn in_place(text: &str, changes: &[Change]) -> Option<(Range<usize>, Option<String>)> {
    let [change] = changes else { return None };
    if change.expect.is_some() {
        return None;
    }
    if let Some((span, read_digest)) = &change.in_place {
        let alone = change.settings.is_empty();
        return (alone && digest(text) == *read_digest).then(|| (span.clone(), None));
    }
    let (at, read_digest) = change.insert_at?;
    // The name written anywhere as a key would be (bare, quoted, dotted,
    // in a header) may be an entry of it: then the file is read to know.
    if !edit::is_bare_key(&change.name)
        || has_word(text, &change.name)
        || digest(text) != read_digest
    {
        return None;
    }
    let settings: Vec<(&str, &str)> =
        change.settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let update = SecretUpdate {
        provider: change.provider.as_deref(),
        value: "",
        description: change.description.as_deref(),
        settings: &settings,
    };
    Some((at..at, Some(edit::new_entry_head(&change.name, &update))))
}

/// True when `word` is in `text` with no character of a bare key
/// (letters, digits, `_`, `-`) right before or after it.
fn has_word(text: &str, word: &str) -> bool {
    let key_char = |b: Option<&u8>| b.is_some_and(|b| edit::is_bare_key_byte(*b));
    let bytes = text.as_bytes();
    // memchr's search runs on vectors (str::find's does not).
    memchr::memmem::find_iter(bytes, word.as_bytes()).any(|at| {
        let end = at + word.len();
        !key_char(at.checked_sub(1).and_then(|i| bytes.get(i))) && !key_char(bytes.get(end))
    })
}

/// The new text of `file` (now `text`) with `changes`, after checking what
/// they expect.
fn new_text(file: &Path, text: &str, changes: &[Change]) -> Result<String, Error> {
    let edit_error = |source| Error::Edit { path: file.to_path_buf(), source };
    if let Some((span, None)) = in_place(text, changes) {
        return Ok(edit::splice(text, span, &changes[0].value));
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
    let settings: Vec<Vec<(&str, &str)>> = changes
        .iter()
        .map(|c| c.settings.iter().map(|(k, v)| (*k, v.as_str())).collect())
        .collect();
    let updates: Vec<_> = changes
        .iter()
        .zip(&settings)
        .map(|(c, settings)| {
            let update = SecretUpdate {
                provider: c.provider.as_deref(),
                value: &c.value,
                description: c.description.as_deref(),
                settings,
            };
            (c.table.as_slice(), c.name.as_str(), update)
        })
        .collect();
    edit::set_secrets(text, &updates).map_err(edit_error)
}

/// `new` (the new text of `file`, now `text`) without the entries of
/// `removals`, after checking that each still has the value it expects.
fn without(
    file: &Path,
    text: &str,
    mut new: String,
    removals: &[Removal],
) -> Result<String, Error> {
    let edit_error = |source| Error::Edit { path: file.to_path_buf(), source };
    let entries: Vec<(&[String], &str)> =
        removals.iter().map(|r| (r.table.as_slice(), r.name.as_str())).collect();
    let now = edit::stored_values(text, &entries).map_err(edit_error)?;
    for (removal, now) in removals.iter().zip(now) {
        if now.as_deref() != removal.expect.as_deref() {
            return Err(Error::ChangedMeanwhile {
                name: removal.name.clone(),
                path: file.to_path_buf(),
            });
        }
        let removed =
            edit::remove_secret(&new, &removal.table, &removal.name).map_err(edit_error)?;
        new = removed.map(|r| r.text).ok_or_else(|| Error::ChangedMeanwhile {
            name: removal.name.clone(),
            path: file.to_path_buf(),
        })?;
    }
    Ok(new)
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
    write::create_new(path, text, mode)
        .map_err(|source| Error::Create { path: path.to_path_buf(), source })
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
    fn a_new_entry_goes_where_the_load_found_while_the_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fnox.toml");
        let text = "[secrets]\nX = { value = \"x\" } # keep\n\n[providers.l]\ntype = \"local\"\n";
        std::fs::write(&path, text).unwrap();
        let config = crate::config::load(
            &crate::env::Environment::new(dir.path()),
            &dir.path().join("no-config-dir"),
            &crate::config::LoadOptions::default(),
        )
        .unwrap();
        let secrets = vec!["secrets".to_string()];
        let insert_at = config.new_entry_at(&path, &secrets);
        assert_eq!(insert_at.map(|(at, _)| at), text.find("\n\n").map(|n| n + 1));
        let new = |name: &str, value: &str| Change {
            insert_at,
            provider: Some("l".into()),
            description: Some("the \"new\" one".into()),
            ..change(name, value)
        };
        let mut plan = WritePlan::new();
        plan.change(path.clone(), new("NEW", "bmV3"));
        plan.commit().unwrap();
        let expected = "[secrets]\nX = { value = \"x\" } # keep\n\
            NEW = { provider = \"l\", description = 'the \"new\" one', value = \"bmV3\" }\n\n\
            [providers.l]\ntype = \"local\"\n";
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
        // The same text as toml_edit gives.
        let update = SecretUpdate {
            provider: Some("l"),
            value: "bmV3",
            description: Some("the \"new\" one"),
            settings: &[],
        };
        assert_eq!(edit::set_secrets(text, &[(&secrets, "NEW", update)]).unwrap(), expected);
        // The file changed since: the entry goes where the file now says.
        let mut plan = WritePlan::new();
        plan.change(path.clone(), new("OTHER", "b3RoZXI="));
        plan.commit().unwrap();
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(now.contains("value = \"bmV3\" }\nOTHER = { provider"), "{now}");
        // A name written as a key anywhere (here a table of its own) is
        // left to the edit, which finds the entry.
        let text = "[secrets]\nX = { value = \"x\" }\n[secrets.T]\nvalue = \"t\"\n";
        std::fs::write(&path, text).unwrap();
        let digest = digest(text);
        let mut plan = WritePlan::new();
        let at = text.find("[secrets.T]").unwrap();
        plan.change(path.clone(), Change { insert_at: Some((at, digest)), ..change("T", "dA==") });
        plan.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text.replace("\"t\"", "\"dA==\""));
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

    #[test]
    fn removals_go_with_the_changes_in_one_write_and_check_their_values() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fnox.toml");
        let text = "[secrets]\n# about X\nX = { value = \"x\" }\nY = { value = \"y\" }\n";
        std::fs::write(&file, text).unwrap();
        let removal = |expect: &str| Removal {
            table: vec!["secrets".into()],
            name: "X".into(),
            expect: Some(expect.into()),
        };
        let mut plan = WritePlan::new();
        plan.change(file.clone(), change("Y", "y2"));
        plan.remove(file.clone(), removal("other"));
        let err = plan.commit().unwrap_err();
        assert!(matches!(err, Error::ChangedMeanwhile { ref name, .. } if name == "X"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        let mut plan = WritePlan::new();
        plan.change(file.clone(), change("Y", "y2"));
        plan.remove(file.clone(), removal("x"));
        plan.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "[secrets]\nY = { value = \"y2\" }\n");
    }

    #[test]
    fn a_local_value_is_written_only_under_its_keyrings_primary_key() {
        use crate::providers::local::LocalKey;
        let dir = tempfile::tempdir().unwrap();
        let (file, keys) = (dir.path().join("fnox.toml"), dir.path().join("local.key"));
        std::fs::write(&file, "[secrets]\n").unwrap();
        let ring = Keyring::single(LocalKey::generate(), "k");
        let old = ring.primary().id_hex();
        let ring = ring.with_new_primary(LocalKey::generate());
        create(&keys, ring.to_text().as_bytes(), 0o600).unwrap();
        let under = |key_id: &str| {
            let mut plan = WritePlan::new();
            let used = LocalKeyUse { keyring: keys.clone(), key_id: key_id.to_string() };
            plan.change(file.clone(), Change { local_key: Some(used), ..change("X", "v") });
            plan.commit()
        };
        let err = under(&old).unwrap_err();
        assert!(matches!(err, Error::LocalKeyChanged { ref name, .. } if name == "X"), "{err:?}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "[secrets]\n");
        under(&ring.primary().id_hex()).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "[secrets]\nX = { value = \"v\" }\n");
    }

    #[test]
    fn a_name_is_a_word_only_between_characters_of_no_bare_key() {
        let text = "[secrets]\nAPI_KEY2 = {}\nX-API_KEY = {}\n\"API_KEY\" = {}\n";
        assert!(super::has_word(text, "API_KEY"));
        assert!(!super::has_word(&text[..text.rfind('"').unwrap() - 8], "API_KEY"));
        assert!(super::has_word("API_KEY", "API_KEY"));
        assert!(super::has_word("a.API_KEY.b", "API_KEY"));
        assert!(!super::has_word("", "API_KEY"));
    }
}
