//! Resolution of command-line flags and environment variables into one
//! [`Settings`] value, before any command runs.

use std::path::PathBuf;

use crate::{config::IfMissing, error::Error};

/// The profile used when none is chosen.
pub const DEFAULT_PROFILE: &str = "default";

/// Global flags as parsed from the command line (clap fills this in).
#[derive(Debug, Clone, Default)]
pub struct GlobalFlags {
    /// `-c/--config`.
    pub config: Option<PathBuf>,
    /// `-P/--profile`.
    pub profile: Option<String>,
    /// `--no-defaults`.
    pub no_defaults: bool,
    /// `-q/--quiet`.
    pub quiet: bool,
    /// `-v/--verbose`.
    pub verbose: bool,
    /// `--if-missing`.
    pub if_missing: Option<String>,
}

/// Everything a command needs to know about where and how it runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The directory the config search starts from.
    pub cwd: PathBuf,
    /// `$FNOX_CONFIG_DIR`, else `<config dir>/fnox`: global config and keys.
    pub config_dir: PathBuf,
    /// An explicit config file (`-c`), which replaces the directory walk.
    pub config_file: Option<PathBuf>,
    /// The active profile.
    pub profile: String,
    /// Leave out top-level secrets in a profile.
    pub no_defaults: bool,
    /// Suppress notes and warnings.
    pub quiet: bool,
    /// Report which files are loaded.
    pub verbose: bool,
    /// `--if-missing`, else `FNOX_IF_MISSING`.
    pub if_missing: Option<IfMissing>,
}

impl Settings {
    /// Resolves flags over environment variables (read through `env`).
    pub fn resolve(
        flags: &GlobalFlags,
        cwd: PathBuf,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let profile = flags
            .profile
            .clone()
            .or_else(|| env("FNOX_PROFILE").filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
        if !crate::config::is_valid_profile(&profile) {
            return Err(Error::Usage(format!(
                "`{profile}` is not a valid profile name (letters, digits, `-` and `_`)"
            )));
        }
        let no_defaults = flags.no_defaults
            || env("FNOX_NO_DEFAULTS").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        let config_dir = match env("FNOX_CONFIG_DIR").filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => dirs::config_dir()
                .ok_or_else(|| {
                    Error::Usage(
                        "cannot find the user config directory; set FNOX_CONFIG_DIR".into(),
                    )
                })?
                .join("fnox"),
        };
        let if_missing = match flags.if_missing.clone().or_else(|| env("FNOX_IF_MISSING")) {
            None => None,
            Some(v) => Some(v.parse().map_err(|()| {
                Error::Usage(format!("if-missing must be error, warn or ignore, not `{v}`"))
            })?),
        };
        let config_file = flags.config.as_ref().map(|p| cwd.join(p));
        Ok(Self {
            cwd,
            config_dir,
            config_file,
            profile,
            no_defaults,
            quiet: flags.quiet,
            verbose: flags.verbose && !flags.quiet,
            if_missing,
        })
    }

    /// The global config file.
    pub fn global_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn flag_beats_env_beats_default() {
        let cwd = PathBuf::from("/p");
        let none = GlobalFlags::default();
        let s = Settings::resolve(&none, cwd.clone(), env(&[("FNOX_CONFIG_DIR", "/c")])).unwrap();
        assert_eq!(s.profile, "default");
        assert_eq!(s.config_dir, PathBuf::from("/c"));
        let e = [("FNOX_PROFILE", "ci"), ("FNOX_CONFIG_DIR", "/c"), ("FNOX_NO_DEFAULTS", "true")];
        let s = Settings::resolve(&none, cwd.clone(), env(&e)).unwrap();
        assert_eq!(s.profile, "ci");
        assert!(s.no_defaults);
        let flags = GlobalFlags {
            profile: Some("production".into()),
            config: Some("x/fnox.toml".into()),
            ..GlobalFlags::default()
        };
        let s = Settings::resolve(&flags, cwd, env(&e)).unwrap();
        assert_eq!(s.profile, "production");
        assert_eq!(s.config_file, Some(PathBuf::from("/p/x/fnox.toml")));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let flags = GlobalFlags { profile: Some("../x".into()), ..GlobalFlags::default() };
        assert!(Settings::resolve(&flags, "/".into(), env(&[("FNOX_CONFIG_DIR", "/c")])).is_err());
        let e = [("FNOX_IF_MISSING", "sometimes"), ("FNOX_CONFIG_DIR", "/c")];
        assert!(Settings::resolve(&GlobalFlags::default(), "/".into(), env(&e)).is_err());
    }
}
