//! The life of `local` keys beyond one command: which keys a file's values
//! need that this machine lacks, moving a keyring to another machine
//! (export, import), and deleting retired keys (after a backup).

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use crate::{
    Fnox, Project,
    codec::decode_base64,
    config::write::LockWait,
    config::{Config, LoadOptions, LocalConfig, Location, ProviderConfig, ProviderDef},
    error::Error,
    providers::{
        Context, ProviderError,
        keychain::Keychain,
        keyring_file,
        local::{self, KeySource, Keyring, LocalKey},
    },
    resolve::provider_of,
    rotate::keys::users_of,
};

fn provider_error(provider: &str, path: &Path, source: ProviderError) -> Error {
    Error::Provider { provider: provider.to_string(), at: Location::new(path, 0), source }
}

/// The keys (hex) that values of `local` provider `provider` in `file`
/// (other than secret `except`) are under and that this machine does not
/// have (neither in its keyring nor in `FNOX_LOCAL_KEY`). Empty for other
/// provider types.
pub fn missing_keys(
    project: &Project,
    provider: &str,
    file: &Path,
    except: &str,
) -> Result<Vec<String>, Error> {
    let config = project.config();
    let Some(def) = config.providers.get(provider) else { return Ok(Vec::new()) };
    let ProviderConfig::Local(c) = &def.config else { return Ok(Vec::new()) };
    let used = used_key_ids(config, provider, file, except);
    if used.is_empty() {
        return Ok(used.into_iter().collect());
    }
    let ctx = project.registry().context();
    let base = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
    let have: Option<Keyring> = match local::key_source(ctx, c, &base) {
        KeySource::File(path) => {
            local::load_existing(&path, ctx).map_err(|e| provider_error(provider, &path, e))?
        }
        KeySource::Keychain(item) => match local::load_or_create_in(&item, false) {
            Ok(ring) => Some(ring),
            Err(ProviderError::NoKeychainKey { .. }) => None,
            Err(e) => return Err(provider_error(provider, &item.account, e)),
        },
        KeySource::Env | KeySource::Given => {
            let key =
                LocalKey::from_base64(ctx.env.var(local::ENV_KEY).unwrap_or(""), local::ENV_KEY)
                    .map_err(|e| provider_error(provider, &def.at.file, e))?;
            Some(Keyring::single(key, local::ENV_KEY))
        }
    };
    Ok(used.into_iter().filter(|id| !have.as_ref().is_some_and(|r| r.has(id))).collect())
}

/// The key ids (hex) of the values of provider `provider` in `file`, other
/// than secret `except`'s: of the entries in the model, and of those that
/// a load for one secret left out of it ([`Config::left_out_values`]).
pub(crate) fn used_key_ids(
    config: &Config,
    provider: &str,
    file: &Path,
    except: &str,
) -> BTreeSet<String> {
    let mut used = KeyIds::default();
    for s in config.all_secrets.iter().filter(|s| *s.at.file == *file && s.name != except) {
        if provider_of(config, s).ok().as_deref() != Some(provider) {
            continue;
        }
        if let Some(value) = s.value.as_deref() {
            used.add(value);
        }
    }
    let default = config.default_provider.as_deref();
    for (of, value) in config.left_out_values(file) {
        if of.or(default) == Some(provider) {
            used.add(value);
        }
    }
    used.ids
}

/// The key ids of `local` values, each direct value's read from its head:
/// values under one key share what of their text the key id is in, and a
/// value whose head was seen before adds nothing.
#[derive(Default)]
struct KeyIds<'v> {
    ids: BTreeSet<String>,
    heads: Vec<(&'v str, u8)>,
}

impl<'v> KeyIds<'v> {
    fn add(&mut self, stored: &'v str) {
        let head = head_of(stored);
        if head.is_some_and(|h| self.heads.contains(&h)) {
            return;
        }
        let Some((id, direct)) = local_key_id(stored) else { return };
        if let (Some(head), true) = (head, direct) {
            self.heads.push(head);
        }
        self.ids.insert(id);
    }
}

