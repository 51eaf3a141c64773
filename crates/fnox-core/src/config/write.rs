//! Serialised, atomic rewrites of a file.
//!
//! [`modify`] takes an exclusive lock on the file, re-reads it, applies an
//! edit, writes the result to a temporary file in the same directory, fsyncs
//! it, renames it over the original and fsyncs the directory. A crash at any
//! point leaves either the old or the new file; concurrent writers queue on
//! the lock, and each sees the others' changes.

use std::{
    fmt,
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    os::unix::fs::MetadataExt,
    path::Path,
    time::{Duration, Instant},
};

use crate::notice::{self, Notice, Notify};

mod error;
pub use error::WriteError;

/// How long a writer waits for another fnox's lock before giving up.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// After this long a waiting writer says what it waits for.
const NOTICE_AFTER: Duration = Duration::from_secs(1);

/// How to wait for a lock that another process holds: for how long, and
/// whom to tell (after a second) that fnox is waiting.
#[derive(Clone)]
pub struct LockWait {
    /// Give up after this long.
    pub timeout: Duration,
    /// Receives [`Notice::WaitingForLock`].
    pub notify: Notify,
}

impl fmt::Debug for LockWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockWait").field("timeout", &self.timeout).finish()
    }
}

impl Default for LockWait {
    /// [`DEFAULT_LOCK_TIMEOUT`], nobody told.
    fn default() -> Self {
        Self { timeout: DEFAULT_LOCK_TIMEOUT, notify: notice::ignore() }
    }
}

impl LockWait {
    /// The wait of `env`: `FNOX_LOCK_TIMEOUT` seconds (a number, `0`: do
    /// not wait), else [`DEFAULT_LOCK_TIMEOUT`]; notices go to `notify`.
    pub fn from_env(
        env: &crate::env::Environment,
        notify: Notify,
    ) -> Result<Self, super::ConfigError> {
        let timeout = match env.var("FNOX_LOCK_TIMEOUT") {
            None => DEFAULT_LOCK_TIMEOUT,
            Some(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                .ok_or_else(|| super::ConfigError::BadLockTimeout(text.to_string()))?,
        };
        Ok(Self { timeout, notify })
    }
}

/// Locks `path` (which must exist), reads it, and replaces it with
/// `edit(old)` when that returns `Some`. Returns what `edit` returned.
/// When `path` is a symbolic link, the file it points to is replaced and
/// the link stays.
pub(crate) fn modify<T, E>(
    path: &Path,
    wait: &LockWait,
    edit: impl FnOnce(&str) -> Result<(Option<String>, T), E>,
) -> Result<T, E>
where
    E: From<WriteError>,
{
    let locked = Locked::open(path, wait)?;
    let (new, out) = edit(&locked.text)?;
    if let Some(new) = new {
        locked.replace(&new)?;
    }
    Ok(out)
}

/// A file held under its exclusive lock, with the text read under it.
#[derive(Debug)]
pub(crate) struct Locked {
    path: std::path::PathBuf,
    file: File,
    /// The file's text, read after the lock was taken.
    pub text: String,
}

impl Locked {
    /// Locks `path` (following a symbolic link to its target) and reads it.
    /// A file with several hard links is refused.
    pub fn open(path: &Path, wait: &LockWait) -> Result<Self, WriteError> {
        Self::open_with(path, wait, false)
    }

    /// Takes a shared lock on `path` and reads it: writers (who take the
    /// exclusive lock) wait until it is released; other readers do not.
    pub fn open_shared(path: &Path, wait: &LockWait) -> Result<Self, WriteError> {
        Self::open_with(path, wait, true)
    }

    fn open_with(path: &Path, wait: &LockWait, shared: bool) -> Result<Self, WriteError> {
        let path = fs::canonicalize(path)
            .map_err(|source| WriteError::Open { path: path.into(), source })?;
        let mut file = lock(&path, wait, shared)?;
        let links = file
            .metadata()
            .map_err(|source| WriteError::Read { path: path.clone(), source })?
            .nlink();
        if links > 1 {
            return Err(WriteError::HardLinks { path, links });
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|source| WriteError::Read { path: path.clone(), source })?;
        Ok(Self { path, file, text })
    }

    /// Atomically replaces the file with `new` (nothing when unchanged),
    /// keeping its mode, owner and group.
    pub fn replace(&self, new: &str) -> Result<(), WriteError> {
        self.replace_with_parts(&[new])
    }

