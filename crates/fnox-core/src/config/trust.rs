//! Who may write a config file, and reading one safely.
//!
//! A config file decides where values are encrypted to and what `exec`
//! puts in a program's environment, so fnox loads only files that the
//! user (or root) owns and that neither the group nor others can write,
//! as git does with `safe.directory`. A file in a trusted directory (or
//! beneath one) loads whoever owns it: `FNOX_TRUSTED_DIRS` (colon-separated)
//! and `trusted_dirs = [...]` in the global config, which is believed only
//! after the global file itself passed the check.
//!
//! Every config file, trusted or not, must be a regular file of at most
//! [`MAX_CONFIG_SIZE`] bytes.

use std::{
    fs::{self, File, Metadata},
    io::Read,
    os::unix::fs::{FileTypeExt, MetadataExt},
    path::{Path, PathBuf},
};

use super::ConfigError;
use crate::env::Environment;

/// The largest config file fnox reads (16 MiB).
pub const MAX_CONFIG_SIZE: u64 = 16 << 20;

/// The variable that lists trusted directories, colon-separated.
pub const TRUSTED_DIRS_VAR: &str = "FNOX_TRUSTED_DIRS";

/// The key of the global config that lists trusted directories.
pub const TRUSTED_DIRS_KEY: &str = "trusted_dirs";

/// Why a file is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrust {
    /// Neither the user nor root owns it.
    Owner {
        /// The user fnox runs as.
        uid: u32,
    },
    /// The group or others can write it.
    Writable,
}

/// A file's owner: its uid, and its name when the user database has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The owner's uid.
    pub uid: u32,
    /// The owner's user name, when known.
    pub name: Option<String>,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "uid {} ({name})", self.uid),
            None => write!(f, "uid {}", self.uid),
        }
    }
}

/// What may be loaded: the user fnox acts for and the trusted directories.
#[derive(Debug, Clone)]
pub(crate) struct Trust {
    uid: Option<u32>,
    dirs: Vec<PathBuf>,
    /// The global config file, where `trusted_dirs` can be added (for the
    /// hint); `None` while the global file itself is read.
    global: Option<PathBuf>,
}

impl Trust {
    /// The user of `env` and the directories of `FNOX_TRUSTED_DIRS`
    /// (relative ones from the working directory).
    pub fn from_env(env: &Environment) -> Self {
        let mut trust = Self { uid: env.uid(), dirs: Vec::new(), global: None };
        if let Some(list) = env.var(TRUSTED_DIRS_VAR) {
            trust.add(list.split(':').filter(|d| !d.is_empty()).map(|d| env.cwd().join(d)));
        }
        trust
    }

    /// Trusts `dirs` (and everything beneath them) as well.
    pub fn add(&mut self, dirs: impl IntoIterator<Item = PathBuf>) {
        self.dirs.extend(dirs.into_iter().map(|d| d.canonicalize().unwrap_or(d)));
    }

    /// From now on, hints point at `global` for `trusted_dirs`.
    pub fn set_global(&mut self, global: PathBuf) {
        self.global = Some(global);
    }

    /// True when `path` sits in a trusted directory or beneath one.
    fn trusted_dir(&self, path: &Path) -> bool {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        self.dirs.iter().any(|d| dir.starts_with(d))
    }

    /// Refuses `path` (whose opened file has `meta`) unless the user or
    /// root owns it and only its owner can write it, or it is in a trusted
    /// directory.
    fn check(&self, path: &Path, meta: &Metadata) -> Result<(), ConfigError> {
        let problem = match self.uid {
            Some(uid) if meta.uid() != uid && meta.uid() != 0 => Distrust::Owner { uid },
            _ if meta.mode() & 0o022 != 0 => Distrust::Writable,
            _ => return Ok(()),
        };
        if self.trusted_dir(path) {
            return Ok(());
        }
        Err(ConfigError::Untrusted {
            path: path.to_path_buf(),
            problem,
            owner: Owner { uid: meta.uid(), name: user_name(meta.uid()) },
            mode: meta.mode() & 0o7777,
            global: self.global.clone(),
        })
    }