/// What the first 5 bytes of `stored` (base64) are written in: its first 6
/// characters and the high 4 bits of the 7th. In a direct value they are
/// the version and the key id, and the first 4 say whether it is an
/// envelope.
fn head_of(stored: &str) -> Option<(&str, u8)> {
    let seventh = match *stored.as_bytes().get(6)? {
        c @ b'A'..=b'Z' => c - b'A',
        c @ b'a'..=b'z' => c - b'a' + 26,
        c @ b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some((stored.get(..6)?, seventh >> 2))
}

/// The key id of `stored`, a value of a `local` provider: a direct value
/// has it in its first bytes, so only they are decoded (an envelope, or a
/// value too short for that, is decoded whole); with `true` when it was
/// read from the head alone.
fn local_key_id(stored: &str) -> Option<(String, bool)> {
    // 8 characters of base64 are 6 bytes: the version and the key id.
    let head = stored.get(..8).and_then(|p| decode_base64(p).ok());
    match head {
        Some(head) if !crate::envelope::is_envelope(&head) => {
            local::key_id_of(&head).map(|id| (id, true))
        }
        _ => local::key_id_of(&decode_base64(stored).ok()?).map(|id| (id, false)),
    }
}

/// Where a keyring is kept: a file, or an item of the OS keychain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Store {
    /// A keyring file.
    File(PathBuf),
    /// A keychain item (`key_store = "keychain"`).
    Keychain(Keychain),
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Keychain(k) => write!(f, "{k}"),
        }
    }
}

impl Store {
    /// The keyring file, when it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::File(p) => Some(p),
            Self::Keychain(_) => None,
        }
    }

    /// The path errors name: the file, or the one the keychain item stands for.
    pub fn path(&self) -> &Path {
        match self {
            Self::File(p) => p,
            Self::Keychain(k) => &k.account,
        }
    }
}

/// The keyrings of the project's `local` providers (files and keychain
/// items), by provider name.
pub fn stores(project: &Project) -> Vec<(String, Store)> {
    let ctx = project.registry().context();
    project
        .config()
        .providers
        .values()
        .filter_map(|def| {
            let ProviderConfig::Local(c) = &def.config else { return None };
            Some((def.name.clone(), store_of(ctx, def, c)?))
        })
        .collect()
}

/// The keyring of `local` provider `def` (settings `c`): a file or a
/// keychain item; `None` when its key comes from `FNOX_LOCAL_KEY`.
pub fn store_of(ctx: &Context, def: &ProviderDef, c: &LocalConfig) -> Option<Store> {
    let base = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
    match local::key_source(ctx, c, &base) {
        KeySource::File(path) => Some(Store::File(path)),
        KeySource::Keychain(item) => Some(Store::Keychain(item)),
        KeySource::Env | KeySource::Given => None,
    }
}

/// The keyring in `store` as it is now (it must exist; a file must be
/// private; a protected one is opened through `ctx`).
pub fn load_store(store: &Store, ctx: &Context) -> Result<Keyring, ProviderError> {
    match store {
        Store::File(path) => local::load_or_create(path, false, ctx),
        Store::Keychain(item) => local::load_or_create_in(item, false),
    }
}

/// [`load_store`], its error naming the keyring.
pub fn read_store(store: &Store, ctx: &Context) -> Result<Keyring, Error> {
    load_store(store, ctx).map_err(|e| provider_error("local", store.path(), e))
}

/// Adds the keys of `ring` to the keyring in `store` (see [`import`]); a
/// keychain item is created or replaced in one call.
pub fn import_store(
    store: &Store,
    ring: &Keyring,
    keep_primary: bool,
    ctx: &Context,
) -> Result<Imported, Error> {
    let Store::Keychain(item) = store else {
        return import(store.path(), ring, keep_primary, ctx);
    };
    let err = |e| provider_error("local", &item.account, e);
    let before = match local::load_or_create_in(item, false) {
        Ok(ring) => Some(ring),
        Err(ProviderError::NoKeychainKey { .. }) => None,
        Err(e) => return Err(err(e)),
    };
    let after = match &before {
        Some(b) => b.merged(ring, !keep_primary),
        None => ring.clone(),
    };
    item.write(&after.to_text()).map_err(err)?;
    let (added, known) =
        ring.ids().into_iter().partition(|id| !before.as_ref().is_some_and(|b| b.has(id)));
    Ok(Imported { added, known, primary: after.primary().id_hex(), created: before.is_none() })
}

/// The keyring files of the project's `local` providers, by provider name
/// ([`stores`] without the keychain items).
pub fn keyrings(project: &Project) -> Vec<(String, PathBuf)> {
    stores(project)
        .into_iter()
        .filter_map(|(name, store)| match store {
            Store::File(path) => Some((name, path)),
            Store::Keychain(_) => None,
        })
        .collect()
}