    /// [`Locked::replace`] with the text `parts` make one after the other:
    /// a large file is written without building its new text whole.
    pub fn replace_with_parts(&self, parts: &[&str]) -> Result<(), WriteError> {
        if same_text(parts, &self.text) {
            return Ok(());
        }
        let meta = self
            .file
            .metadata()
            .map_err(|source| WriteError::Read { path: self.path.clone(), source })?;
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        write_with(&self.path, &parts, meta.permissions(), Some((meta.uid(), meta.gid())))
    }
}

/// True when `parts`, one after the other, are `text`.
fn same_text(parts: &[&str], text: &str) -> bool {
    let mut rest = text;
    for part in parts {
        match rest.strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Opens and exclusively locks `path`, making sure the lock is on the file
/// that is at `path` now (a writer before us may have renamed a new one
/// over the file we opened).
fn lock(path: &Path, wait: &LockWait, shared: bool) -> Result<File, WriteError> {
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(!shared)
            .open(path)
            .map_err(|source| WriteError::Open { path: path.into(), source })?;
        let file = wait_for_lock(file, path, wait, shared)?;
        let held =
            file.metadata().map_err(|source| WriteError::Lock { path: path.into(), source })?;
        match fs::metadata(path) {
            Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(file),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(WriteError::Open { path: path.into(), source }),
        }
    }
}

/// Takes the exclusive lock of `file`. While another process holds it, a
/// helper thread waits in `flock` (so the wait shows in `/proc/locks`), and
/// this one gives up after `wait.timeout`, saying after a second that it
/// waits. A lock the helper gets after that is released at once.
fn wait_for_lock(
    file: File,
    path: &Path,
    wait: &LockWait,
    shared: bool,
) -> Result<File, WriteError> {
    use std::sync::mpsc::{RecvTimeoutError, sync_channel};
    let lock_error = |source| WriteError::Lock { path: path.into(), source };
    let tried = if shared { file.try_lock_shared() } else { file.try_lock() };
    match tried {
        Ok(()) => return Ok(file),
        Err(fs::TryLockError::WouldBlock) => {}
        Err(fs::TryLockError::Error(source)) => return Err(lock_error(source)),
    }
    let (tx, rx) = sync_channel(1);
    std::thread::spawn(move || {
        // If nobody waits any more, the file (and its lock) is dropped here.
        let locked = if shared { file.lock_shared() } else { file.lock() };
        let _ = tx.send(locked.map(|()| file));
    });
    let start = Instant::now();
    let mut told = false;
    loop {
        let waited = start.elapsed();
        let left = wait.timeout.saturating_sub(waited);
        let step = if told { left } else { left.min(NOTICE_AFTER.saturating_sub(waited)) };
        match rx.recv_timeout(step) {
            Ok(locked) => return locked.map_err(lock_error),
            Err(RecvTimeoutError::Timeout) if start.elapsed() >= wait.timeout => {
                return Err(WriteError::LockTimeout { path: path.into(), waited: start.elapsed() });
            }
            Err(RecvTimeoutError::Timeout) => {
                told = true;
                (wait.notify)(Notice::WaitingForLock { path: path.into() });
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(lock_error(io::Error::other("the thread waiting for the lock ended")));
            }
        }
    }
}

/// Atomically writes `bytes` to `path` (created, or replaced) with `mode`:
/// the file is complete or absent, never torn. A symbolic link at `path`
/// is replaced, not followed.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    use std::os::unix::fs::PermissionsExt;
    write_with(path, &[bytes], fs::Permissions::from_mode(mode), None)
}

/// The one atomic write (of `parts`, one after the other): a temporary
/// file in the same directory (the permissions, and the owner and group of
/// `owner`, set before any byte is written), fsync, rename over `path`,
/// fsync of the directory; stale temporary files of killed writers are
/// swept.
fn write_with(
    path: &Path,
    parts: &[&[u8]],
    permissions: fs::Permissions,
    owner: Option<(u32, u32)>,
) -> Result<(), WriteError> {
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".fnox-")
        .suffix(".tmp")
        .permissions(permissions.clone())
        .tempfile_in(dir)
        .map_err(|source| WriteError::CreateTemp { dir: dir.into(), path: path.into(), source })?;
    let tmp_err = |tmp: &Path| {
        let (tmp, path) = (tmp.to_path_buf(), path.to_path_buf());
        move |source| WriteError::Temp { tmp, path, source }
    };
    if let Some((uid, gid)) = owner {
        keep_owner(tmp.as_file(), path, uid, gid)?;
    }
    // The builder's mode is masked by the umask (and a chown may clear
    // set-id bits); set it exactly.
    tmp.as_file().set_permissions(permissions).map_err(tmp_err(tmp.path()))?;
    for part in parts {
        tmp.as_file_mut().write_all(part).map_err(tmp_err(tmp.path()))?;
    }
    tmp.as_file().sync_all().map_err(tmp_err(tmp.path()))?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.persist(path).map_err(|e| WriteError::Rename {
        tmp: tmp_path,
        path: path.into(),
        source: e.error,
    })?;
    sync_dir(dir).map_err(|source| WriteError::SyncDir { dir: dir.into(), source })?;
    sweep_stale_temp_files(dir);
    Ok(())
}

