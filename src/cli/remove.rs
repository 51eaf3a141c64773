//! `fnox remove NAME`.

use super::App;
use crate::{
    config::{edit, write},
    error::Error,
};

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

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let config = app.load(true)?;
    let def = config.secret(&args.name)?;
    if config.in_profile() && !def.in_profile {
        return Err(Error::Failed(format!(
            "secret `{}` is not defined by profile `{}`: it comes from the top level of {}; run `fnox remove {}` without --profile to remove it there",
            args.name,
            config.profile,
            crate::error::shown(&def.at.file),
            args.name
        )));
    }
    let file = def.at.file.clone();
    let removed = write::modify(&file, |text| {
        edit::remove_secret(text, &def.table, &args.name)
            .map(|new| (new.clone(), new.is_some()))
            .map_err(|e| super::set::edit_error(&file, e))
    })?;
    if !removed {
        return Err(Error::Failed(format!(
            "secret `{}` is no longer in {} (was it removed meanwhile?)",
            args.name,
            crate::error::shown(&file)
        )));
    }
    app.note(&format!("removed {} from {}", args.name, crate::error::shown(&file)));
    Ok(())
}
