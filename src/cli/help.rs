//! The command line as it is parsed and as its help shows it: the global
//! options are listed once, in `fnox --help`; every subcommand accepts them
//! (before or after its name) and its help points there instead of
//! repeating them.

use std::ffi::OsString;

use clap::{Arg, ArgMatches, Args, Command, CommandFactory, FromArgMatches};

use super::{Cli, Globals};

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

/// Parses `args` (the program name first). A command line that parses
/// (and `--version`) is parsed with [`plain`]: the root's options and the
/// one subcommand it names, without the help's decoration
/// ([`globals_hidden`] changes what help shows, not what parses). Help and
/// errors (and anything [`plain`] does not follow) are made with the whole
/// [`command`], so they read the same.
pub(super) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if let Some(cli) = plain_exec(&mut args) {
        return Ok(cli);
    }
    if let Some(parsed) = parse_plain(&args) {
        return parsed;
    }
    parse_whole(args)
}

/// `fnox exec -- CMD [ARGS...]`, the form a shell hook, a script or CI runs
/// most, without options: what clap makes of it (a test compares the two),
/// without building the command; `None` (and `args` untouched) for any
/// other command line.
fn plain_exec(args: &mut Vec<OsString>) -> Option<Cli> {
    if args.len() < 4 || args[1] != "exec" || args[2] != "--" {
        return None;
    }
    let command = args.split_off(3);
    let globals = super::Globals {
        config: None,
        profile: Vec::new(),
        write_profile: None,
        no_defaults: false,
        quiet: false,
        verbose: false,
        color: clap::ColorChoice::Auto,
        no_color: false,
        if_missing: None,
        non_interactive: false,
        no_daemon: false,
        age_key_file: None,
    };
    let exec = super::exec::Args { redact: false, replace: false, only: Vec::new(), command };
    Some(Cli { globals, command: super::Command::Exec(exec) })
}

/// [`parse`] with the whole [`command`].
fn parse_whole(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    let profile = collected(&matches, "profile");
    let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))?;
    cli.globals.profile = profile;
    Ok(cli)
}

