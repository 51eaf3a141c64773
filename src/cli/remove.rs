//! `fnox remove NAME`.

use fnox_core::{config::edit, plan};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Delete a secret from the file that defines it.
///
/// The entry's lines and the comment lines directly above it are removed;
/// everything else in the file stays byte for byte. With --profile, only
/// the profile's own entry is removed, never the top-level default.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox remove OLD_TOKEN
  fnox -P production remove API_TOKEN   drop the production override")]
pub struct Args {
    /// Secret name.
    pub name: String,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load(ui)?;
    let config = project.config();
    let def = config.secret(&args.name)?;
    if config.in_profile() && !def.in_profile {
        return Err(CommandError::user(format!(
            "secret `{}` is not defined by profile `{}`: it comes from the top level of {}; run `fnox remove {}` without --profile to remove it there",
            args.name,
            config.profile,
            ui.path(&def.at.file),
            args.name
        )));
    }
    let file = def.at.file.clone();
    let wait = env.fnox.lock_wait()?;
    let mut emptied = Vec::new();
    let removed = plan::edit_file(&file, &wait, |text| {
        let removed = edit::remove_secret(text, &def.table, &args.name)?;
        Ok(removed.map(|r| {
            emptied = r.emptied;
            r.text
        }))
    })?;
    if !removed {
        return Err(CommandError::user(format!(
            "secret `{}` is no longer in {} (was it removed meanwhile?)",
            args.name,
            ui.path(&file)
        )));
    }
    // The outermost table of the profile that went with the entry
    // (`profiles` itself is not one).
    let emptied = emptied.iter().rfind(|t| t.contains('.'));
    match emptied {
        Some(table) => ui.note(&format!(
            "removed {} from {}, and the [{table}] table it left empty",
            args.name,
            ui.path(&file)
        )),
        None => ui.note(&format!("removed {} from {}", args.name, ui.path(&file))),
    }
    Ok(ExitStatus::SUCCESS)
}
