//! [`Env`]: what every command runs in: fnox for the process's
//! environment, and the global options (profile, files, if-missing).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use fnox_core::{
    Fnox, LoadOptions, Plaintext, Project,
    config::{Config, IfMissing, SecretDef},
    inject::{self, Target},
};

use super::{error::CommandError, ui::Ui};

/// A command's environment.
#[derive(Debug)]
pub struct Env {
    /// fnox for this process's environment.
    pub fnox: Fnox,
    /// Profile, `--no-defaults`, `-c`.
    pub load: LoadOptions,
    /// `--if-missing`, else `FNOX_IF_MISSING`.
    pub if_missing: Option<IfMissing>,
    /// The profile comes from `FNOX_PROFILE` (no `-P`).
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

    /// Loads the project for a command that writes secrets into it (`set`,
    /// `import`): the profile may be new, the write creates it.
    pub fn load_to_write(&self, ui: &Ui) -> Result<Project, CommandError> {
        Ok(self.load_with(ui, &self.load)?.require_file()?)
    }

    /// Loads what the global config file sees (it and its imports, with the
    /// active profile), for `--global` writes: an error when it does not
    /// exist.
    pub fn load_global(&self, ui: &Ui) -> Result<Project, CommandError> {
        let global = self.global_file();
        if !global.exists() {
            return Err(CommandError::user(format!(
                "the global config file {} does not exist",
                ui.path(&global)
            ))
            .hint("create it with `fnox init --global`"));
        }
        let load = LoadOptions { config_file: Some(global), ..self.load.clone() };
        self.load_with(ui, &load)
    }

    /// The global config file: `config.toml` in fnox's config directory.
    pub fn global_file(&self) -> PathBuf {
        self.fnox.config_dir().join("config.toml")
    }

    fn load_with(&self, ui: &Ui, load: &LoadOptions) -> Result<Project, CommandError> {
        let project = self.fnox.load(load)?;
        if ui.verbose() {
            let mut files = project.config().files.clone();
            // With --global the global file is also the explicit one.
            files.dedup();
            for f in &files {
                ui.note(&format!("loaded {}", ui.path(f)));
            }
            ui.note(&format!("profile: {}", project.config().profile));
        }
        Ok(project)
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

    /// What to do about `def` having no value: `--if-missing`, else
    /// `FNOX_IF_MISSING`, else the secret's `if_missing`, else the
    /// profile's, else the top level's, else `command_default`.
    pub fn if_missing(
        &self,
        config: &Config,
        def: &SecretDef,
        command_default: IfMissing,
    ) -> IfMissing {
        self.if_missing.or(def.if_missing).or(config.if_missing).unwrap_or(command_default)
    }

    /// Resolves the secrets of the profile (or those in `only`) that enter
    /// `target` (see `fnox_core::inject`; `all`: whatever their `env`),
    /// concurrently, for a program's environment (`exec`, `export`): an
    /// entry that would set a variable that changes what programs run is
    /// refused first (see `fnox_core::exec_control`). A secret without a
    /// value is handled by `if_missing` (default `default_mode`). Each value
    /// says whether it is secret.
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
        let resolved = project.resolve_defs(selection.enter)?;
        let mut values = Vec::with_capacity(resolved.len());
        for (def, value) in resolved {
            match value {
                Some(v) => values.push((def.name, v)),
                None => match self.if_missing(config, &def, default_mode) {
                    IfMissing::Error => {
                        return Err(fnox_core::Error::NoValue { name: def.name, at: def.at }.into());
                    }
                    IfMissing::Warn => ui.warn(&format!(
                        "secret `{}` has no value ({}); {skipped}",
                        def.name,
                        ui.at(&def.at)
                    )),
                    IfMissing::Ignore => {}
                },
            }
        }
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
