//! The `local` provider's keys: [`LocalKey`], the [`Keyring`] file (one
//! key per line, `ID BASE64 [primary|retired] [created=DATE]`), and key
//! files on disk:
//! read only when private (no access for group or others, as ssh
//! requires), created only outside a git working tree or where git ignores
//! them, with a warning when git tracks one that is read.
//!
//! A key's id is derived from the key, so the same key has the same id
//! everywhere (on a laptop's keyring and in CI's `FNOX_LOCAL_KEY`). A
//! retired key no longer encrypts and is kept to decrypt (with a warning)
//! until `fnox keys delete-retired` removes it. A key made by fnox records
//! when (`created=`, RFC 3339 in UTC, to the second), so `max_key_age` can
//! tell its age; a line without it (written before keys had dates) is a
//! key of unknown age.

use std::{
    collections::BTreeSet,
    fs::File,
    io::Read,
    path::{Path, PathBuf},
    time::SystemTime,
};

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{error::ProviderError, keychain::Keychain, provider::Context};
use crate::notice::{Notice, Notify};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A 256-bit key, its 4-byte id, and when it was created (when known).
#[derive(Clone)]
pub struct LocalKey {
    pub(super) id: [u8; 4],
    pub(super) key: Zeroizing<[u8; 32]>,
    created: Option<SystemTime>,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalKey({})", hex::encode(self.id))
    }
}

impl LocalKey {
    /// A fresh random key, created now.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        Self { created: Some(crate::key_age::now()), ..Self::from_bytes(key) }
    }

    /// When the key was created; `None` when nothing says (a key from
    /// `FNOX_LOCAL_KEY`, or a keyring line without `created=`).
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }

    fn from_bytes(key: Zeroizing<[u8; 32]>) -> Self {
        let digest =
            Sha256::new().chain_update(b"fnox local key id\0").chain_update(&key[..]).finalize();
        let mut id = [0u8; 4];
        id.copy_from_slice(&digest[..4]);
        Self { id, key, created: None }
    }

    /// A key from its base64 form (`FNOX_LOCAL_KEY`, a keyring line).
    pub fn from_base64(text: &str, source_name: &str) -> Result<Self, ProviderError> {
        let bad = |reason: &str| ProviderError::BadKey {
            source_name: source_name.to_string(),
            reason: reason.to_string(),
        };
        let bytes = Zeroizing::new(
            B64.decode(text.trim()).map_err(|_| bad("the key is not valid base64"))?,
        );
        let arr: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| bad("the key is not 32 bytes long"))?;
        Ok(Self::from_bytes(Zeroizing::new(arr)))
    }

    /// The key id as 8 hex digits.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// The key as base64 (for the keyring file and `FNOX_LOCAL_KEY`).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(&self.key[..]))
    }
}

/// Several keys, one of them primary (used to encrypt); retired keys only
/// decrypt.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<LocalKey>,
    retired: BTreeSet<[u8; 4]>,
    primary: usize,
    pub(super) source_name: String,
}

