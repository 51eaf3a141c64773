//! `fnox completions SHELL`.

use clap::CommandFactory;

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Print shell completions to stdout.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox completions bash > ~/.local/share/bash-completion/completions/fnox
  fnox completions zsh > ~/.zfunc/_fnox
  fnox completions fish > ~/.config/fish/completions/fnox.fish")]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub(super) fn run(ui: &Ui, _env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut super::Cli::command(), "fnox", &mut buf);
    ui.stdout(&buf)?;
    Ok(ExitStatus::SUCCESS)
}
