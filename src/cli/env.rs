//! [`Env`]: what every command runs in: fnox for the process's
//! environment, and the global options (profile, files, if-missing).

use std::{path::Path, sync::Arc};

use fnox_core::{
    Fnox, LoadOptions, Plaintext, Project,
    config::{Config, IfMissing, SecretDef},
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

    /// Loads the project for a command that writes secrets into it (`set`,
    /// `import`): the profile may be new, the write creates it.
    pub fn load_to_write(&self, ui: &Ui) -> Result<Project, CommandError> {
        let project = self.fnox.load(&self.load)?;
        if ui.verbose() {
            for f in &project.config().files {
                ui.note(&format!("loaded {}", ui.path(f)));
            }
            ui.note(&format!("profile: {}", project.config().profile));
        }
        Ok(project.require_file()?)
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

    /// Resolves the profile's secrets (or those in `only`) concurrently, for
    /// a program's environment (`exec`, `export`): an entry that would set a
    /// variable that changes what programs run is refused first (see
    /// `fnox_core::exec_control`). A secret without a value is handled by
    /// `if_missing` (default `default_mode`); a warning ends with `skipped`
    /// (e.g. "left out"). Each value says whether it is secret.
    pub fn resolve_selected(
        &self,
        ui: &Ui,
        only: &[String],
        default_mode: IfMissing,
        skipped: &str,
    ) -> Result<Vec<(String, Plaintext)>, CommandError> {
        let project = self.load(ui)?;
        let config: &Arc<Config> = project.config();
        // Before anything is decrypted: a variable that would change what
        // programs run fails the command unless its entry allows it.
        fnox_core::exec_control::check(&config.selected(only)?)?;
        let resolved = project.resolve(only)?;
        let mut out = Vec::with_capacity(resolved.len());
        for (def, value) in resolved {
            match value {
                Some(v) => out.push((def.name, v)),
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
        Ok(out)
    }
}