impl Keyring {
    /// Parses a keyring file's text.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ProviderError> {
        let mut ring = Self {
            keys: Vec::new(),
            retired: BTreeSet::new(),
            primary: 0,
            source_name: source_name.to_string(),
        };
        let mut primary = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let where_ = format!("{source_name}:{}", i + 1);
            let bad =
                |reason: String| ProviderError::BadKey { source_name: where_.clone(), reason };
            let mut parts = line.split_whitespace();
            let (Some(id), Some(b64)) = (parts.next(), parts.next()) else {
                return Err(
                    bad("expected `ID BASE64_KEY [primary|retired] [created=DATE]`".into()),
                );
            };
            let mut key = LocalKey::from_base64(b64, &where_)?;
            if key.id_hex() != id {
                return Err(bad(format!("key id {id} does not match its key")));
            }
            let (state, created) = line_fields(parts).map_err(bad)?;
            key.created = created;
            match state {
                Some("primary") => primary = Some(ring.keys.len()),
                Some(_) => {
                    ring.retired.insert(key.id);
                }
                None => {}
            }
            ring.keys.push(key);
        }
        let last = ring.keys.iter().rposition(|k| !ring.retired.contains(&k.id));
        let Some(p) = primary.or(last) else {
            return Err(ProviderError::BadKey {
                source_name: source_name.to_string(),
                reason: "the keyring holds no key that may encrypt".into(),
            });
        };
        if ring.retired.contains(&ring.keys[p].id) {
            return Err(ProviderError::BadKey {
                source_name: source_name.to_string(),
                reason: "the primary key is marked retired".into(),
            });
        }
        ring.primary = p;
        Ok(ring)
    }

    /// A keyring of one key.
    pub fn single(key: LocalKey, source_name: &str) -> Self {
        Self {
            keys: vec![key],
            retired: BTreeSet::new(),
            primary: 0,
            source_name: source_name.to_string(),
        }
    }

    /// The same keyring with `key` added (when new) as the primary key.
    pub fn with_new_primary(&self, key: LocalKey) -> Self {
        let mut ring = self.clone();
        ring.primary = match ring.keys.iter().position(|k| k.id == key.id) {
            Some(i) => i,
            None => {
                ring.keys.push(key);
                ring.keys.len() - 1
            }
        };
        ring.retired.remove(&ring.keys[ring.primary].id);
        ring
    }

    /// This keyring with the keys of `other` it lacks (retired ones stay
    /// retired); `other`'s primary becomes the primary when `adopt_primary`.
    pub fn merged(&self, other: &Keyring, adopt_primary: bool) -> Self {
        let mut ring = self.clone();
        for k in &other.keys {
            if ring.find(&k.id).is_none() {
                ring.keys.push(k.clone());
                if other.retired.contains(&k.id) {
                    ring.retired.insert(k.id);
                }
            }
        }
        if adopt_primary {
            ring = ring.with_new_primary(other.primary().clone());
        }
        ring
    }

    /// Ids (hex) of the keys that are neither primary nor retired.
    pub fn old_key_ids(&self) -> Vec<String> {
        self.ids_where(|i, k| i != self.primary && !self.retired.contains(&k.id))
    }

    /// Ids (hex) of the retired keys.
    pub fn retired_ids(&self) -> Vec<String> {
        self.ids_where(|_, k| self.retired.contains(&k.id))
    }

    /// Ids (hex) of every key, in file order.
    pub fn ids(&self) -> Vec<String> {
        self.ids_where(|_, _| true)
    }

    fn ids_where(&self, keep: impl Fn(usize, &LocalKey) -> bool) -> Vec<String> {
        self.keys.iter().enumerate().filter(|(i, k)| keep(*i, k)).map(|(_, k)| k.id_hex()).collect()
    }

    /// True when the keyring has key `id` (hex), retired or not.
    pub fn has(&self, id: &str) -> bool {
        self.keys.iter().any(|k| k.id_hex() == id)
    }

    /// True when key `id` (its 4 bytes) is retired.
    pub(super) fn is_retired_id(&self, id: &[u8]) -> bool {
        self.retired.iter().any(|r| r[..] == *id)
    }

    /// True when key `id` (hex) is retired.
    pub fn is_retired(&self, id: &str) -> bool {
        self.retired.iter().any(|r| hex::encode(r) == id)
    }

    /// The same keyring with keys `ids` (hex) marked retired; the primary
    /// key is never retired.
    pub fn with_retired(&self, ids: &[String]) -> Self {
        let mut ring = self.clone();
        for (i, k) in self.keys.iter().enumerate() {
            if i != self.primary && ids.contains(&k.id_hex()) {
                ring.retired.insert(k.id);
            }
        }
        ring
    }

    /// The same keyring without the retired keys among `ids` (hex).
    pub fn without_retired(&self, ids: &[String]) -> Self {
        let primary_id = self.primary().id;
        let gone = |k: &LocalKey| self.retired.contains(&k.id) && ids.contains(&k.id_hex());
        let keys: Vec<LocalKey> = self.keys.iter().filter(|k| !gone(k)).cloned().collect();
        let primary = keys.iter().position(|k| k.id == primary_id).unwrap_or(0);
        let retired = self.retired.iter().filter(|r| keys.iter().any(|k| &k.id == *r)).copied();
        Self { retired: retired.collect(), keys, primary, source_name: self.source_name.clone() }
    }

    /// The file text for this keyring.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::from(
            "# fnox local keyring: the keys that decrypt `local` secrets.\n\
             # Keep this file private and out of git. One key per line: key id,\n\
             # base64 key, and `primary` on the key that encrypts new values\n\
             # (`retired`: kept to decrypt old values only); `created=` says\n\
             # when the key was made (UTC).\n",
        ));
        for (i, k) in self.keys.iter().enumerate() {
            out.push_str(&k.id_hex());
            out.push(' ');
            out.push_str(&k.to_base64());
            if i == self.primary {
                out.push_str(" primary");
            } else if self.retired.contains(&k.id) {
                out.push_str(" retired");
            }
            if let Some(created) = k.created {
                out.push_str(" created=");
                out.push_str(&crate::key_age::timestamp(created));
            }
            out.push('\n');
        }
        out
    }

    /// When key `id` (hex) was created, when the keyring says.
    pub fn created(&self, id: &str) -> Option<SystemTime> {
        self.keys.iter().find(|k| k.id_hex() == id).and_then(|k| k.created)
    }

    /// The key that encrypts.
    pub fn primary(&self) -> &LocalKey {
        &self.keys[self.primary]
    }

    pub(super) fn find(&self, id: &[u8]) -> Option<&LocalKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// The fields of a keyring line after the key: `primary` or `retired`