/// `args` parsed with [`plain`]: `None` when they do not parse that way
/// (the whole command then says why, or shows the help).
fn parse_plain(args: &[OsString]) -> Option<Result<Cli, clap::Error>> {
    let mut plain = plain(args)?;
    let parsed = match plain.try_get_matches_from_mut(args) {
        Ok(mut matches) => {
            let profile = collected(&matches, "profile");
            Cli::from_arg_matches_mut(&mut matches).ok().map(|mut cli| {
                cli.globals.profile = profile;
                Ok(cli)
            })
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => Some(Err(e)),
        Err(_) => None,
    };
    // Freeing the command costs more than a short command's own work, and
    // the process ends soon; it holds no value of the command line.
    std::mem::forget(plain);
    parsed
}

/// What parses `args`: the root's options (the globals, `--version`) and
/// the subcommand that the first word after them names, without the other
/// subcommands (building every one of them costs more than a short
/// command's own work); `None` when the words before the subcommand are not
/// all global options (`--help`, a mistake), or it names none.
fn plain(args: &[OsString]) -> Option<Command> {
    let root = Globals::augment_args(
        Command::new("fnox").version(env!("CARGO_PKG_VERSION")).max_term_width(100),
    );
    let cmd = match first_word(args, &root)? {
        Word::Version => root,
        Word::Subcommand(word) => {
            let (name, augment, aliases) = super::subcommand_named(word)?;
            root.subcommand(augment(Command::new(name)).aliases(aliases))
                .subcommand_required(true)
                .arg_required_else_help(true)
        }
    };
    Some(per_level(cmd))
}

/// The first word of a command line that is not a global option.
#[derive(Debug, PartialEq)]
enum Word<'a> {
    /// `--version` or `-V`.
    Version,
    /// A subcommand's name, or what stands in its place.
    Subcommand(&'a str),
}

/// The first word of `args` after the program name that is not one of
/// `root`'s options or an option's value; `None` for anything else first
/// (`--help`, an unknown option, `--`, an option without its value).
fn first_word<'a>(args: &'a [OsString], root: &Command) -> Option<Word<'a>> {
    let takes_value = |a: &Arg| a.get_action().takes_values();
    let mut words = args.iter().skip(1).map(|w| w.to_str());
    while let Some(word) = words.next() {
        let word = word?;
        let value_next = if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            if name == "version" && !inline {
                return Some(Word::Version);
            }
            let arg = root.get_arguments().find(|a| a.get_long() == Some(name))?;
            takes_value(arg) && !inline
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut value_next = false;
            for (i, c) in shorts.char_indices() {
                if c == 'V' {
                    return Some(Word::Version);
                }
                let arg = root.get_arguments().find(|a| a.get_short() == Some(c))?;
                if takes_value(arg) {
                    // `-Pci` carries its value; `-P ci` has it next.
                    value_next = i + c.len_utf8() == shorts.len();
                    break;
                }
            }
            value_next
        } else {
            return Some(Word::Subcommand(word));
        };
        // A value that looks like an option is left to the whole command.
        if value_next && words.next()??.starts_with('-') {
            return None;
        }
    }
    None
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
    fn a_plain_exec_line_parses_as_clap_parses_it() {
        let os =
            |args: &[&str]| -> Vec<std::ffi::OsString> { args.iter().map(|a| a.into()).collect() };
        for line in [
            &["fnox", "exec", "--", "true"][..],
            &["fnox", "exec", "--", "sh", "-c", "echo --x -y"],
            &["fnox", "exec", "--", "--"],
            &["fnox", "exec", "--", "", "-P", "p"],
        ] {
            let fast = super::plain_exec(&mut os(line)).expect("a plain exec line");
            let clap = super::parse_whole(os(line)).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{line:?}");
        }
        let mut not_plain = [
            &["fnox", "exec", "true"][..],
            &["fnox", "exec", "--"],
            &["fnox", "-q", "exec", "--", "true"],
            &["fnox", "exec", "--redact", "--", "true"],
            &["fnox", "x", "--", "true"],
        ]
        .map(os);
        for args in &mut not_plain {
            let before = args.clone();
            assert!(super::plain_exec(args).is_none(), "{before:?}");
            assert_eq!(*args, before);
        }
    }

    #[test]
    fn profiles_add_up_before_and_after_the_subcommand() {
        let parse =
            |args: &[&str]| super::parse(args.iter().map(|a| a.into())).unwrap().globals.profile;
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

    /// What a command parses: its arguments, its subcommands (whole), its
    /// names and the settings that change parsing, level by level.
    fn parsing_shape(cmd: &clap::Command) -> String {
        let mut out = format!(
            "{} aliases={:?} required={} else_help={} args_conflict={}\n",
            cmd.get_name(),
            cmd.get_all_aliases().collect::<Vec<_>>(),
            cmd.is_subcommand_required_set(),
            cmd.is_arg_required_else_help_set(),
            cmd.is_args_conflicts_with_subcommands_set(),
        );
        for arg in cmd.get_arguments() {
            out.push_str(&format!("  {arg:?}\n"));
        }
        for group in cmd.get_groups() {
            out.push_str(&format!("  {group:?}\n"));
        }
        for sub in cmd.get_subcommands() {
            out.push_str(&format!("  sub {sub:?}\n"));
        }
        out
    }

    #[test]
    fn each_subcommand_parses_as_in_the_whole_command() {
        use clap::CommandFactory as _;
        let whole = super::per_level(super::super::with_aliases(super::Cli::command(), true));
        let mut names: Vec<&str> = whole.get_subcommands().map(|s| s.get_name()).collect();
        let mut listed: Vec<&str> = super::super::SUBCOMMANDS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        listed.sort_unstable();
        assert_eq!(names, listed, "SUBCOMMANDS lists every subcommand");
        for sub in whole.get_subcommands() {
            for word in std::iter::once(sub.get_name()).chain(sub.get_all_aliases()) {
                let args: Vec<std::ffi::OsString> = vec!["fnox".into(), word.into()];
                let plain = super::plain(&args).expect(word);
                assert_eq!(
                    parsing_shape(plain.find_subcommand(sub.get_name()).expect(word)),
                    parsing_shape(sub),
                    "{word}"
                );
                let root_args = |c: &clap::Command| {
                    c.get_arguments().map(|a| format!("{a:?}")).collect::<Vec<_>>()
                };
                assert_eq!(root_args(&plain), root_args(&whole), "{word}");
            }
        }
    }

    #[test]
    fn command_lines_parse_the_same_both_ways() {
        let lines: &[&str] = &[
            "fnox exec -- env",
            "fnox x --only A,B -- sh -c true",
            "fnox run -- true",
            "fnox -P a -q exec -P b -- true",
            "fnox -Pci --color=never get NAME",
            "fnox -qv --config /tmp/f.toml list --values",
            "fnox --write-profile p -P a,p set NAME --from-file f",
            "fnox --if-missing warn export --format json",
            "fnox --no-defaults --non-interactive --no-daemon check",
            "fnox --age-key-file k.txt get A",
            "fnox keys list",
            "fnox keys -P x export",
            "fnox git diff a b",
            "fnox agent status",
            "fnox rm A",
            "fnox profile",
            "fnox complete bash",
            "fnox hook-env bash",
            "fnox exec --version",
            "fnox version",
            "fnox -c f.toml rotate --dry-run",
        ];
        for line in lines {
            let args: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
            let plain = super::parse_plain(&args).unwrap_or_else(|| panic!("{line}: not plain"));
            let whole = super::parse_whole(args.clone());
            assert_eq!(format!("{plain:?}"), format!("{whole:?}"), "{line}");
        }
        let version = |args: &[&str]| {
            let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
            super::parse_plain(&args).expect("plain").unwrap_err().render().to_string()
        };
        assert_eq!(
            version(&["fnox", "--version"]),
            "fnox 0.1.0\n".replace("0.1.0", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(version(&["fnox", "-q", "-V"]), version(&["fnox", "--version"]));
    }

    #[test]
    fn the_whole_command_answers_help_mistakes_and_odd_lines() {
        for line in [
            "fnox",
            "fnox --help",
            "fnox exec --help",
            "fnox help exec",
            "fnox exce -- true",
            "fnox -P",
            "fnox -P -q list",
            "fnox --unknown list",
            "fnox -- exec",
            "fnox get",
            "fnox set --bogus A",
        ] {
            let args: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
            assert!(super::parse_plain(&args).is_none(), "{line}");
        }
    }
}
