//! What the shell keeps between prompts, in `__FNOX_STATE`: a fingerprint
//! of the config files and the profile, the names fnox loaded, and the
//! files the last load read (for their imports). No value is ever in it.
//!
//! The fingerprint covers, for each directory from the working directory
//! up to `/`, every config file name the active profiles would read there
//! that exists (path, size, mtime, ctime, inode), the global file, the
//! files the last load read, and `FNOX_PROFILE`, `FNOX_NO_DEFAULTS` and
//! `FNOX_CONFIG_DIR`. Computing it reads no file and decrypts nothing.

use std::{
    hash::{Hash, Hasher},
    os::unix::{ffi::OsStrExt, fs::MetadataExt},
    path::{Path, PathBuf},
};

use fnox_core::Environment;

/// The shell variable that holds the state.
pub const VAR: &str = "__FNOX_STATE";

/// The state kept in the shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The fingerprint of the last load.
    pub fingerprint: String,
    /// The names fnox set, in order.
    pub names: Vec<String>,
    /// The files the last load read.
    pub files: Vec<PathBuf>,
}

impl State {
    /// The state in `environment`, if any (one that does not parse is none).
    pub fn read(environment: &Environment) -> Option<Self> {
        let text = environment.var(VAR)?;
        let mut parts = text.split(':');
        if parts.next()? != "1" {
            return None;
        }
        let fingerprint = parts.next()?.to_string();
        let names = parts.next()?;
        let names = names.split(',').filter(|n| !n.is_empty()).map(str::to_string).collect();
        let files = parts.next()?;
        let files = files.split(',').filter(|f| !f.is_empty()).map(unhex).collect::<Option<_>>()?;
        Some(Self { fingerprint, names, files })
    }

    /// The state as the variable's value.
    pub fn text(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|f| hex(f.as_os_str().as_bytes())).collect();
        format!("1:{}:{}:{}", self.fingerprint, self.names.join(","), files.join(","))
    }
}

/// The fingerprint of what a load in `environment` would read, with the
/// files `loaded` last time.
pub fn fingerprint(
    environment: &Environment,
    config_dir: &Path,
    profiles: &[String],
    loaded: &[PathBuf],
) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for var in ["FNOX_PROFILE", "FNOX_NO_DEFAULTS", "FNOX_CONFIG_DIR"] {
        environment.var(var).hash(&mut h);
    }
    let mut names = vec!["fnox.toml".to_string(), ".fnox.toml".to_string()];
    for p in profiles {
        names.push(format!("fnox.{p}.toml"));
        names.push(format!(".fnox.{p}.toml"));
    }
    names.push("fnox.local.toml".into());
    names.push(".fnox.local.toml".into());
    for dir in environment.cwd().ancestors() {
        for name in &names {
            stat(&dir.join(name), &mut h);
        }
    }
    stat(&config_dir.join("config.toml"), &mut h);
    0xffu8.hash(&mut h);
    for file in loaded {
        stat(file, &mut h);
    }
    format!("{:016x}", h.finish())
}

fn stat(path: &Path, h: &mut impl Hasher) {
    if let Ok(m) = std::fs::metadata(path) {
        path.hash(h);
        (m.len(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec(), m.ino(), m.dev()).hash(h);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<PathBuf> {
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&bytes?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_reads_back() {
        let state = State {
            fingerprint: "00ff".into(),
            names: vec!["A".into(), "B".into()],
            files: vec!["/p/fnox:x,y.toml".into()],
        };
        let env = Environment::new("/").with_var(VAR, state.text());
        assert_eq!(State::read(&env), Some(state));
        let env = Environment::new("/").with_var(VAR, "2:zz");
        assert_eq!(State::read(&env), None);
    }
}