/// (at most one), then `created=DATE`, each optional.
fn line_fields<'a>(
    fields: impl Iterator<Item = &'a str>,
) -> Result<(Option<&'a str>, Option<SystemTime>), String> {
    let (mut state, mut created) = (None, None);
    for field in fields {
        match field {
            "primary" | "retired" if state.is_none() && created.is_none() => state = Some(field),
            _ => match field.strip_prefix("created=") {
                Some(date) if created.is_none() => {
                    created = Some(humantime::parse_rfc3339(date).map_err(|_| {
                        format!(
                            "`created={date}` is not a date and time in UTC such as 2026-01-31T09:30:00Z"
                        )
                    })?);
                }
                _ => {
                    return Err(format!(
                        "unexpected `{field}`: after the key, a line may have `primary` or `retired`, then `created=DATE`"
                    ));
                }
            },
        }
    }
    Ok((state, created))
}

/// Refuses a key file that group or others may access (as ssh does for
/// private keys).
pub fn check_private(file: &File, path: &Path) -> Result<(), ProviderError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|source| ProviderError::KeyFile { path: path.to_path_buf(), source })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ProviderError::KeyFileTooOpen { path: path.to_path_buf(), mode: mode & 0o777 });
    }
    Ok(())
}

/// Reads key file `path` when it is private; `Ok(None)` when it does not
/// exist. Says once through `notify` when git tracks it.
pub fn read_key_file(
    path: &Path,
    notify: &Notify,
) -> Result<Option<Zeroizing<String>>, ProviderError> {
    let Some(bytes) = read_key_bytes(path, notify)? else { return Ok(None) };
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Some(Zeroizing::new(text.to_string()))),
        Err(_) => Err(ProviderError::KeyFile {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not text"),
        }),
    }
}

/// [`read_key_file`] for a file that may not be text (an identity file
/// encrypted with a passphrase).
pub fn read_key_bytes(
    path: &Path,
    notify: &Notify,
) -> Result<Option<Zeroizing<Vec<u8>>>, ProviderError> {
    let file_err = |source| ProviderError::KeyFile { path: path.to_path_buf(), source };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_err(e)),
    };
    check_private(&file, path)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes).map_err(file_err)?;
    if crate::git::is_tracked(path) {
        notify(Notice::TrackedKeyFile { path: path.to_path_buf() });
    }
    Ok(Some(bytes))
}