/// The keyring file at `path` (which must exist and be private): [`read_store`]
/// of a file.
pub fn read(path: &Path, ctx: &Context) -> Result<Keyring, Error> {
    read_store(&Store::File(path.to_path_buf()), ctx)
}

/// Writes an export of `text` to `path`: mode 0600, never inside a git
/// working tree, never over an existing file.
pub fn write_export(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(toplevel) = crate::git::toplevel(path) {
        return Err(Error::ExportInGitTree { path: path.to_path_buf(), toplevel });
    }
    crate::plan::create(path, text.as_bytes(), 0o600)
}

/// Keys to import: a keyring file's text, or one base64 key (as in
/// `FNOX_LOCAL_KEY`, with or without `FNOX_LOCAL_KEY=` before it).
pub fn parse_import(text: &str, source_name: &str) -> Result<Keyring, ProviderError> {
    let lines: Vec<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    if let [line] = lines.as_slice()
        && let key = line.strip_prefix("export ").unwrap_or(line).trim()
        && key.split_whitespace().count() == 1
    {
        let key = key.strip_prefix("FNOX_LOCAL_KEY=").unwrap_or(key);
        let key = key.trim_matches(|c| c == '"' || c == '\'');
        return Ok(Keyring::single(LocalKey::from_base64(key, source_name)?, source_name));
    }
    Keyring::parse(text, source_name)
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Keys (hex) that were added.
    pub added: Vec<String>,
    /// Keys (hex) the keyring had already.
    pub known: Vec<String>,
    /// The primary key (hex) afterwards.
    pub primary: String,
    /// True when the keyring file was created.
    pub created: bool,
}

