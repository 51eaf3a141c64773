//! `fnox config-files`.

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// List the config files that a command run here would read, one absolute
/// path per line, nothing else.
///
/// jdx/fnox's order: the files of the nearest directory first (or the -c
/// file), each followed by the files it imports, then those of each parent
/// directory up to the first `root = true`, the global file last. Within a
/// directory, files come in the order they apply (a later one wins). Which
/// profile file is read follows -P and FNOX_PROFILE. No file at all: no
/// output, exit 0. `fnox -v COMMAND` lists them in merge order instead.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox config-files
  fnox -P production config-files
  $EDITOR \"$(fnox config-files | head -n 1)\"")]
pub struct Args {}

pub(super) fn run(ui: &Ui, env: &Env, _args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.fnox.load(&env.load)?;
    let project = env.require_profile(project)?;
    let mut out = String::new();
    for path in project.config().files_nearest_first() {
        out.push_str(&path.display().to_string());
        out.push('\n');
    }
    ui.report(&out)?;
    Ok(ExitStatus::SUCCESS)
}