/// Refuses to create key file `path` inside a git working tree unless git
/// ignores it; then makes its directory (0700).
pub fn prepare_key_file(path: &Path) -> Result<(), ProviderError> {
    if let Some(toplevel) = crate::git::exposed(path) {
        return Err(ProviderError::KeyFileInGitTree { path: path.to_path_buf(), toplevel });
    }
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| ProviderError::KeyFile { path: path.to_path_buf(), source })?;
    }
    Ok(())
}

/// Reads the keyring at `path` (asking for its passphrase when it is
/// protected; see [`super::keyring_file`]); when it does not exist and
/// `create` is set, makes one with a fresh primary key (mode 0600, in a
/// 0700 directory).
pub fn load_or_create(path: &Path, create: bool, ctx: &Context) -> Result<Keyring, ProviderError> {
    if let Some(ring) = load_file(path, ctx)? {
        return Ok(ring);
    }
    if !create {
        return Err(ProviderError::NoLocalKey { path: path.to_path_buf() });
    }
    let ring = Keyring::single(LocalKey::generate(), &path.display().to_string());
    create_file(path, &ring.to_text(), ctx).map(|theirs| theirs.unwrap_or(ring))
}

/// Makes a keyring file at `path` with a fresh primary key, protected with
/// `passphrase`: the key is never on disk unencrypted.
pub fn create_protected(
    path: &Path,
    passphrase: &str,
    ctx: &Context,
) -> Result<Keyring, ProviderError> {
    let ring = Keyring::single(LocalKey::generate(), &path.display().to_string());
    let text = super::keyring_file::protect(path, &ring.to_text(), passphrase)?;
    create_file(path, &text, ctx).map(|theirs| theirs.unwrap_or(ring))
}

/// The keyring in file `path`, `None` when there is none.
fn load_file(path: &Path, ctx: &Context) -> Result<Option<Keyring>, ProviderError> {
    let Some(bytes) = read_key_bytes(path, &ctx.notify)? else { return Ok(None) };
    let text = super::keyring_file::open(ctx, path, &bytes)?;
    Keyring::parse(&text, &path.display().to_string()).map(Some)
}

/// Creates keyring file `path` with `text` (0600, in a 0700 directory);
/// when another process created it first, theirs.
fn create_file(path: &Path, text: &str, ctx: &Context) -> Result<Option<Keyring>, ProviderError> {
    let file_err = |source| ProviderError::KeyFile { path: path.to_path_buf(), source };
    prepare_key_file(path)?;
    match crate::config::write::create_new(path, text.as_bytes(), 0o600) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_file(path, ctx)?
            .map(Some)
            .ok_or_else(|| file_err(std::io::Error::from(std::io::ErrorKind::NotFound))),
        Err(e) => Err(file_err(e)),
    }
}

/// Reads the keyring in keychain `item`; when there is none and `create`
/// is set, puts one there with a fresh primary key.
pub fn load_or_create_in(item: &Keychain, create: bool) -> Result<Keyring, ProviderError> {
    let name = item.to_string();
    if let Some(text) = item.read()? {
        return Keyring::parse(&text, &name);
    }
    if !create {
        return Err(ProviderError::NoKeychainKey { item: name });
    }
    let ring = Keyring::single(LocalKey::generate(), &name);
    item.write(&ring.to_text())?;
    Ok(ring)
}

/// The keyring at `path`, or `None` when there is no file.
pub fn load_existing(path: &Path, ctx: &Context) -> Result<Option<Keyring>, ProviderError> {
    load_file(path, ctx)
}