/// Adds the keys of `ring` to the keyring at `path` (created when there is
/// none, where key files may be created); `ring`'s primary becomes the
/// primary unless `keep_primary`. A protected keyring stays protected
/// under its passphrase.
pub fn import(
    path: &Path,
    ring: &Keyring,
    keep_primary: bool,
    ctx: &Context,
) -> Result<Imported, Error> {
    let added_to = |before: Option<&Keyring>, after: &Keyring, created| {
        let (added, known) =
            ring.ids().into_iter().partition(|id| !before.is_some_and(|b| b.has(id)));
        Imported { added, known, primary: after.primary().id_hex(), created }
    };
    if local::load_existing(path, ctx).map_err(|e| provider_error("local", path, e))?.is_none() {
        local::prepare_key_file(path).map_err(|e| provider_error("local", path, e))?;
        match crate::plan::create(path, ring.to_text().as_bytes(), 0o600) {
            Ok(()) => return Ok(added_to(None, ring, true)),
            Err(Error::Create { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let locked = crate::config::write::Locked::open(path, &LockWait::default())?;
    let before = parse_locked(path, &locked, ctx)?;
    let after = before.merged(ring, !keep_primary);
    let stored = keyring_file::seal_like(ctx, path, locked.text.as_bytes(), &after.to_text())
        .map_err(|e| provider_error("local", path, e))?;
    locked.replace(&stored)?;
    Ok(added_to(Some(&before), &after, false))
}

/// The keyring in locked keyring file `path`.
fn parse_locked(
    path: &Path,
    locked: &crate::config::write::Locked,
    ctx: &Context,
) -> Result<Keyring, Error> {
    let err = |e| provider_error("local", path, e);
    let text = keyring_file::open(ctx, path, locked.text.as_bytes()).map_err(err)?;
    Keyring::parse(&text, &path.display().to_string()).map_err(err)
}

/// Every profile of the project `first` belongs to.
pub fn all_profiles(
    fnox: &Fnox,
    opts: &LoadOptions,
    first: Project,
) -> Result<Vec<Project>, Error> {
    crate::rotate::select::load_views(fnox, opts, first, true)
}

/// The values of `views` under retired key `ids` of keyring `path`, as
/// `NAME (file:line, key ID)`.
pub fn retired_users(views: &[Project], path: &Path, ids: &[String]) -> Vec<String> {
    let ids: BTreeSet<String> = ids.iter().cloned().collect();
    users_of(views, &HashMap::new(), path, &ids)
}

/// The name of the provider of `views` whose keyring is `path`.
pub fn provider_of_keyring(views: &[Project], path: &Path) -> String {
    crate::rotate::keys::provider_of_keyring(views, path)
}

/// Deletes retired keys `ids` from the keyring at `path`, after writing the
/// keyring as it was to a backup file beside it (mode 0600). Returns the
/// backup's path.
pub fn delete_retired(
    path: &Path,
    ids: &[String],
    now_secs: u64,
    ctx: &Context,
) -> Result<PathBuf, Error> {
    let locked = crate::config::write::Locked::open(path, &LockWait::default())?;
    let ring = parse_locked(path, &locked, ctx)?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".backup-{now_secs}"));
    let backup = path.with_file_name(name);
    local::prepare_key_file(&backup).map_err(|e| provider_error("local", &backup, e))?;
    crate::plan::create(&backup, locked.text.as_bytes(), 0o600)?;
    let stored = keyring_file::seal_like(
        ctx,
        path,
        locked.text.as_bytes(),
        &ring.without_retired(ids).to_text(),
    )
    .map_err(|e| provider_error("local", path, e))?;
    locked.replace(&stored)?;
    Ok(backup)
}

/// [`delete_retired`] for the keyring in `store`. A keychain item is backed
/// up into a second item (its account `PATH.backup-SECONDS`), never into a
/// file; the keychain has no lock, so a change made to the item between
/// the read and the write is lost. Returns where the backup is.
pub fn delete_retired_store(
    store: &Store,
    ids: &[String],
    now_secs: u64,
    ctx: &Context,
) -> Result<Store, Error> {
    let Store::Keychain(item) = store else {
        return delete_retired(store.path(), ids, now_secs, ctx).map(Store::File);
    };
    let err = |e| provider_error("local", &item.account, e);
    let ring = local::load_or_create_in(item, false).map_err(err)?;
    let mut account = item.account.clone().into_os_string();
    account.push(format!(".backup-{now_secs}"));
    let backup = Keychain::for_path(Path::new(&account));
    backup.write(&ring.to_text()).map_err(err)?;
    item.write(&ring.without_retired(ids).to_text()).map_err(err)?;
    Ok(Store::Keychain(backup))
}

/// Protects keyring file `path` with a new passphrase, asked twice through
/// `ctx`'s prompter (before the file is locked), then encrypted in age's
/// scrypt format and written atomically in place of the file.
pub fn protect(path: &Path, ctx: &Context) -> Result<(), Error> {
    let err = |e| provider_error("local", path, e);
    if keyring_file::is_protected(&read_bytes(path, ctx)?) {
        return Err(Error::KeyringProtected { path: path.to_path_buf() });
    }
    let passphrase = ask_new_passphrase(ctx, path)?;
    let locked = crate::config::write::Locked::open(path, &LockWait::default())?;
    if keyring_file::is_protected(locked.text.as_bytes()) {
        return Err(Error::KeyringProtected { path: path.to_path_buf() });
    }
    let ring = parse_locked(path, &locked, ctx)?;
    let sealed = keyring_file::protect(path, &ring.to_text(), &passphrase).map_err(err)?;
    Ok(locked.replace(&sealed)?)
}

/// Asks for a new passphrase for keyring file `path`, twice.
pub fn ask_new_passphrase(ctx: &Context, path: &Path) -> Result<zeroize::Zeroizing<String>, Error> {
    keyring_file::ask_new(ctx, path).map_err(|e| match e {
        ProviderError::EmptyPassphrase | ProviderError::PassphrasesDiffer => {
            Error::NewPassphrase(e)
        }
        e => provider_error("local", path, e),
    })
}

/// Removes the passphrase of keyring file `path` (asked for, never taken
/// from the agent): the keyring is written as plain text again.
pub fn unprotect(path: &Path, ctx: &Context) -> Result<(), Error> {
    let (locked, text, _) = open_protected(path, ctx)?;
    Ok(locked.replace(&text)?)
}

/// Changes the passphrase of keyring file `path`: the current one, then
/// the new one twice; the keys stay as they are.
pub fn change_passphrase(path: &Path, ctx: &Context) -> Result<(), Error> {
    let err = |e| provider_error("local", path, e);
    let (locked, text, _) = open_protected(path, ctx)?;
    let passphrase = ask_new_passphrase(ctx, path)?;
    let sealed = keyring_file::protect(path, &text, &passphrase).map_err(err)?;
    Ok(locked.replace(&sealed)?)
}

/// Locks protected keyring file `path` and opens it with the passphrase
/// the user types: the lock, the keyring text (checked to be a keyring)
/// and the passphrase.
fn open_protected(
    path: &Path,
    ctx: &Context,
) -> Result<
    (crate::config::write::Locked, zeroize::Zeroizing<String>, zeroize::Zeroizing<String>),
    Error,
> {
    let err = |e| provider_error("local", path, e);
    read_bytes(path, ctx)?;
    let locked = crate::config::write::Locked::open(path, &LockWait::default())?;
    if !keyring_file::is_protected(locked.text.as_bytes()) {
        return Err(Error::KeyringNotProtected { path: path.to_path_buf() });
    }
    let (text, passphrase) =
        keyring_file::ask_and_open(ctx, path, locked.text.as_bytes()).map_err(err)?;
    Keyring::parse(&text, &path.display().to_string()).map_err(err)?;
    Ok((locked, text, passphrase))
}

/// The bytes of keyring file `path` (which must exist and be private).
fn read_bytes(path: &Path, ctx: &Context) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let err = |e| provider_error("local", path, e);
    local::read_key_bytes(path, &ctx.notify)
        .map_err(err)?
        .ok_or_else(|| err(ProviderError::NoLocalKey { path: path.to_path_buf() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_read_once_per_head_and_every_key_counts() {
        let value = |key: [u8; 4], nonce: u8| {
            let mut bytes = vec![1, key[0], key[1], key[2], key[3], nonce];
            bytes.extend([nonce; 40]);
            crate::codec::encode_base64(&bytes)
        };
        // Keys that differ in the last bits of the key id: the 7th
        // character of base64, which the nonce's first bits share.
        let (k1, k2) = ([9, 9, 9, 0b0000_0000], [9, 9, 9, 0b0000_0001]);
        let mut envelope = b"FNXE\x02\x00\x00\x00\x2e".to_vec();
        envelope.extend(crate::codec::decode_base64(&value([7, 7, 7, 7], 0)).unwrap());
        envelope.extend([0; 28]);
        let envelope = crate::codec::encode_base64(&envelope);
        let values = [value(k1, 0), value(k1, 255), value(k2, 0), value(k2, 0x0f), envelope];
        let mut ids = KeyIds::default();
        for v in &values {
            ids.add(v);
        }
        assert_eq!(ids.ids.into_iter().collect::<Vec<_>>(), ["07070707", "09090900", "09090901"]);
        // One head per key for the direct values; the envelope has none.
        assert_eq!(ids.heads.len(), 2);
    }

    #[test]
    fn imports_read_keyrings_and_single_keys() {
        let key = LocalKey::generate();
        let b64 = key.to_base64();
        for text in [
            b64.to_string(),
            format!("FNOX_LOCAL_KEY={}\n", *b64),
            format!("export FNOX_LOCAL_KEY=\"{}\"", *b64),
        ] {
            let ring = parse_import(&text, "stdin").unwrap();
            assert_eq!(ring.ids(), vec![key.id_hex()]);
        }
        let ring = Keyring::single(key, "k").with_new_primary(LocalKey::generate());
        assert_eq!(parse_import(&ring.to_text(), "f").unwrap().ids(), ring.ids());
        assert!(parse_import("nope", "f").is_err());
    }

    #[test]
    fn import_merges_and_delete_retired_backs_up_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/local.key");
        let (ctx, _) = Context::for_tests();
        let notify = &ctx;
        let theirs = Keyring::single(LocalKey::generate(), "t");
        let done = import(&path, &theirs, false, notify).unwrap();
        assert!(done.created);
        let mine = Keyring::single(LocalKey::generate(), "m");
        let done = import(&path, &mine, false, notify).unwrap();
        assert_eq!((done.added.len(), done.primary.clone()), (1, mine.primary().id_hex()));
        let ring = read(&path, notify).unwrap().with_retired(&[theirs.primary().id_hex()]);
        std::fs::write(&path, ring.to_text().as_bytes()).unwrap();
        let before = std::fs::read(&path).unwrap();
        let backup = delete_retired(&path, &ring.retired_ids(), 7, notify).unwrap();
        assert_eq!(backup, dir.path().join("keys/local.key.backup-7"));
        assert_eq!(std::fs::read(&backup).unwrap(), before);
        assert_eq!(read(&path, notify).unwrap().ids(), vec![mine.primary().id_hex()]);
    }
}
