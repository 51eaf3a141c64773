//! [`Env`]: what every command runs in: fnox for the process's
//! environment, and the global options (profile, files, if-missing).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use fnox_core::{
    Environment, Fnox, LoadOptions, Outcome, Plaintext, Project,
    config::{Config, IfMissing, OnlyOne, SecretDef},
    inject::{self, Target},
};

use super::{error::CommandError, ui::Ui};

/// A command's environment.
#[derive(Debug)]
pub struct Env {
    /// fnox for this process's environment.
    pub fnox: Fnox,
    /// Profiles, `--no-defaults`, `-c`. For `set`, `remove` and `import`,
    /// the one profile they write to (`--write-profile`, else the only
    /// active one).
    pub load: LoadOptions,
    /// `--if-missing`, else `FNOX_IF_MISSING`.
    pub if_missing: Option<IfMissing>,
    /// `FNOX_IF_MISSING_DEFAULT`: below the config files' `if_missing`.
    pub if_missing_default: Option<IfMissing>,
    /// The profiles come from `FNOX_PROFILE` (no `-P`, no `--write-profile`
    /// for a write).
    pub profile_from_env: bool,
}

impl Env {
    /// The working directory.
    pub fn cwd(&self) -> &Path {
        self.fnox.env().cwd()
    }

    /// Loads the project for a command that reads it: no config file at
    /// all is an error, and so is a profile that no file defines (a
    /// mistyped profile must not fall back to the top-level secrets).
    pub fn load(&self, ui: &Ui) -> Result<Project, CommandError> {
        let project = self.load_to_write(ui)?;
        self.require_profile(project)
    }

    /// [`Env::load`] for a command that reads secret `name` alone (`get`):
    /// the entries of other secrets are not read unless it needs them (see
    /// [`Fnox::load_one`]).
    pub fn load_one(&self, ui: &Ui, name: &str) -> Result<Project, CommandError> {
        let project = self.fnox.load_one(&self.load, name)?;
        self.loaded(ui, &project);
        self.require_profile(project.require_file()?)
    }

    /// Loads the project for a command that writes secrets into it (`set`,
    /// `import`): the profile may be new, the write creates it.
    pub fn load_to_write(&self, ui: &Ui) -> Result<Project, CommandError> {
        Ok(self.load_with(ui, &self.load)?.require_file()?)
    }

    /// Loads what the global config file sees (it and its imports, with the
    /// active profile), for `--global` writes: an error when it does not
    /// exist.
    pub fn load_global(&self, ui: &Ui) -> Result<Project, CommandError> {
        self.load_global_for(ui, None)
    }

    /// Loads the project for `set NAME` ([`Env::load_to_write`], or
    /// [`Env::load_global`] with `global`) with the files read for that
    /// secret: the other secrets' entries are left out of the model, and
    /// what the check of `local` keys needs of them is kept (see
    /// [`LoadOptions::only`]).
    /// A load that fails is done again whole (see [`Fnox::load`]).
    pub fn load_to_set(&self, ui: &Ui, name: &str, global: bool) -> Result<Project, CommandError> {
        let only = Some(OnlyOne { name: name.to_string(), in_place: true });
        if global {
            return self.load_global_for(ui, only);
        }
        let load = LoadOptions { only, ..self.load.clone() };
        Ok(self.load_with(ui, &load)?.require_file()?)
    }

    /// [`Env::load_global`], for secret `only` alone when given.
    fn load_global_for(&self, ui: &Ui, only: Option<OnlyOne>) -> Result<Project, CommandError> {
        let global = self.global_file();
        if !global.exists() {
            return Err(CommandError::user(format!(
                "the global config file {} does not exist",
                ui.path(&global)
            ))
            .hint("create it with `fnox init --global`"));
        }
        let load = LoadOptions { config_file: Some(global), only, ..self.load.clone() };
        self.load_with(ui, &load)
    }

    /// The global config file: `config.toml` in fnox's config directory.
    pub fn global_file(&self) -> PathBuf {
        self.fnox.config_dir().join("config.toml")
    }

    pub(super) fn load_with(&self, ui: &Ui, load: &LoadOptions) -> Result<Project, CommandError> {
        let project = self.fnox.load(load)?;
        self.loaded(ui, &project);
        Ok(project)
    }