/// Where a `local` provider's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `FNOX_LOCAL_KEY` (one key, for CI).
    Env,
    /// A keyring file.
    File(PathBuf),
    /// A keyring in the OS keychain (`key_store = "keychain"`).
    Keychain(Keychain),
    /// A keyring given in memory (`rotate --new-key` before it is written).
    Given,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_keys_round_trip_and_never_encrypt() {
        let ring =
            Keyring::single(LocalKey::generate(), "k").with_new_primary(LocalKey::generate());
        let old = ring.old_key_ids();
        assert_eq!(old.len(), 1);
        let retired = ring.with_retired(&old);
        assert!(retired.old_key_ids().is_empty());
        assert_eq!(retired.retired_ids(), old);
        let back = Keyring::parse(&retired.to_text(), "k").unwrap();
        assert_eq!(back.retired_ids(), old);
        assert_eq!(back.primary().id_hex(), ring.primary().id_hex());
        assert!(back.to_text().contains(" retired created="));
        let gone = back.without_retired(&old);
        assert_eq!(gone.ids(), vec![ring.primary().id_hex()]);
        // Never the primary.
        assert!(ring.with_retired(&ring.ids()).retired_ids() == old);
    }

    #[test]
    fn created_dates_are_read_written_and_optional() {
        let key = LocalKey::generate();
        let (id, b64) = (key.id_hex(), key.to_base64());
        let ring = Keyring::single(key, "k");
        let written = ring.primary().created().unwrap();
        let back = Keyring::parse(&ring.to_text(), "k").unwrap();
        assert_eq!(back.created(&id), Some(written));
        // A line written before keys had dates, and the fields in any
        // combination.
        for (fields, primary, date) in [
            ("", true, None),
            (" primary", true, None),
            (" primary created=2020-01-01T00:00:00Z", true, Some(1_577_836_800)),
            (" created=2020-01-01T00:00:00Z", true, Some(1_577_836_800)),
        ] {
            let ring = Keyring::parse(&format!("{id} {}{fields}\n", *b64), "k").unwrap();
            assert_eq!(ring.primary().id_hex() == id, primary, "{fields}");
            let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
            assert_eq!(ring.created(&id).map(secs), date, "{fields}");
        }
        for (fields, reason) in [
            (
                " created=yesterday",
                "`created=yesterday` is not a date and time in UTC such as 2026-01-31T09:30:00Z",
            ),
            (
                " created=2020-01-01T00:00:00Z primary",
                "unexpected `primary`: after the key, a line may have `primary` or `retired`, then `created=DATE`",
            ),
            (
                " primary retired",
                "unexpected `retired`: after the key, a line may have `primary` or `retired`, then `created=DATE`",
            ),
            (
                " newest",
                "unexpected `newest`: after the key, a line may have `primary` or `retired`, then `created=DATE`",
            ),
        ] {
            let err = Keyring::parse(&format!("# c\n{id} {}{fields}\n", *b64), "k").unwrap_err();
            assert_eq!(err.to_string(), format!("k:2: {reason}"), "{fields}");
        }
    }

    #[test]
    fn merging_adds_missing_keys_and_may_adopt_the_primary() {
        let mine = Keyring::single(LocalKey::generate(), "mine");
        let theirs = Keyring::single(LocalKey::generate(), "theirs");
        let kept = mine.merged(&theirs, false);
        assert_eq!(kept.primary().id_hex(), mine.primary().id_hex());
        assert_eq!(kept.ids().len(), 2);
        let adopted = mine.merged(&theirs, true);
        assert_eq!(adopted.primary().id_hex(), theirs.primary().id_hex());
        assert_eq!(adopted.merged(&theirs, true).ids().len(), 2);
    }

    #[test]
    fn open_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.key");
        let ring = Keyring::single(LocalKey::generate(), "k");
        std::fs::write(&path, ring.to_text().as_bytes()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let (ctx, _) = Context::for_tests();
        let err = load_or_create(&path, false, &ctx).unwrap_err();
        assert!(matches!(err, ProviderError::KeyFileTooOpen { mode: 0o640, .. }), "{err:?}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_or_create(&path, false, &ctx).is_ok());
    }
}
