//! Which secrets enter which program's environment: the one rule behind
//! `exec`, `export` and shell activation, from each entry's `env` (`true`,
//! `"exec"` or `false`, see [`EnvMode`]) and `as_file`.
//!
//! - `exec`'s command gets `env = true` and `env = "exec"` secrets; the
//!   names of `env = false` secrets are taken out of the environment it
//!   inherits, so that a value kept out of programs does not come in from
//!   the parent either.
//! - `export` and shell activation ([`Target::Shell`]) get `env = true`
//!   secrets only, unless asked for all (`export --all`). An `as_file`
//!   secret is left out of them: only a command's lifetime bounds the life
//!   of its file.
//! - Naming a secret that the rule leaves out (`--only NAME`) is an error,
//!   never a silent skip.
//! - `get` reads any secret, whatever its `env`.

pub use crate::config::{EnvMode, Target};
use crate::{
    config::{Config, SecretDef},
    error::Error,
};

/// The secrets chosen for one target.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The entries whose values enter, in the order of `Config::secrets`
    /// (the files' order).
    pub enter: Vec<SecretDef>,
    /// `as_file` entries left out of a [`Target::Shell`] (to warn about).
    pub as_file_left_out: Vec<SecretDef>,
    /// The names of the profile's `env = false` secrets, whether or not
    /// they have a value: `exec` removes them from its command's inherited
    /// environment.
    pub never: Vec<String>,
}

/// The secrets of `config` that enter `exec`'s command: those named in
/// `only` (every one of the profile when it is empty) whose `env` is `true`
/// or `"exec"`. Fails when `only` names one with `env = false`.
pub fn for_exec(config: &Config, only: &[String]) -> Result<Selection, Error> {
    select(config, only, Target::Exec, false)
}

/// The secrets of `config` that `export` prints and shell activation sets:
/// those named in `only` (every one of the profile when it is empty) with
/// `env = true`, or any `env` when `all` is given; never an `as_file` one.
/// Fails when `only` names one that is left out.
pub fn for_shell(config: &Config, only: &[String], all: bool) -> Result<Selection, Error> {
    select(config, only, Target::Shell, all)
}

fn select(config: &Config, only: &[String], target: Target, all: bool) -> Result<Selection, Error> {
    let named = !only.is_empty();
    let mut selection = Selection {
        never: config
            .secrets
            .values()
            .filter(|d| config.env_mode(d) == EnvMode::Never)
            .map(|d| d.name.clone())
            .collect(),
        ..Selection::default()
    };
    let defs = config.selected(only)?;
    selection.enter.reserve_exact(defs.len());
    for def in defs {
        let mode = config.env_mode(&def);
        if !all && !mode.enters(target) {
            if named {
                return Err(Error::KeptOut { name: def.name, at: def.at, mode, target });
            }
        } else if def.as_file && target == Target::Shell {
            if named {
                return Err(Error::AsFileOnlyExec { name: def.name, at: def.at });
            }
            selection.as_file_left_out.push(def);
        } else {
            selection.enter.push(def);
        }
    }
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("fnox.toml"), text).unwrap();
        let env = crate::Environment::new(tmp.path());
        let mut config =
            crate::config::load(&env, &tmp.path().join("none"), &Default::default()).unwrap();
        // Locations relative to the project, as the CLI shows them.
        for def in config.secrets.values_mut() {
            def.at.file = std::path::Path::new("fnox.toml").into();
        }
        config
    }

    fn names(defs: &[SecretDef]) -> Vec<&str> {
        defs.iter().map(|d| d.name.as_str()).collect()
    }

    const FILE: &str = "[secrets]\nA = { default = \"a\" }\nE = { default = \"e\", env = \"exec\" }\n\
                        N = { default = \"n\", env = false }\nF = { default = \"f\", as_file = true }\n\
                        T = { default = \"t\", env = true }\n";

    #[test]
    fn modes_by_target() {
        let c = config(FILE);
        let exec = for_exec(&c, &[]).unwrap();
        assert_eq!(names(&exec.enter), ["A", "E", "F", "T"]);
        assert_eq!(exec.never, ["N"]);
        let shell = for_shell(&c, &[], false).unwrap();
        assert_eq!(names(&shell.enter), ["A", "T"]);
        assert_eq!(names(&shell.as_file_left_out), ["F"]);
        let all = for_shell(&c, &[], true).unwrap();
        assert_eq!(names(&all.enter), ["A", "E", "N", "T"]);
    }

    #[test]
    fn the_top_level_env_is_the_default_and_an_entry_overrides_it() {
        let c = config(
            "env = false\n[secrets]\nA = { default = \"a\" }\nB = { default = \"b\", env = true }\n",
        );
        assert_eq!(names(&for_exec(&c, &[]).unwrap().enter), ["B"]);
        assert_eq!(for_exec(&c, &[]).unwrap().never, ["A"]);
        let c = config("env = \"exec\"\n[secrets]\nA = { default = \"a\" }\n");
        assert_eq!(names(&for_exec(&c, &[]).unwrap().enter), ["A"]);
        assert!(for_shell(&c, &[], false).unwrap().enter.is_empty());
    }

    #[test]
    fn naming_a_secret_that_is_kept_out_is_an_error() {
        let c = config(FILE);
        let err = for_exec(&c, &["N".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret `N` has `env = false` (fnox.toml:4), which keeps it out of the environment of `exec`'s command"
        );
        let err = for_shell(&c, &["E".into()], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret `E` has `env = \"exec\"` (fnox.toml:3), which keeps it out of `export` and shell environments"
        );
        assert_eq!(names(&for_shell(&c, &["E".into()], true).unwrap().enter), ["E"]);
        let err = for_shell(&c, &["F".into()], true).unwrap_err();
        assert!(matches!(err, Error::AsFileOnlyExec { .. }), "{err:?}");
    }
}
