//! [`LoadOptions`]: which files and which profile a load takes.

use std::path::PathBuf;

use super::ConfigError;
use crate::env::Environment;

/// The profile used when none is chosen.
pub const DEFAULT_PROFILE: &str = "default";

/// True for profile names usable in a file name (`fnox.NAME.toml`).
pub fn is_valid_profile(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What to load: the active profile, whether top-level secrets count in it,
/// and an explicit file instead of the directory walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The active profile.
    pub profile: String,
    /// In a profile, leave out the top-level secrets.
    pub no_defaults: bool,
    /// This file (plus its imports and the global file) instead of
    /// searching the directory tree.
    pub config_file: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { profile: DEFAULT_PROFILE.into(), no_defaults: false, config_file: None }
    }
}

impl LoadOptions {
    /// The options the environment asks for: `FNOX_PROFILE` and
    /// `FNOX_NO_DEFAULTS`.
    pub fn from_env(env: &Environment) -> Result<Self, ConfigError> {
        let mut opts = Self::default();
        if let Some(profile) = env.var("FNOX_PROFILE") {
            opts = opts.with_profile(profile)?;
        }
        opts.no_defaults =
            env.var("FNOX_NO_DEFAULTS").is_some_and(|v| matches!(v, "1" | "true" | "yes"));
        Ok(opts)
    }

    /// The same options for profile `name`.
    pub fn with_profile(mut self, name: &str) -> Result<Self, ConfigError> {
        if !is_valid_profile(name) {
            return Err(ConfigError::BadProfile(name.to_string()));
        }
        self.profile = name.to_string();
        Ok(self)
    }

    /// True when the active profile is not the default one.
    pub fn in_profile(&self) -> bool {
        self.profile != DEFAULT_PROFILE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_then_explicit_profile() {
        let env = Environment::new("/p").with_var("FNOX_PROFILE", "ci");
        let opts = LoadOptions::from_env(&env).unwrap();
        assert_eq!(opts.profile, "ci");
        assert!(!opts.no_defaults);
        let env = env.with_var("FNOX_NO_DEFAULTS", "true");
        assert!(LoadOptions::from_env(&env).unwrap().no_defaults);
        assert_eq!(opts.clone().with_profile("production").unwrap().profile, "production");
        assert!(matches!(opts.with_profile("../x"), Err(ConfigError::BadProfile(_))));
        let bad = Environment::new("/p").with_var("FNOX_PROFILE", "a b");
        assert!(LoadOptions::from_env(&bad).is_err());
    }
}
