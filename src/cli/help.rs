//! The command line as it is parsed and as its help shows it: the global
//! options are listed once, in `fnox --help`; every subcommand accepts them
//! (before or after its name) and its help points there instead of
//! repeating them.

use std::ffi::OsString;

use clap::{Arg, ArgMatches, Command, CommandFactory, FromArgMatches};

use super::Cli;

/// Global options whose values add up: `fnox -P a exec -P b` is `-P a,b`.
/// clap would keep only the values given after the subcommand, so these
/// are an option of each command level instead of one global option, and
/// [`collected`] joins the levels in command-line order.
const COLLECTED: &[&str] = &["profile"];

/// [`Cli`] as a clap command, with its aliases, global options shown once.
pub(super) fn command() -> Command {
    let cmd = super::with_aliases(Cli::command(), true);
    let globals: Vec<Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    let pointer = pointer(&globals);
    per_level(cmd).mut_subcommands(|sc| globals_hidden(sc, &globals, &pointer))
}

/// `cmd` with each [`COLLECTED`] option made an option of every command
/// level (the root and each subcommand, shown as before) rather than
/// global.
pub(super) fn per_level(cmd: Command) -> Command {
    let collected: Vec<Arg> = cmd
        .get_arguments()
        .filter(|a| COLLECTED.contains(&a.get_id().as_str()))
        .map(|a| a.clone().global(false))
        .collect();
    fn add(sc: Command, args: &[Arg]) -> Command {
        args.iter().fold(sc, |sc, a| sc.arg(a.clone())).mut_subcommands(|sub| add(sub, args))
    }
    cmd.mut_args(|a| if COLLECTED.contains(&a.get_id().as_str()) { a.global(false) } else { a })
        .mut_subcommands(|sc| add(sc, &collected))
}

/// The values of [`COLLECTED`] option `id` at every level of `matches`,
/// the root first (the command line's order).
pub(super) fn collected(matches: &ArgMatches, id: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut level = Some(matches);
    while let Some(m) = level {
        if let Ok(Some(v)) = m.try_get_many::<String>(id) {
            values.extend(v.cloned());
        }
        level = m.subcommand().map(|(_, sub)| sub);
    }
    values
}

/// Parses `args` (the program name first) with [`command`]. A command
/// line that parses (and `--version`) needs only what parsing reads: the
/// command without the help's decoration ([`globals_hidden`] changes what
/// help shows, not what parses); help and errors are made with the whole
/// [`command`], so they read the same.
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let args: Vec<OsString> = args.into_iter().collect();
    let mut plain = per_level(super::with_aliases(Cli::command(), true));
    let parsed = match plain.try_get_matches_from_mut(&args) {
        Ok(mut matches) => {
            let profile = collected(&matches, "profile");
            Cli::from_arg_matches_mut(&mut matches).ok().map(|cli| Ok(Cli { profile, ..cli }))
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => Some(Err(e)),
        Err(_) => None,
    };
    // Freeing the command costs more than a short command's own work, and
    // the process ends soon; it holds no value of the command line.
    std::mem::forget(plain);
    if let Some(parsed) = parsed {
        return parsed;
    }
    let mut cmd = command();
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    let profile = collected(&matches, "profile");
    let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))?;
    cli.profile = profile;
    Ok(cli)
}

/// The line each subcommand's help shows instead of the global options:
/// "Global options (-c, -P, -q, -v and more): see `fnox --help`.", the
/// short flags of the shown ones (one line, whatever options are added).
fn pointer(globals: &[Arg]) -> String {
    let shorts: Vec<String> = globals
        .iter()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_short().map(|short| format!("-{short}")))
        .collect();
    format!("Global options ({} and more): see `fnox --help`.", shorts.join(", "))
}

/// `sc` and its subcommands with the global options hidden from their help
/// (clap would otherwise copy them, shown, into every subcommand) and
/// `pointer` above their examples. The hidden copies are still global, so
/// `fnox get NAME -P production` parses as before. A subcommand's own
/// option of the same name (`set --if-missing`, the entry's setting) stays
/// and is shown, as clap itself would leave it.
fn globals_hidden(sc: Command, globals: &[Arg], pointer: &str) -> Command {
    let own: Vec<clap::Id> = sc.get_arguments().map(|a| a.get_id().clone()).collect();
    let sc = globals.iter().fold(sc, |sc, a| {
        if !own.contains(a.get_id()) {
            sc.arg(a.clone().hide(true))
        } else if COLLECTED.contains(&a.get_id().as_str()) {
            // A COLLECTED option: the level's own, hidden as well.
            sc.mut_arg(a.get_id(), |own| own.hide(true))
        } else {
            // The subcommand's own option of that name: shown.
            sc
        }
    });
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
    fn profiles_add_up_before_and_after_the_subcommand() {
        let parse = |args: &[&str]| super::parse(args.iter().map(|a| a.into())).unwrap().profile;
        assert_eq!(
            parse(&["fnox", "-P", "a", "keys", "-P", "b", "list", "-P", "c,d"]),
            ["a", "b", "c,d"]
        );
        assert_eq!(parse(&["fnox", "get", "--profile=b", "X"]), ["b"]);
        assert!(parse(&["fnox", "list"]).is_empty());
    }

    #[test]
    fn pointer_names_every_global_option() {
        use clap::CommandFactory as _;
        // As `command` takes them: from `Cli`, before `-P` becomes per level.
        let globals: Vec<clap::Arg> =
            super::Cli::command().get_arguments().filter(|a| a.is_global_set()).cloned().collect();
        assert_eq!(
            super::pointer(&globals),
            "Global options (-c, -P, -q, -v and more): see `fnox --help`."
        );
    }
}