    /// With `--verbose`, notes the files `project` loaded and its profile.
    fn loaded(&self, ui: &Ui, project: &Project) {
        if ui.verbose() {
            let mut files = project.config().files.clone();
            // With --global the global file is also the explicit one.
            files.dedup();
            for f in &files {
                ui.note(&format!("loaded {}", ui.path(f)));
            }
            ui.note(&format!("profile: {}", project.config().profile));
        }
    }

    /// `project`, or an error when its profile is not defined, with a hint
    /// when `FNOX_PROFILE` chose it.
    pub fn require_profile(&self, project: Project) -> Result<Project, CommandError> {
        project.require_profile().map_err(|e| {
            let err = CommandError::from(e);
            if self.profile_from_env {
                err.hint(
                    "the profile comes from FNOX_PROFILE in the environment; -P NAME overrides it",
                )
            } else {
                err
            }
        })
    }

    /// What to do about `def` having no value, or one that cannot be had,
    /// first match wins: `--if-missing`, `FNOX_IF_MISSING`, the secret's
    /// `if_missing`, the profile's, the top level's,
    /// `FNOX_IF_MISSING_DEFAULT` (each of these a choice: explicit), else
    /// `command_default`.
    pub fn if_missing(
        &self,
        config: &Config,
        def: &SecretDef,
        command_default: IfMissing,
    ) -> Missing {
        let chosen = self.if_missing.or(def.if_missing).or(config.if_missing);
        match chosen.or(self.if_missing_default) {
            Some(mode) => Missing { mode, explicit: true },
            None => Missing { mode: command_default, explicit: false },
        }
    }

    /// The value of secret `name` for `get`: `None` when it has none, or
    /// one that cannot be had, and `if_missing` says to go on (warned, or
    /// not). The command's own default is `error`.
    pub fn get_one(
        &self,
        ui: &Ui,
        project: &Project,
        name: &str,
    ) -> Result<Option<Plaintext>, CommandError> {
        let config = project.config();
        let def = config.secret(name)?;
        let outcome = project.resolve_each(&[name.to_string()])?.pop().map_or(Ok(None), |o| o.1);
        self.settle(ui, config, def, outcome, IfMissing::Error, None)
    }

