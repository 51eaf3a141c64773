//! Tab completion. The scripts of `fnox completions SHELL` run
//! `COMPLETE=SHELL fnox -- WORDS...` at each Tab (clap_complete's protocol);
//! fnox then prints the candidates instead of running a command: the
//! subcommands and options, and the secret, profile and provider names of
//! the project in the working directory. The config files are read, never
//! decrypted; nothing is prompted; on any error there are no candidates and
//! nothing is written to stderr (it would land in the middle of the
//! prompt).

use std::{
    ffi::{OsStr, OsString},
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use clap::{Command, CommandFactory};
use clap_complete::{
    ArgValueCandidates, ArgValueCompleter, CompletionCandidate,
    env::{EnvCompleter, Shells},
};
use fnox_core::{Environment, LoadOptions, config::Config};

use super::{Cli, ui};
use crate::exit_codes;

/// The variable that makes a run a completion request: the shell's name.
pub const VAR: &str = "COMPLETE";

/// The index of the word under the cursor (bash, zsh and elvish set it;
/// for fish and PowerShell it is the last word).
pub const INDEX_VAR: &str = "_CLAP_COMPLETE_INDEX";

/// The name completions are registered under, and the program the scripts
/// run (found on PATH at each Tab).
const BIN: &str = "fnox";

/// Where secret names are completed: (subcommand path, argument id).
const SECRET_ARGS: &[(&[&str], &str)] = &[
    (&["get"], "name"),
    (&["set"], "name"),
    (&["remove"], "name"),
    (&["rotate"], "names"),
    (&["exec"], "only"),
    (&["export"], "only"),
];

/// Where provider names are completed.
const PROVIDER_ARGS: &[(&[&str], &str)] = &[
    (&["set"], "provider"),
    (&["import"], "provider"),
    (&["rotate"], "provider"),
    (&["rotate"], "to"),
];

/// Where the names of `local` providers (keyrings) are completed.
const KEYRING_ARGS: &[(&[&str], &str)] = &[
    (&["keys", "list"], "provider"),
    (&["keys", "export"], "provider"),
    (&["keys", "import"], "provider"),
    (&["keys", "delete-retired"], "provider"),
];

/// The script that makes `shell` ask fnox for completions.
pub fn script(shell: &dyn EnvCompleter) -> std::io::Result<Vec<u8>> {
    let mut script = Vec::new();
    shell.write_registration(VAR, BIN, BIN, BIN, &mut script)?;
    if shell.name() == "zsh" {
        // Installed as `_fnox` in $fpath, the file is the body of the
        // autoloaded function `_fnox`: its first run only registers the
        // completer, so the first Tab would offer nothing. When it runs as
        // `_fnox` it also completes; sourced, it only registers.
        script.extend_from_slice(
            b"if [[ ${funcstack[1]} = _fnox ]]; then _clap_dynamic_completer_fnox \"$@\"; fi\n",
        );
    }
    Ok(script)
}

/// Answers the completion request that `args` and `environment` make, and
/// returns the exit status; `None` when this run is not one.
pub fn answer(args: &[OsString], environment: &Environment) -> Option<i32> {
    let shell = environment.var(VAR).filter(|s| !s.is_empty() && *s != "0")?;
    if args.get(1).is_none_or(|a| a != "--") {
        return None;
    }
    // A bug must not print a panic message into the prompt either.
    std::panic::set_hook(Box::new(|_| {}));
    let shells = Shells::builtins();
    let Some(shell) = shells.completer(shell) else {
        return Some(exit_codes::USAGE);
    };
    let words = args[2..].to_vec();
    let index = environment
        .var(INDEX_VAR)
        .and_then(|i| i.parse().ok())
        .unwrap_or(words.len().saturating_sub(1));
    let names = Arc::new(Names {
        load: load_options(environment, &words[..index.min(words.len())]),
        environment: environment.clone(),
        config: OnceLock::new(),
    });
    let mut cmd = with_completers(super::help::per_level(command()), &names);
    let mut out = Vec::new();
    if shell.write_complete(&mut cmd, words, Some(environment.cwd()), &mut out).is_err() {
        return Some(exit_codes::FAILURE);
    }
    let ui = ui::Ui::new(false, true, false, environment.cwd().to_path_buf());
    Some(match ui.stdout(&out) {
        Ok(()) => exit_codes::SUCCESS,
        Err(_) => exit_codes::FAILURE,
    })
}

/// What to load, as the command being typed would: `-P`, `-c` and
/// `--no-defaults` among the words before the cursor (before or after the
/// subcommand), over `FNOX_PROFILE` and `FNOX_NO_DEFAULTS`. `None` when
/// they are invalid (e.g. a bad profile name).
fn load_options(environment: &Environment, words: &[OsString]) -> Option<LoadOptions> {
    // An unfinished command line is the rule here: clap keeps what it
    // parsed before the first error.
    let cmd = super::help::per_level(command());
    let matches = cmd.ignore_errors(true).try_get_matches_from(words).ok();
    let matches = matches.as_ref();
    let profiles = matches.map(|m| super::help::collected(m, "profile")).unwrap_or_default();
    let config = matches.and_then(|m| m.try_get_one::<PathBuf>("config").ok().flatten());
    let no_defaults = matches
        .and_then(|m| m.try_get_one::<bool>("no_defaults").ok().flatten())
        .is_some_and(|b| *b);
    super::load_options(environment, &profiles, no_defaults, config.map(PathBuf::as_path)).ok()
}

/// [`Cli`] with its aliases hidden: a Tab on a command name offers each
/// command once, by its own name.
fn command() -> Command {
    super::with_aliases(Cli::command(), false)
}

/// [`Cli`] with the project's names as candidates for the arguments that
/// take them.
fn with_completers(cmd: Command, names: &Arc<Names>) -> Command {
    let candidates = |list: fn(&Names) -> Vec<CompletionCandidate>| {
        let names = Arc::clone(names);
        ArgValueCandidates::new(move || list(&names))
    };
    let profiles = {
        let names = Arc::clone(names);
        ArgValueCompleter::new(move |current: &OsStr| names.profiles(current))
    };
    // `-P` is an option of every level (see `help::per_level`).
    fn everywhere(cmd: Command, completer: &ArgValueCompleter) -> Command {
        cmd.mut_args(|a| if a.get_id() == "profile" { a.add(completer.clone()) } else { a })
            .mut_subcommands(|sc| everywhere(sc, completer))
    }
    let mut cmd = everywhere(cmd, &profiles).mut_arg("write_profile", |a| a.add(profiles));
    for (list, args) in [
        (Names::secrets as fn(&Names) -> _, SECRET_ARGS),
        (Names::providers, PROVIDER_ARGS),
        (Names::keyrings, KEYRING_ARGS),
    ] {
        let completer = candidates(list);
        for (path, arg) in args {
            cmd = add_at(cmd, path, arg, &completer);
        }
    }
    cmd
}

/// `cmd` with `completer` on argument `arg` of its subcommand at `path`
/// (changed in place: `mut_arg` would move a positional argument last).
fn add_at(cmd: Command, path: &[&str], arg: &str, completer: &ArgValueCandidates) -> Command {
    match path.split_first() {
        None => cmd.mut_args(|a| if a.get_id() == arg { a.add(completer.clone()) } else { a }),
        Some((first, rest)) => cmd.mut_subcommands(|sc| {
            if sc.get_name() == *first { add_at(sc, rest, arg, completer) } else { sc }
        }),
    }
}

/// The names the project offers; its config is loaded on first use (a
/// Tab on a subcommand name reads no file).
struct Names {
    environment: Environment,
    load: Option<LoadOptions>,
    config: OnceLock<Option<Config>>,
}

impl Names {
    fn config(&self) -> Option<&Config> {
        self.config
            .get_or_init(|| {
                let load = self.load.as_ref()?;
                let config_dir = self.environment.config_dir()?;
                fnox_core::config::load(&self.environment, &config_dir, load).ok()
            })
            .as_ref()
    }

    /// The active profile's secrets, with their descriptions.
    fn secrets(&self) -> Vec<CompletionCandidate> {
        let Some(config) = self.config() else { return Vec::new() };
        config
            .secrets
            .values()
            .filter_map(|s| candidate(&s.name, s.description.as_deref()))
            .collect()
    }

    /// The profiles the config files name that start as the last item of
    /// the list `current` does and are not in it yet (`-P staging,pr`:
    /// `staging,production`).
    fn profiles(&self, current: &OsStr) -> Vec<CompletionCandidate> {
        let Some(config) = self.config() else { return Vec::new() };
        let current = current.to_string_lossy();
        let (listed, last) = match current.rsplit_once(',') {
            Some((listed, last)) => (Some(listed), last),
            None => (None, &*current),
        };
        let taken: Vec<&str> =
            listed.map(|l| l.split(',').map(str::trim).collect()).unwrap_or_default();
        config
            .known_profiles
            .iter()
            .filter(|p| p.starts_with(last.trim_start()) && !taken.contains(&p.as_str()))
            .filter_map(|p| match listed {
                Some(listed) => candidate(&format!("{listed},{p}"), None),
                None => candidate(p, None),
            })
            .collect()
    }

    /// The providers, with their types.
    fn providers(&self) -> Vec<CompletionCandidate> {
        self.providers_of(|_| true)
    }

    /// The `local` providers.
    fn keyrings(&self) -> Vec<CompletionCandidate> {
        self.providers_of(|kind| kind == "local")
    }

    fn providers_of(&self, wanted: impl Fn(&str) -> bool) -> Vec<CompletionCandidate> {
        let Some(config) = self.config() else { return Vec::new() };
        config
            .providers
            .values()
            .filter(|p| wanted(p.config.kind()))
            .filter_map(|p| candidate(&p.name, Some(p.config.kind())))
            .collect()
    }
}

/// `name` as a candidate, with `help` made printable; none for a name with
/// a control character (no shell could insert it as it is).
fn candidate(name: &str, help: Option<&str>) -> Option<CompletionCandidate> {
    if name.chars().any(char::is_control) {
        return None;
    }
    let help = help.map(|h| ui::printable(h).into_owned().into());
    Some(CompletionCandidate::new(name).help(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_completed_argument_exists() {
        let mut cmd = Cli::command();
        cmd.build();
        for (path, arg) in [SECRET_ARGS, PROVIDER_ARGS, KEYRING_ARGS].concat() {
            let sub = path.iter().fold(&cmd, |c, name| {
                c.find_subcommand(name).unwrap_or_else(|| panic!("no subcommand {path:?}"))
            });
            assert!(sub.get_arguments().any(|a| a.get_id() == arg), "no {arg} in {path:?}");
        }
        assert!(cmd.get_arguments().any(|a| a.get_id() == "profile"));
    }
}
