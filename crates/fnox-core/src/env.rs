//! [`Environment`]: everything fnox takes from the process it runs in, as
//! one value. The core never reads the process environment itself: the
//! caller (the CLI's `main`, an application, a test) builds this once and
//! passes it down, so every behaviour can be tested with a made-up one.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
};

use zeroize::Zeroizing;

/// The environment variables fnox reads. [`Environment::from_vars`] keeps
/// these and drops the rest.
pub const VARIABLES: &[&str] = &[
    // where the config and keys are
    "FNOX_CONFIG_DIR",
    // config files in these directories load whoever owns them (trust.rs)
    "FNOX_TRUSTED_DIRS",
    // load options
    "FNOX_PROFILE",
    "FNOX_NO_DEFAULTS",
    "FNOX_IF_MISSING",
    // below the config's if_missing, above the command's own default (T6)
    "FNOX_IF_MISSING_DEFAULT",
    // how long a write waits for another fnox's lock (seconds)
    "FNOX_LOCK_TIMEOUT",
    // local provider
    "FNOX_LOCAL_KEY",
    // age provider
    "FNOX_AGE_KEY",
    "FNOX_AGE_KEY_FILE",
    // aws-kms provider (the AWS SDK reads its own variables as well)
    "AWS_ENDPOINT_URL_KMS",
    // vault-transit provider
    "FNOX_VAULT_TOKEN",
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "VAULT_ADDR",
    "BAO_ADDR",
    "VAULT_CACERT",
    "BAO_CACERT",
    // the agent (docs/agent.md): off for one command, its directory
    "FNOX_AGENT",
    "FNOX_AGENT_DIR",
    "XDG_RUNTIME_DIR",
    "TMPDIR",
];

/// Variables that hold key material or credentials: a program that fnox
/// runs does not get them (pass them on explicitly if a nested fnox needs
/// them).
pub const KEY_VARIABLES: &[&str] = &["FNOX_LOCAL_KEY", "FNOX_AGE_KEY", "FNOX_VAULT_TOKEN"];

/// Where fnox runs: the variables it cares about, the user's home and
/// config directories, the working directory that config discovery
/// starts from, and the user it runs as.
#[derive(Clone)]
pub struct Environment {
    vars: BTreeMap<String, Zeroizing<String>>,
    /// Every other variable (T6): only a secret without a value or a
    /// default reads one, the variable of its own name
    /// ([`Environment::fallback`]).
    others: BTreeMap<String, Zeroizing<Vec<u8>>>,
    home: Option<PathBuf>,
    user_config_dir: Option<PathBuf>,
    cwd: PathBuf,
    uid: Option<u32>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Variable names only: some values are keys or tokens.
        f.debug_struct("Environment")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("others", &self.others.len())
            .field("home", &self.home)
            .field("user_config_dir", &self.user_config_dir)
            .field("cwd", &self.cwd)
            .field("uid", &self.uid)
            .finish()
    }
}

