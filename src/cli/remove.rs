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
  fnox -P production remove API_TOKEN   drop the production override
  fnox remove -g GITHUB_TOKEN           from the global config file")]
pub struct Args {
    /// Secret name.
    pub name: String,

    /// Remove it from the global config file ($FNOX_CONFIG_DIR/config.toml).
    #[arg(short = 'g', long)]
    pub global: bool,

    /// Say what would be removed, and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = if args.global { env.load_global(ui)? } else { env.load(ui)? };
    let config = project.config();
    let def = config.secret(&args.name).map_err(|e| {
        if args.global {
            CommandError::user(format!(
                "secret `{}` is not in the global config file {} (profile `{}`)",
                args.name,
                ui.path(&env.global_file()),
                config.profile
            ))
        } else {
            e.into()
        }
    })?;
    if config.in_profile() && !def.in_profile {
        return Err(CommandError::user(format!(
            "secret `{}` is not defined by profile `{}`: it comes from the top level of {}; run `fnox remove {}` without --profile to remove it there",
            args.name,
            config.profile,
            ui.path(&def.at.file),
            args.name
        )));
    }
    let file = def.at.file.to_path_buf();
    let mut emptied = Vec::new();
    let removed = if args.dry_run {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| CommandError::io(format!("cannot read {}", ui.path(&file)), e))?;
        let removed = edit::remove_secret(&text, &def.table, &args.name)
            .map_err(|source| fnox_core::Error::Edit { path: file.clone(), source })?;
        removed.map(|r| emptied = r.emptied).is_some()
    } else {
        let wait = env.fnox.lock_wait()?;
        plan::edit_file(&file, &wait, |text| {
            let removed = edit::remove_secret(text, &def.table, &args.name)?;
            Ok(removed.map(|r| {
                emptied = r.emptied;
                r.text
            }))
        })?
    };
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
    let left = if args.dry_run { "would leave" } else { "left" };
    let what = match emptied {
        Some(table) => format!(
            "{} from {}, and the [{table}] table it {left} empty",
            args.name,
            ui.path(&file)
        ),
        None => format!("{} from {}", args.name, ui.path(&file)),
    };
    if args.dry_run {
        ui.report(&format!("dry run: would remove {what}; nothing was changed\n"))?;
    } else {
        ui.note(&format!("removed {what}"));
    }
    Ok(ExitStatus::SUCCESS)
}
