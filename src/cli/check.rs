//! `fnox check`.

use fnox_core::{config::IfMissing, doctor, words::count};

use super::{
    Env,
    doctor::{Problem, chain, first_hint, problem_report},
    error::CommandError,
    ui::Ui,
};
use crate::exit_codes::ExitStatus;

/// Check the config and that every secret of the profile has a value,
/// without decrypting anything or contacting a key service.
///
/// The config must load (file syntax, keys, provider types and names, the
/// profile); every secret with a value needs a provider to decrypt it; a
/// secret with neither value nor default fails the check when its
/// `if_missing` is `error` (as `exec` would fail), and is a warning when it
/// is `warn` (the default: `exec` leaves it out); with --all it fails
/// whatever its `if_missing`. An entry that sets a variable that changes
/// what programs run fails unless it allows it. Exits 1 naming each
/// problem; else prints one line. `fnox doctor` also decrypts every value
/// and probes every provider.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox check
  fnox -P production check --all      every secret must have a value or a default")]
pub struct Args {
    /// Every secret must have a value or a default, even one whose
    /// `if_missing` is `warn` or `ignore`.
    #[arg(short, long)]
    pub all: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load(ui)?;
    let config = project.config();
    let found =
        doctor::check(config, |def| env.if_missing(config, def, IfMissing::Warn).mode, args.all);
    for w in &found.warnings {
        ui.warn(&format!(
            "{}; `exec` and `export` leave it out (if_missing = warn; --all makes it a problem)",
            chain(ui, w)
        ));
    }
    if !found.problems.is_empty() {
        let problems: Vec<Problem> =
            found.problems.iter().map(|e| (chain(ui, e), first_hint(&e.hints()))).collect();
        return Err(CommandError::user(problem_report(&problems)));
    }
    ui.report(&format!(
        "ok: {} and {} in profile {}; nothing decrypted\n",
        count(found.secrets, "secret", "secrets"),
        count(config.providers.len(), "provider", "providers"),
        config.profile
    ))?;
    Ok(ExitStatus::SUCCESS)
}
