//! The command line as it is parsed and as its help shows it: the global
//! options are listed once, in `fnox --help`; every subcommand accepts them
//! (before or after its name) and its help points there instead of
//! repeating them.

use std::ffi::OsString;

use clap::{Arg, Command, CommandFactory, FromArgMatches};

use super::Cli;

/// [`Cli`] as a clap command, with its aliases, global options shown once.
pub(super) fn command() -> Command {
    let cmd = super::with_aliases(Cli::command(), true);
    let globals: Vec<Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    let pointer = pointer(&globals);
    cmd.mut_subcommands(|sc| globals_hidden(sc, &globals, &pointer))
}

/// Parses `args` (the program name first) with [`command`].
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))
}

/// The line each subcommand's help shows instead of the global options:
/// "Global options (-c, -P, --no-defaults, ...): see `fnox --help`."
fn pointer(globals: &[Arg]) -> String {
    let names: Vec<String> = globals
        .iter()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| match a.get_short() {
            Some(short) => Some(format!("-{short}")),
            None => a.get_long().map(|long| format!("--{long}")),
        })
        .collect();
    format!("Global options ({}): see `fnox --help`.", names.join(", "))
}

/// `sc` and its subcommands with the global options hidden from their help
/// (clap would otherwise copy them, shown, into every subcommand) and
/// `pointer` above their examples. The hidden copies are still global, so
/// `fnox get NAME -P production` parses as before. A subcommand's own
/// option of the same name (`set --if-missing`, the entry's setting) stays
/// and is shown, as clap itself would leave it.
fn globals_hidden(sc: Command, globals: &[Arg], pointer: &str) -> Command {
    let own: Vec<clap::Id> = sc.get_arguments().map(|a| a.get_id().clone()).collect();
    let sc = globals
        .iter()
        .filter(|a| !own.contains(a.get_id()))
        .fold(sc, |sc, a| sc.arg(a.clone().hide(true)));
    let after_help = match sc.get_after_help() {
        Some(examples) => format!("{pointer}\n\n{examples}"),
        None => pointer.to_string(),
    };
    sc.after_help(after_help).mut_subcommands(|sub| globals_hidden(sub, globals, pointer))
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_is_well_formed() {
        super::command().debug_assert();
    }

    #[test]
    fn pointer_names_every_global_option() {
        let globals: Vec<clap::Arg> =
            super::command().get_arguments().filter(|a| a.is_global_set()).cloned().collect();
        assert_eq!(
            super::pointer(&globals),
            "Global options (-c, -P, --no-defaults, -q, -v, --color, --no-color, --if-missing, --non-interactive, --no-daemon): see `fnox --help`."
        );
    }
}