    /// The text of config file `path`: a regular file of at most
    /// [`MAX_CONFIG_SIZE`] bytes that passes [`Trust::check`]. A FIFO or a
    /// device is refused before it is opened, so nothing blocks or reads
    /// forever.
    pub fn read(&self, path: &Path) -> Result<String, ConfigError> {
        let read_err = |source| ConfigError::Read { path: path.to_path_buf(), source };
        let before = fs::metadata(path).map_err(read_err)?;
        check_shape(path, &before)?;
        let mut file = File::open(path).map_err(read_err)?;
        // Checked again on the file that was opened: it may have been
        // replaced in between.
        let meta = file.metadata().map_err(read_err)?;
        check_shape(path, &meta)?;
        self.check(path, &meta)?;
        // Room for the whole file up front: `take` hides its size from
        // `read_to_string`, which would otherwise grow the string from 32
        // bytes, one read per doubling.
        let expected = meta.len().min(MAX_CONFIG_SIZE + 1);
        let mut text = String::with_capacity(usize::try_from(expected).unwrap_or(0) + 1);
        (&mut file).take(MAX_CONFIG_SIZE + 1).read_to_string(&mut text).map_err(read_err)?;
        if text.len() as u64 > MAX_CONFIG_SIZE {
            return Err(too_large(path));
        }
        Ok(text)
    }
}

/// True when there is something at `path` to load (a dangling symbolic
/// link is nothing; anything else, even a FIFO, is something, and
/// [`Trust::read`] says what is wrong with it).
pub(crate) fn present(path: &Path) -> bool {
    fs::metadata(path).is_ok()
}

fn too_large(path: &Path) -> ConfigError {
    ConfigError::TooLarge { path: path.to_path_buf(), limit: MAX_CONFIG_SIZE }
}

fn check_shape(path: &Path, meta: &Metadata) -> Result<(), ConfigError> {
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return if meta.len() > MAX_CONFIG_SIZE { Err(too_large(path)) } else { Ok(()) };
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(ConfigError::NotRegular { path: path.to_path_buf(), what })
}

/// The name of user `uid` in /etc/passwd, for messages.
fn user_name(uid: u32) -> Option<String> {
    let passwd = fs::read("/etc/passwd").ok()?;
    name_in_passwd(&String::from_utf8_lossy(&passwd), uid)
}

fn name_in_passwd(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn trust(uid: u32) -> Trust {
        Trust { uid: Some(uid), dirs: Vec::new(), global: Some("/c/config.toml".into()) }
    }

    #[test]
    fn names_come_from_the_user_database() {
        let passwd =
            "root:x:0:0:root:/root:/bin/sh\n# note\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(name_in_passwd(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(name_in_passwd(passwd, 0).as_deref(), Some("root"));
        assert_eq!(name_in_passwd(passwd, 4242), None);
        let owner = Owner { uid: 1000, name: Some("alice".into()) };
        assert_eq!(owner.to_string(), "uid 1000 (alice)");
        assert_eq!(Owner { uid: 7, name: None }.to_string(), "uid 7");
    }

    #[test]
    fn a_file_of_another_user_or_writable_by_others_is_refused_unless_its_dir_is_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shared");
        fs::create_dir(&dir).unwrap();
        let path = dir.join("fnox.toml");
        fs::write(&path, "root = true\n").unwrap();
        let me = fs::metadata(&path).unwrap().uid();
        let other = if me == 4242 { 4243 } else { 4242 };
        assert_eq!(trust(me).read(&path).unwrap(), "root = true\n");
        // Another user, as seen by a fnox running as `other`: the file is
        // neither theirs nor root's (unless the test runs as root).
        if me != 0 {
            let err = trust(other).read(&path).unwrap_err();
            assert!(
                matches!(err, ConfigError::Untrusted { problem: Distrust::Owner { uid }, .. } if uid == other),
                "{err:?}"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o664)).unwrap();
        let err = trust(me).read(&path).unwrap_err();
        assert!(
            matches!(err, ConfigError::Untrusted { problem: Distrust::Writable, mode: 0o664, .. }),
            "{err:?}"
        );
        let mut trusting = trust(me);
        trusting.add([tmp.path().to_path_buf()]);
        assert_eq!(trusting.read(&path).unwrap(), "root = true\n");
        // Without a user, only the mode counts.
        let anyone = Trust { uid: None, dirs: Vec::new(), global: None };
        assert!(anyone.read(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(anyone.read(&path).is_ok());
    }

    #[test]
    fn only_regular_files_within_the_size_limit_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let me = fs::metadata(tmp.path()).unwrap().uid();
        let err = trust(me).read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.to_string(), "cannot load /dev/zero: it is a character device, not a file");
        let err = trust(me).read(tmp.path()).unwrap_err();
        assert!(matches!(err, ConfigError::NotRegular { what: "a directory", .. }), "{err:?}");
        let big = tmp.path().join("big.toml");
        let file = File::create(&big).unwrap();
        file.set_len(MAX_CONFIG_SIZE).unwrap();
        assert_eq!(trust(me).read(&big).unwrap().len() as u64, MAX_CONFIG_SIZE);
        file.set_len(MAX_CONFIG_SIZE + 1).unwrap();
        let err = trust(me).read(&big).unwrap_err();
        assert!(matches!(err, ConfigError::TooLarge { .. }), "{err:?}");
    }
}
