//! `fnox version`.

use super::{error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Print fnox's version: `fnox X.Y.Z`, as `fnox --version` prints it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox version
  fnox v")]
pub struct Args {}

pub(super) fn run(ui: &Ui, _args: Args) -> Result<ExitStatus, CommandError> {
    ui.stdout(format!("fnox {}\n", env!("CARGO_PKG_VERSION")).as_bytes())?;
    Ok(ExitStatus::SUCCESS)
}
