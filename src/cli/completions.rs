//! `fnox completions SHELL`: the script that makes the shell ask fnox for
//! completions (answered in `completer.rs`).

use clap_complete::env::{self as shells, EnvCompleter};

use super::{Env, completer, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Print the shell script that completes fnox's commands and options, and
/// the names of secrets, profiles and providers.
///
/// At each Tab the script runs `COMPLETE=SHELL fnox -- WORDS` (fnox on
/// PATH), which prints the candidates: names come from the config files of
/// the current directory, read as the command would (with -P, -c and
/// --no-defaults on the line) and never decrypted.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mkdir -p ~/.local/share/bash-completion/completions
  fnox completions bash > ~/.local/share/bash-completion/completions/fnox
  mkdir -p ~/.zfunc        # and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
  fnox completions zsh > ~/.zfunc/_fnox
  mkdir -p ~/.config/fish/completions
  fnox completions fish > ~/.config/fish/completions/fnox.fish")]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells fnox completes in.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Elvish,
    Fish,
    Powershell,
    Zsh,
}

impl Shell {
    fn completer(self) -> &'static dyn EnvCompleter {
        match self {
            Self::Bash => &shells::Bash,
            Self::Elvish => &shells::Elvish,
            Self::Fish => &shells::Fish,
            Self::Powershell => &shells::Powershell,
            Self::Zsh => &shells::Zsh,
        }
    }
}

pub(super) fn run(ui: &Ui, _env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let script = completer::script(args.shell.completer())
        .map_err(|e| CommandError::io("cannot write the completion script", e))?;
    ui.stdout(&script)?;
    Ok(ExitStatus::SUCCESS)
}