/// Gives the temporary file `tmp` the owner and group of the file it
/// replaces, where they differ from ours; refuses where the process may not.
fn keep_owner(tmp: &File, path: &Path, uid: u32, gid: u32) -> Result<(), WriteError> {
    let ours = tmp.metadata().map_err(|source| WriteError::Temp {
        tmp: path.into(),
        path: path.into(),
        source,
    })?;
    if ours.uid() == uid && ours.gid() == gid {
        return Ok(());
    }
    std::os::unix::fs::fchown(tmp, Some(uid), Some(gid)).map_err(|source| WriteError::Owner {
        path: path.into(),
        uid,
        gid,
        me: ours.uid(),
        source,
    })
}

/// Temp files of ours older than this were left by a killed process.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes `.fnox-*.tmp` files that a killed writer left behind (they may
/// hold an old keyring or old values). A file younger than [`STALE_AFTER`]
/// may belong to a writer still at work and is left alone.
fn sweep_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".fnox-") && name.ends_with(".tmp")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates `path` with `bytes` atomically; fails if it already exists.
/// The file gets `mode` (e.g. 0o600 for key files, 0o644 for fnox.toml).
pub(crate) fn create_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".fnox-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // Locked while it has two names: a writer that finds it at `path`
    // waits until the temporary name is gone, so it never sees the second
    // link (which `Locked::open` refuses).
    tmp.as_file().lock()?;
    // A hard link never replaces an existing file, so two processes
    // creating the same file at once cannot overwrite each other.
    fs::hard_link(tmp.path(), path)?;
    // Removes the temporary name, then closes the file (and its lock).
    drop(tmp);
    sync_dir(dir)?;
    sweep_stale_temp_files(dir);
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn modify_keeps_permissions_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fnox.toml");
        fs::write(&path, "a = 1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        modify::<_, WriteError>(&path, &LockWait::default(), |old| {
            Ok((Some(format!("{old}b = 2\n")), ()))
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a = 1\nb = 2\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn modify_through_a_symlink_edits_its_target_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("shared")).unwrap();
        fs::create_dir(dir.path().join("project")).unwrap();
        let target = dir.path().join("shared/fnox.toml");
        let link = dir.path().join("project/fnox.toml");
        fs::write(&target, "a = 1\n").unwrap();
        std::os::unix::fs::symlink("../shared/fnox.toml", &link).unwrap();
        modify::<_, WriteError>(&link, &LockWait::default(), |old| {
            Ok((Some(format!("{old}b = 2\n")), ()))
        })
        .unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "a = 1\nb = 2\n");
        assert_eq!(fs::read_dir(dir.path().join("project")).unwrap().count(), 1);
        assert_eq!(fs::read_dir(dir.path().join("shared")).unwrap().count(), 1);
    }

    #[test]
    fn failed_edit_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fnox.toml");
        fs::write(&path, "a = 1\n").unwrap();
        let r = modify::<(), WriteError>(&path, &LockWait::default(), |_| {
            Err(WriteError::Read { path: "x".into(), source: io::Error::other("no") })
        });
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "a = 1\n");
    }

    #[test]
    fn stale_temp_files_are_swept_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fnox.toml");
        fs::write(&path, "a = 1\n").unwrap();
        let stale = dir.path().join(".fnox-old.tmp");
        let fresh = dir.path().join(".fnox-new.tmp");
        fs::write(&stale, "old keyring").unwrap();
        fs::write(&fresh, "in flight").unwrap();
        let long_ago = std::time::SystemTime::now() - STALE_AFTER * 2;
        File::options().write(true).open(&stale).unwrap().set_modified(long_ago).unwrap();
        modify::<_, WriteError>(&path, &LockWait::default(), |_| Ok((Some("a = 2\n".into()), ())))
            .unwrap();
        assert!(!stale.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn create_new_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        create_new(&path, b"one", 0o600).unwrap();
        let err = create_new(&path, b"two", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
