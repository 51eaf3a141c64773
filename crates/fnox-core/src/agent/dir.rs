//! Where the agent's socket is: `FNOX_AGENT_DIR`, else `fnox` in
//! `$XDG_RUNTIME_DIR`, else `fnox-agent-UID` in `$TMPDIR` (or `/tmp`). The
//! directory must be a real directory (not a symlink) owned by the user,
//! with no access for group or others; the agent creates it so.

use std::{
    fs::DirBuilder,
    io,
    os::unix::fs::{DirBuilderExt as _, MetadataExt as _},
    path::{Path, PathBuf},
};

use crate::env::Environment;

/// The socket's file name in the agent's directory.
pub const SOCKET: &str = "agent.sock";
/// The lock file that the running agent holds (one agent per directory).
pub const LOCK: &str = "agent.lock";
/// The variable that names the agent's directory.
pub const DIR_VAR: &str = "FNOX_AGENT_DIR";

/// Why the agent's directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// It does not exist (no agent has run there).
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    /// It cannot be read or created.
    #[error("cannot use {}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// It is a symlink or not a directory.
    #[error("{} is not a directory (a symlink or another file)", .0.display())]
    NotDirectory(PathBuf),
    /// Another user owns it.
    #[error("{} belongs to uid {owner}, not to this user (uid {me})", path.display())]
    Owner {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective uid.
        me: u32,
    },
    /// Group or others may access it.
    #[error("{} is accessible to others (mode {mode:o}; it must be 0700)", path.display())]
    NotPrivate {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// The agent's directory for `env` (see the module's documentation).
pub fn agent_dir(env: &Environment) -> PathBuf {
    if let Some(dir) = env.var(DIR_VAR) {
        return env.cwd().join(dir);
    }
    if let Some(run) = env.var("XDG_RUNTIME_DIR") {
        return PathBuf::from(run).join("fnox");
    }
    let tmp = env.var("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    tmp.join(format!("fnox-agent-{}", me()))
}

/// This process's effective uid.
pub(crate) fn me() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Checks that `dir` is a directory (not a symlink) of this user's, 0700.
pub fn check(dir: &Path) -> Result<(), DirError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(DirError::Missing(dir.to_path_buf()));
        }
        Err(source) => return Err(DirError::Io { path: dir.to_path_buf(), source }),
    };
    if !meta.file_type().is_dir() {
        return Err(DirError::NotDirectory(dir.to_path_buf()));
    }
    if meta.uid() != me() {
        return Err(DirError::Owner { path: dir.to_path_buf(), owner: meta.uid(), me: me() });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(DirError::NotPrivate { path: dir.to_path_buf(), mode });
    }
    Ok(())
}

/// Creates `dir` (mode 0700; its parent must exist) unless it exists, then
/// [`check`]s it. An existing directory with the wrong owner or mode is
/// refused, never changed.
pub fn create(dir: &Path) -> Result<(), DirError> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(DirError::Io { path: dir.to_path_buf(), source }),
    }
    check(dir)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_directory_follows_the_variables() {
        let env = Environment::new("/w");
        assert_eq!(agent_dir(&env), PathBuf::from(format!("/tmp/fnox-agent-{}", me())));
        let env = env.with_var("TMPDIR", "/t");
        assert_eq!(agent_dir(&env), PathBuf::from(format!("/t/fnox-agent-{}", me())));
        let env = env.with_var("XDG_RUNTIME_DIR", "/run/user/7");
        assert_eq!(agent_dir(&env), PathBuf::from("/run/user/7/fnox"));
        let env = env.with_var(DIR_VAR, "rel");
        assert_eq!(agent_dir(&env), PathBuf::from("/w/rel"));
    }

    #[test]
    fn only_a_private_real_directory_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        assert!(matches!(check(&dir), Err(DirError::Missing(_))));
        create(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        assert!(matches!(create(&dir), Err(DirError::NotPrivate { mode: 0o750, .. })));
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(matches!(check(&link), Err(DirError::NotDirectory(_))));
    }
}
