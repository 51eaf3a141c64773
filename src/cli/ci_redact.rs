//! `fnox ci-redact`.

use fnox_core::config::IfMissing;
use zeroize::Zeroizing;

use super::{Env, error::CommandError, export::add_masks, ui::Ui};
use crate::exit_codes::ExitStatus;

/// In a GitHub Actions job, print an `::add-mask::` line for every line of
/// every secret value of the profile, so that the job's log shows `***`
/// wherever a value appears in a later step.
///
/// A plain `default` is a setting, not a secret, and is not masked unless
/// its entry says `sensitive = true`. A value of several lines gets a mask
/// per line (GitHub masks line by line). A secret without a value follows
/// its `if_missing` (default: a warning). Outside GitHub Actions
/// (GITHUB_ACTIONS is not `true`) it fails: nothing else reads these lines.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox ci-redact                            in a step before those that print values
  fnox -P ci ci-redact")]
pub struct Args {}

pub(super) fn run(ui: &Ui, env: &Env, _args: Args) -> Result<ExitStatus, CommandError> {
    if env.fnox.env().var("GITHUB_ACTIONS") != Some("true") {
        return Err(CommandError::user(
            "ci-redact prints GitHub Actions' `::add-mask::` lines, which hide secret values in a job's log; GITHUB_ACTIONS is not `true`, so this is not a GitHub Actions job",
        )
        .hint("elsewhere, `fnox exec --redact -- COMMAND` hides the values in a command's output"));
    }
    let project = env.load(ui)?;
    let config = project.config();
    let mut masks = Zeroizing::new(Vec::new());
    for (def, outcome) in project.resolve_each(&[])? {
        let settled =
            env.settle(ui, config, &def, outcome, IfMissing::Warn, Some("nothing to mask"))?;
        let Some(value) = settled else { continue };
        if !value.is_secret() {
            continue;
        }
        let text = std::str::from_utf8(value.expose()).map_err(|_| {
            CommandError::user(format!(
                "secret `{}` is not UTF-8 text; GitHub cannot mask it",
                def.name
            ))
        })?;
        add_masks(&mut masks, text);
    }
    ui.stdout(&masks)?;
    Ok(ExitStatus::SUCCESS)
}