    /// `outcome` of `def` as `if_missing` (default `command_default`) has
    /// it: a value; a missing one (`None`) fails, is warned about or
    /// ignored; one that cannot be had (it does not decrypt, its part
    /// cannot be taken...) fails unless `if_missing` is explicitly `warn`
    /// (a warning with the cause) or `ignore` (a note with `-v`). A warning
    /// ends with `skipped` (e.g. "left out"), when given.
    pub(super) fn settle(
        &self,
        ui: &Ui,
        config: &Config,
        def: &SecretDef,
        outcome: Outcome,
        command_default: IfMissing,
        skipped: Option<&str>,
    ) -> Result<Option<Plaintext>, CommandError> {
        let missing = self.if_missing(config, def, command_default);
        // Made only for a warning (not for each value that is there).
        let suffix = || skipped.map(|s| format!("; {s}")).unwrap_or_default();
        match outcome {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => match missing.mode {
                IfMissing::Error => {
                    let (name, at) = (def.name.clone(), def.at.clone());
                    Err(fnox_core::Error::NoValue { name, at }.into())
                }
                IfMissing::Warn => {
                    let at = ui.at(&def.at);
                    ui.warn(&format!("secret `{}` has no value ({at}){}", def.name, suffix()));
                    Ok(None)
                }
                IfMissing::Ignore => Ok(None),
            },
            Err(e) if e.is_value_failure() && missing.explicit => {
                // Say which secret, when the message does not (a provider
                // that cannot be used).
                let named = e.secret() == Some(def.name.as_str());
                let about = if named { String::new() } else { format!(" (secret `{}`)", def.name) };
                let err = CommandError::from(e);
                match missing.mode {
                    IfMissing::Error => return Err(err),
                    IfMissing::Warn => {
                        ui.warn(&ui.relative(&failure_text(&err, &about, &suffix())));
                    }
                    IfMissing::Ignore if ui.verbose() => {
                        let text = failure_text(&err, &about, "");
                        ui.note(&ui.relative(&format!("ignored (if-missing ignore): {text}")));
                    }
                    IfMissing::Ignore => {}
                }
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Resolves the secrets of the profile (or those in `only`) that enter
    /// `target` (see `fnox_core::inject`; `all`: whatever their `env`),
    /// concurrently, for a program's environment (`exec`, `export`): an
    /// entry that would set a variable that changes what programs run is
    /// refused first (see `fnox_core::exec_control`). A secret without a
    /// value, or with one that cannot be had, is handled by `if_missing`
    /// (default `default_mode`; see `settle`). Each value says whether it
    /// is secret.
    pub fn resolve_selected(
        &self,
        ui: &Ui,
        only: &[String],
        target: Target,
        all: bool,
        default_mode: IfMissing,
    ) -> Result<Selected, CommandError> {
        let project = self.load(ui)?;
        let config: &Arc<Config> = project.config();
        let selection = match target {
            Target::Exec => inject::for_exec(config, only)?,
            Target::Shell => inject::for_shell(config, only, all)?,
        };
        let skipped = match target {
            Target::Exec => "running without it",
            Target::Shell => "left out",
        };
        // Before anything is decrypted: a variable that would change what
        // programs run fails the command unless its entry allows it.
        fnox_core::exec_control::check(&selection.enter)?;
        for def in &selection.as_file_left_out {
            ui.warn(&format!(
                "secret `{}` has `as_file = true` ({}), which only `fnox exec` can pass; {skipped}",
                def.name,
                ui.at(&def.at)
            ));
        }
        let as_file =
            selection.enter.iter().filter(|d| d.as_file).map(|d| d.name.clone()).collect();
        let resolved = project.resolve_each_defs(selection.enter)?;
        let mut values = Vec::with_capacity(resolved.len());
        for (def, outcome) in resolved {
            let settled = self.settle(ui, config, &def, outcome, default_mode, Some(skipped))?;
            if let Some(value) = settled {
                values.push((def.name, value));
            }
        }
        // The values are out: the rest of the command (exec, printing)
        // needs nothing more of the project.
        project.release();
        Ok(Selected { values, as_file, never: selection.never })
    }
}

/// The values for a program's environment (see [`Env::resolve_selected`]).
#[derive(Debug)]
pub struct Selected {
    /// The values, by name.
    pub values: Vec<(String, Plaintext)>,
    /// The names among them that `exec` passes as a file (`as_file`).
    pub as_file: Vec<String>,
    /// The names of the profile's `env = false` secrets.
    pub never: Vec<String>,
}

/// What to do about a secret without a value, and whether the user chose
/// it (a flag, a variable, the config) or it is the command's own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing {
    /// Error, warn or ignore.
    pub mode: IfMissing,
    /// Chosen by the user: only then does `warn` or `ignore` cover a value
    /// that cannot be had.
    pub explicit: bool,
}

/// `--if-missing` (else `FNOX_IF_MISSING`) and `FNOX_IF_MISSING_DEFAULT`.
/// The variables are read in any case, as jdx/fnox does; a value other
/// than error, warn or ignore is a usage error.
pub fn if_missing_settings(
    flag: Option<String>,
    environment: &Environment,
) -> Result<(Option<IfMissing>, Option<IfMissing>), CommandError> {
    let parse = |what: &str, v: &str| {
        v.to_ascii_lowercase().parse().map_err(|()| {
            CommandError::usage(format!("{what} must be error, warn or ignore, not `{v}`"))
        })
    };
    let chosen = match flag {
        Some(v) => Some(parse("if-missing", &v)?),
        None => environment.var("FNOX_IF_MISSING").map(|v| parse("if-missing", v)).transpose()?,
    };
    let default = environment.var("FNOX_IF_MISSING_DEFAULT");
    let default = default.map(|v| parse("FNOX_IF_MISSING_DEFAULT", v)).transpose()?;
    Ok((chosen, default))
}

/// The lines of a warning (or note) about a value that cannot be had:
/// the error's message, `about` (which secret, when the message does not
/// say) and `suffix`, then its causes and hints.
fn failure_text(err: &CommandError, about: &str, suffix: &str) -> String {
    let mut text = format!("{}{about}{suffix}", err.message);
    for cause in &err.causes {
        text.push_str(&format!("\n  cause: {cause}"));
    }
    for hint in &err.hints {
        text.push_str(&format!("\n  hint: {hint}"));
    }
    text
}