impl Environment {
    /// An environment with no variables, working in `cwd`.
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        Self {
            vars: BTreeMap::new(),
            others: BTreeMap::new(),
            home: None,
            user_config_dir: None,
            cwd: cwd.into(),
            uid: None,
        }
    }

    /// Takes the variables of [`VARIABLES`], and those named in `also`,
    /// from `vars` (e.g. what `std::env::vars_os()` yields): [`Environment::var`]
    /// reads these, when their values are UTF-8. Every other variable (with
    /// a UTF-8 name) is kept for [`Environment::fallback`] alone.
    pub fn from_vars(
        cwd: impl Into<PathBuf>,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        also: &[&str],
    ) -> Self {
        let mut env = Self::new(cwd);
        for (k, v) in vars {
            let Some(k) = k.to_str() else { continue };
            let read = VARIABLES.contains(&k) || also.contains(&k);
            match v.into_string() {
                Ok(v) if read => {
                    env.vars.insert(k.to_string(), Zeroizing::new(v));
                }
                Ok(v) => {
                    env.others.insert(k.to_string(), Zeroizing::new(v.into_bytes()));
                }
                Err(v) => {
                    env.others.insert(k.to_string(), Zeroizing::new(v.into_encoded_bytes()));
                }
            }
        }
        env
    }

    // T6: jdx/fnox's fallback to the variable of a secret's own name.
    /// The value of variable `name` for a secret called `name` that has
    /// neither a value nor a default, as jdx/fnox reads it: set, even to
    /// nothing, is a value. Never one of [`KEY_VARIABLES`]: key material
    /// that `exec` keeps from its command does not come back as a secret.
    pub fn fallback(&self, name: &str) -> Option<&[u8]> {
        if KEY_VARIABLES.contains(&name) {
            return None;
        }
        match self.vars.get(name) {
            Some(v) => Some(v.as_bytes()),
            None => self.others.get(name).map(|v| v.as_slice()),
        }
    }

    /// Sets variable `name` (any name; [`VARIABLES`] lists those fnox reads).
    #[must_use]
    pub fn with_var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(name.to_string(), Zeroizing::new(value.into()));
        self
    }

    /// Sets the user's home directory (for `~/` in paths and `~/.vault-token`).
    #[must_use]
    pub fn with_home(mut self, home: Option<PathBuf>) -> Self {
        self.home = home;
        self
    }

    /// Sets the platform's per-user config directory (`~/.config` on
    /// Linux); fnox's own is `fnox` inside it unless `FNOX_CONFIG_DIR` says
    /// otherwise.
    #[must_use]
    pub fn with_user_config_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.user_config_dir = dir;
        self
    }

    /// Sets the user fnox acts for (the process's effective uid: the CLI
    /// passes `geteuid()`). Config files owned by anyone else but root are
    /// refused (see docs/configuration.md, "Who may write a config file").
    /// Without it the owner is not checked, only the mode: an application
    /// that loads projects for a user should set it.
    #[must_use]
    pub fn with_uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// The user fnox acts for, when known ([`Environment::with_uid`]).
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// The value of variable `name`, when it is set and not empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.as_str()).filter(|v| !v.is_empty())
    }

    /// True when variable `name` is set and not empty.
    pub fn has(&self, name: &str) -> bool {
        self.var(name).is_some()
    }

    /// The first of `names` that is set to something other than blanks.
    pub fn first_var(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.var(n).filter(|v| !v.trim().is_empty()))
    }

    /// The working directory.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The user's home directory, when known.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// fnox's config directory: `FNOX_CONFIG_DIR`, else `fnox` in the
    /// user's config directory. `None` when neither is known.
    pub fn config_dir(&self) -> Option<PathBuf> {
        match self.var("FNOX_CONFIG_DIR") {
            Some(dir) => Some(self.cwd.join(dir)),
            None => self.user_config_dir.as_ref().map(|d| d.join("fnox")),
        }
    }

    /// `path` from a config file in `base_dir`: `~/` is the home
    /// directory, a relative path is relative to `base_dir`.
    pub fn resolve_path(&self, base_dir: &Path, path: &str) -> PathBuf {
        if let Some(rest) = path.strip_prefix("~/")
            && let Some(home) = &self.home
        {
            return home.join(rest);
        }
        base_dir.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_non_empty_variables_are_kept() {
        let vars = [("FNOX_PROFILE", "ci"), ("PATH", "/bin"), ("FNOX_LOCAL_KEY", "")]
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let env = Environment::from_vars("/p", vars, &[]);
        assert_eq!(env.var("FNOX_PROFILE"), Some("ci"));
        assert_eq!(env.var("PATH"), None);
        assert!(!env.has("FNOX_LOCAL_KEY"));
        assert!(!format!("{env:?}").contains("ci\""));
    }

    #[test]
    fn a_secret_falls_back_to_any_variable_of_its_name_except_key_material() {
        let vars = [
            ("DATABASE_URL", "postgres://x"),
            ("EMPTY", ""),
            ("FNOX_PROFILE", "ci"),
            ("FNOX_LOCAL_KEY", "a2V5"),
            ("FNOX_AGE_KEY", "AGE-SECRET-KEY-1"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let env = Environment::from_vars("/p", vars, &[]);
        assert_eq!(env.fallback("DATABASE_URL"), Some(&b"postgres://x"[..]));
        assert_eq!(env.fallback("EMPTY"), Some(&b""[..]));
        assert_eq!(env.fallback("FNOX_PROFILE"), Some(&b"ci"[..]));
        assert_eq!(env.fallback("FNOX_LOCAL_KEY"), None);
        assert_eq!(env.fallback("FNOX_AGE_KEY"), None);
        assert_eq!(env.fallback("UNSET"), None);
        // Only the fallback reads them; the names of fnox's own stay apart.
        assert_eq!(env.var("DATABASE_URL"), None);
        assert!(!format!("{env:?}").contains("DATABASE_URL"));
        let env = Environment::new("/p").with_var("TOKEN", "t");
        assert_eq!(env.fallback("TOKEN"), Some(&b"t"[..]));
    }

    #[cfg(unix)]
    #[test]
    fn a_fallback_keeps_bytes_that_are_not_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let vars = [(OsString::from("BIN"), OsString::from_vec(vec![0xff, b'a']))];
        let env = Environment::from_vars("/p", vars, &[]);
        assert_eq!(env.fallback("BIN"), Some(&[0xff, b'a'][..]));
    }

    #[test]
    fn config_dir_prefers_the_variable() {
        let env = Environment::new("/p").with_user_config_dir(Some("/home/u/.config".into()));
        assert_eq!(env.config_dir(), Some(PathBuf::from("/home/u/.config/fnox")));
        let env = env.with_var("FNOX_CONFIG_DIR", "/c");
        assert_eq!(env.config_dir(), Some(PathBuf::from("/c")));
        assert_eq!(Environment::new("/p").config_dir(), None);
    }

    #[test]
    fn paths_resolve_against_home_and_base() {
        let env = Environment::new("/p").with_home(Some("/home/u".into()));
        assert_eq!(env.resolve_path(Path::new("/proj"), "~/k"), PathBuf::from("/home/u/k"));
        assert_eq!(env.resolve_path(Path::new("/proj"), "k"), PathBuf::from("/proj/k"));
    }
}
