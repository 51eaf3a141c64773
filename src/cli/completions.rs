//! `fnox completions SHELL`.

use clap::CommandFactory;

use crate::error::Error;

/// Print shell completions to stdout.
///
/// Example: fnox completions bash > ~/.local/share/bash-completion/completions/fnox
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub(super) fn run(args: Args) -> Result<(), Error> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut super::Cli::command(), "fnox", &mut buf);
    super::output::write_stdout(&buf)
}
