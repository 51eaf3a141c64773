//! `fnox profiles`.

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// List the profiles the config files define, one per line, the active one
/// marked `(active)`: `default`, then every profile that a loaded file's
/// `[profiles.NAME]` or a `fnox.NAME.toml` file names, by name.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox profiles
  FNOX_PROFILE=staging fnox profiles")]
pub struct Args {
    /// Names only, without the marker (for completion scripts).
    #[arg(long, hide = true)]
    pub complete: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load_to_write(ui)?;
    let config = project.config();
    let mut out = String::new();
    for name in config.defined_profiles() {
        out.push_str(&name);
        if name == config.profile && !args.complete {
            out.push_str(" (active)");
        }
        out.push('\n');
    }
    ui.report(&out)?;
    if !config.profile_defined() {
        ui.warn(&format!(
            "the active profile `{}` is not defined by any file; commands that read secrets fail with it",
            config.profile
        ));
    }
    Ok(ExitStatus::SUCCESS)
}
