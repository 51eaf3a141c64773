//! Serialised, atomic rewrites of a file.
//!
//! [`modify`] takes an exclusive lock on the file, re-reads it, applies an
//! edit, writes the result to a temporary file in the same directory, fsyncs
//! it, renames it over the original and fsyncs the directory. A crash at any
//! point leaves either the old or the new file; concurrent writers queue on
//! the lock, and each sees the others' changes.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    os::unix::fs::MetadataExt,
    path::Path,
};

/// Locks `path` (which must exist), reads it, and replaces it with
/// `edit(old)` when that returns `Some`. Returns what `edit` returned.
/// When `path` is a symbolic link, the file it points to is replaced and
/// the link stays.
pub(crate) fn modify<T, E>(
    path: &Path,
    edit: impl FnOnce(&str) -> Result<(Option<String>, T), E>,
) -> Result<T, E>
where
    E: From<io::Error>,
{
    let path = &fs::canonicalize(path)?;
    let mut locked = lock(path)?;
    let mut old = String::new();
    locked.read_to_string(&mut old)?;
    let (new, out) = edit(&old)?;
    if let Some(new) = new
        && new != old
    {
        replace(path, new.as_bytes(), &locked)?;
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
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::open_with(path, false)
    }

    /// Takes a shared lock on `path` and reads it: writers (who take the
    /// exclusive lock) wait until it is released; other readers do not.
    pub fn open_shared(path: &Path) -> io::Result<Self> {
        Self::open_with(path, true)
    }

    fn open_with(path: &Path, shared: bool) -> io::Result<Self> {
        let path = fs::canonicalize(path)?;
        let mut file = lock_with(&path, shared)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        Ok(Self { path, file, text })
    }

    /// Atomically replaces the file with `new` (nothing when unchanged).
    pub fn replace(&self, new: &str) -> io::Result<()> {
        if new == self.text {
            return Ok(());
        }
        replace(&self.path, new.as_bytes(), &self.file)
    }

    /// The locked file's (canonical) path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens and exclusively locks `path`, making sure the lock is on the file
/// that is at `path` now (a writer before us may have renamed a new one
/// over the file we opened).
fn lock(path: &Path) -> io::Result<File> {
    lock_with(path, false)
}

/// [`lock`], with a shared lock when `shared`.
fn lock_with(path: &Path, shared: bool) -> io::Result<File> {
    loop {
        let file = OpenOptions::new().read(true).write(!shared).open(path)?;
        if shared {
            file.lock_shared()?;
        } else {
            file.lock()?;
        }
        let held = file.metadata()?;
        match fs::metadata(path) {
            Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(file),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Atomically replaces `path` with `bytes`, keeping the permissions of
/// `original`.
fn replace(path: &Path, bytes: &[u8], original: &File) -> io::Result<()> {
    write_with(path, bytes, original.metadata()?.permissions())
}

/// Atomically writes `bytes` to `path` (created, or replaced) with `mode`:
/// the file is complete or absent, never torn.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_with(path, bytes, fs::Permissions::from_mode(mode))
}

/// The one atomic write: a temporary file in the same directory (the
/// permissions set before any byte is written), fsync, rename over `path`,
/// fsync of the directory; stale temporary files of killed writers are
/// swept.
fn write_with(path: &Path, bytes: &[u8], permissions: fs::Permissions) -> io::Result<()> {
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".fnox-")
        .suffix(".tmp")
        .permissions(permissions.clone())
        .tempfile_in(dir)?;
    // The builder's mode is masked by the umask; set it exactly.
    tmp.as_file().set_permissions(permissions)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)?;
    sweep_stale_temp_files(dir);
    Ok(())
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
    // A hard link never replaces an existing file, so two processes
    // creating the same file at once cannot overwrite each other.
    fs::hard_link(tmp.path(), path)?;
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
        modify::<_, io::Error>(&path, |old| Ok((Some(format!("{old}b = 2\n")), ()))).unwrap();
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
        modify::<_, io::Error>(&link, |old| Ok((Some(format!("{old}b = 2\n")), ()))).unwrap();
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
        let r = modify::<(), io::Error>(&path, |_| Err(io::Error::other("no")));
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
        modify::<_, io::Error>(&path, |_| Ok((Some("a = 2\n".into()), ()))).unwrap();
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
