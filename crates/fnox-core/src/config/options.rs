//! [`LoadOptions`]: which files and which profiles a load takes.

use std::path::PathBuf;

use super::ConfigError;
use crate::env::Environment;

/// The profile used when none is chosen.
pub const DEFAULT_PROFILE: &str = "default";

/// True for profile names usable in a file name (`fnox.NAME.toml`).
pub fn is_valid_profile(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The profiles of a comma-separated list such as `-P a,b` or
/// `FNOX_PROFILE=a,b`, in order, each trimmed of spaces. An empty item
/// (`a,,b`, `a,`) is an error rather than skipped: a list built from an
/// unset variable must not quietly select fewer profiles.
pub fn split_profiles(list: &str) -> Result<Vec<String>, ConfigError> {
    list.split(',')
        .map(|p| match p.trim() {
            "" => Err(ConfigError::EmptyProfile(list.to_string())),
            p => Ok(p.to_string()),
        })
        .collect()
}

/// What to load: the active profiles, whether top-level secrets count in
/// them, and an explicit file instead of the directory walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The active profiles, lowest precedence first: each one's entries win
    /// over the top-level ones and over the profiles before it. Never
    /// empty; `["default"]` when none is chosen, and `default` appears only
    /// alone (the top level is always the base).
    pub profiles: Vec<String>,
    /// In a profile, leave out the top-level secrets.
    pub no_defaults: bool,
    /// This file (plus its imports and the global file) instead of
    /// searching the directory tree.
    pub config_file: Option<PathBuf>,
    /// The one secret the command reads or writes (`get NAME`, `set
    /// NAME`): the files are read for it alone, other secrets' entries left
    /// out unread (and unchecked). See [`super::Config::has_all_for`].
    pub only: Option<OnlyOne>,
}

/// [`LoadOptions::only`]: the one secret a command reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlyOne {
    /// Its name.
    pub name: String,
    /// Its value is to be replaced in place (`set`): where it is in the
    /// file is kept ([`super::SecretDef::value_span`]), with a digest of
    /// the whole file.
    pub in_place: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            profiles: vec![DEFAULT_PROFILE.into()],
            no_defaults: false,
            config_file: None,
            only: None,
        }
    }
}

impl LoadOptions {
    /// The options the environment asks for: `FNOX_PROFILE` (one profile or
    /// a comma-separated list) and `FNOX_NO_DEFAULTS`.
    pub fn from_env(env: &Environment) -> Result<Self, ConfigError> {
        let mut opts = Self::default();
        if let Some(list) = env.var("FNOX_PROFILE") {
            opts = opts.with_profiles(split_profiles(list)?)?;
        }
        opts.no_defaults =
            env.var("FNOX_NO_DEFAULTS").is_some_and(|v| matches!(v, "1" | "true" | "yes"));
        Ok(opts)
    }

    /// The same options for profile `name` alone.
    pub fn with_profile(self, name: &str) -> Result<Self, ConfigError> {
        self.with_profiles([name])
    }

    /// The same options for the profiles `names`, lowest precedence first
    /// (`["staging", "ci"]`: `ci` wins over `staging`). A profile named
    /// twice counts at its last place; `default` next to others adds
    /// nothing (the top level is always the base) and is dropped; no name
    /// at all means `default`.
    pub fn with_profiles<S: AsRef<str>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self, ConfigError> {
        let mut profiles: Vec<String> = Vec::new();
        for name in names {
            let name = name.as_ref();
            if !is_valid_profile(name) {
                return Err(ConfigError::BadProfile(name.to_string()));
            }
            profiles.retain(|p| p != name);
            profiles.push(name.to_string());
        }
        if profiles.iter().any(|p| p != DEFAULT_PROFILE) {
            profiles.retain(|p| p != DEFAULT_PROFILE);
        }
        if profiles.is_empty() {
            profiles.push(DEFAULT_PROFILE.into());
        }
        self.profiles = profiles;
        Ok(self)
    }

    /// True when a profile other than the default one is active.
    pub fn in_profile(&self) -> bool {
        self.profiles.iter().any(|p| p != DEFAULT_PROFILE)
    }

    /// The active profiles as `-P` takes them: `production`, `staging,ci`.
    pub fn profile_label(&self) -> String {
        self.profiles.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_then_explicit_profile() {
        let env = Environment::new("/p").with_var("FNOX_PROFILE", "ci");
        let opts = LoadOptions::from_env(&env).unwrap();
        assert_eq!(opts.profiles, ["ci"]);
        assert!(!opts.no_defaults);
        let env = env.with_var("FNOX_NO_DEFAULTS", "true");
        assert!(LoadOptions::from_env(&env).unwrap().no_defaults);
        assert_eq!(opts.clone().with_profile("production").unwrap().profiles, ["production"]);
        assert!(matches!(opts.with_profile("../x"), Err(ConfigError::BadProfile(_))));
        let bad = Environment::new("/p").with_var("FNOX_PROFILE", "a b");
        assert!(LoadOptions::from_env(&bad).is_err());
    }

    #[test]
    fn a_list_of_profiles() {
        let env = Environment::new("/p").with_var("FNOX_PROFILE", "staging, ci");
        let opts = LoadOptions::from_env(&env).unwrap();
        assert_eq!(opts.profiles, ["staging", "ci"]);
        assert_eq!(opts.profile_label(), "staging,ci");
        assert!(opts.in_profile());
        let stack = |names: &[&str]| LoadOptions::default().with_profiles(names).unwrap().profiles;
        assert_eq!(stack(&["a", "b", "a"]), ["b", "a"]);
        assert_eq!(stack(&["default", "a"]), ["a"]);
        assert_eq!(stack(&["default"]), ["default"]);
        assert_eq!(stack(&[]), ["default"]);
        assert!(!LoadOptions::default().with_profiles(["default"]).unwrap().in_profile());
        for list in ["a,", ",a", "a,,b", " "] {
            let err = split_profiles(list).unwrap_err();
            assert!(matches!(&err, ConfigError::EmptyProfile(l) if l == list), "{list}: {err}");
        }
        assert!(matches!(
            LoadOptions::default().with_profiles(["a", "b/c"]),
            Err(ConfigError::BadProfile(p)) if p == "b/c"
        ));
    }
}
