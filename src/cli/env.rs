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
    /// Profile, `--no-defaults`, `-c`.
    pub load: LoadOptions,
    /// `--if-missing`, else `FNOX_IF_MISSING`.
    pub if_missing: Option<IfMissing>,
}

impl Env {
    /// The working directory.
    pub fn cwd(&self) -> &Path {
        self.fnox.env().cwd()
    }

    /// Loads the project; no config file at all is an error.
    pub fn load(&self, ui: &Ui) -> Result<Project, CommandError> {
        let project = self.fnox.load(&self.load)?;
        if ui.verbose() {
            for f in &project.config().files {
                ui.note(&format!("loaded {}", ui.path(f)));
            }
            ui.note(&format!("profile: {}", project.config().profile));
        }
        Ok(project.require_file()?)
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
