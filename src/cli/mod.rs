//! The command line: clap types, and dispatch to one file per command. Each
//! command is `run(ui, env, args) -> Result<ExitStatus, CommandError>`.

mod activate;
mod agent;
mod check;
mod ci_redact;
mod completer;
mod completions;
mod config_files;
mod doctor;
mod edit;
mod env;
pub mod error;
mod exec;
mod export;
mod get;
mod git;
mod git_hook;
mod help;
mod hints;
mod import;
mod init;
mod keys;
mod list;
mod plaintext;
mod profiles;
mod prompter;
mod remove;
mod rotate;
mod scan;
mod set;
pub mod ui;
mod version;

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use clap::{Parser, Subcommand};
use fnox_core::{Environment, Fnox, LoadOptions, RuntimeFlavor, config::ConfigError};

pub use self::env::Env;
use self::{error::CommandError, ui::Ui};
use crate::exit_codes::{self, ExitStatus};

const ABOUT: &str = "Keep secrets encrypted in fnox.toml, next to your code.";

const AFTER_HELP: &str = "\
Examples:
  fnox init                                 create fnox.toml with the `local` provider
  printf %s \"$TOKEN\" | fnox set API_TOKEN   encrypt a value read from stdin
  fnox get API_TOKEN                        print the decrypted value
  fnox exec -- ./deploy.sh                  run a command with every secret in its environment
  fnox -P production list                   the secrets of the `production` profile

Config: fnox.toml in this directory and its parents, fnox.<profile>.toml,
fnox.local.toml, and $FNOX_CONFIG_DIR/config.toml (default ~/.config/fnox).";

/// `fnox`: a git-friendly secrets tool.
#[derive(Debug, Parser)]
#[command(name = "fnox", version, about = ABOUT, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,

    #[command(subcommand)]
    pub command: Command,
}

/// The global options: accepted before or after the subcommand's name.
#[derive(Debug, clap::Args)]
pub struct Globals {
    /// Use this config file (plus its imports and the global file) instead of
    /// searching the directory tree.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        help_heading = "Global options",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Profile to use: its [profiles.NAME] entries win over the top-level
    /// ones. Several (`-P a,b` or `-P a -P b`): each wins over the ones
    /// before it [env: FNOX_PROFILE] [default: default].
    #[arg(short = 'P', long, global = true, help_heading = "Global options", value_name = "NAME")]
    pub profile: Vec<String>,

    /// The profile that `set`, `remove` and `import` write to; needed when
    /// several profiles are active [default: the active profile].
    #[arg(long, global = true, help_heading = "Global options", value_name = "NAME")]
    pub write_profile: Option<String>,

    /// In a profile, leave out the top-level secrets [env: FNOX_NO_DEFAULTS].
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_defaults: bool,

    /// Print no notes or warnings, only errors.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,

    /// Say which config files are loaded.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,

    /// When to use colors on stderr [env: NO_COLOR turns them off].
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: clap::ColorChoice,

    /// No colors: the same as `--color never`.
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_color: bool,

    /// What to do when a secret has no value: error, warn or ignore; wins
    /// over `if_missing` in the config files [env: FNOX_IF_MISSING]
    /// [default: error for get, warn for exec and export].
    #[arg(long, global = true, help_heading = "Global options", value_name = "MODE", value_parser = ["error", "warn", "ignore"])]
    pub if_missing: Option<String>,

    /// Never ask: where fnox would prompt (set's hidden prompt, the
    /// confirmation of rotate and keys delete-retired) it fails and names
    /// the option to pass instead [env: FNOX_NON_INTERACTIVE].
    #[arg(long, global = true, help_heading = "Global options")]
    pub non_interactive: bool,

    /// Do not ask the agent (`fnox agent`) for values: as FNOX_AGENT=off.
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_daemon: bool,

    /// The age identity file, as FNOX_AGE_KEY_FILE (this wins).
    #[arg(long, global = true, hide = true, value_name = "PATH")]
    pub age_key_file: Option<PathBuf>,
}

/// The subcommands. Their aliases are in [`ALIASES`] (and hidden ones here).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create fnox.toml (with the `local` provider unless told otherwise).
    Init(init::Args),
    /// Encrypt a value and store it in fnox.toml.
    Set(set::Args),
    /// Decrypt a secret and print it.
    Get(get::Args),
    /// List secrets: name, provider, description, defining file.
    List(list::Args),
    /// Delete a secret from the file that defines it.
    Remove(remove::Args),
    /// Edit the decrypted secrets of a file in $VISUAL, $EDITOR or vi.
    Edit(edit::Args),
    /// Run a command with the secrets in its environment.
    Exec(exec::Args),
    /// Print the secrets for another tool: dotenv, shell, json, yaml, toml, GitHub Actions.
    Export(export::Args),
    /// Encrypt every entry of a .env, JSON, TOML or YAML file into fnox.toml.
    Import(import::Args),
    /// Re-encrypt secrets after a key change, or move them to another provider.
    Rotate(rotate::Args),
    /// Check config, providers (timed probes) and that every secret decrypts.
    Doctor(doctor::Args),
    /// Check the config and that every secret has a value, without decrypting.
    Check(check::Args),
    /// List the profiles, marking the active one.
    Profiles(profiles::Args),
    /// List the config files a command here would read, one per line.
    ConfigFiles(config_files::Args),
    /// Print GitHub Actions' `::add-mask::` lines for the secret values.
    CiRedact(ci_redact::Args),
    /// Print the Tab-completion script for a shell (commands, options, names).
    Completions(completions::Args),
    /// Manage the local keyring: list, export, import, delete retired keys.
    Keys(keys::Args),
    /// Find plaintext secrets that should not be committed (exit 1 if any).
    Scan(scan::Args),
    /// fnox.toml in git: readable diffs, a merge driver for rotations.
    Git(git::Args),
    /// Print the code that loads secrets into bash, zsh or fish as you cd.
    Activate(activate::ActivateArgs),
    /// Unload the secrets from the shell and remove the activation hook.
    Deactivate(activate::DeactivateArgs),
    /// What the activation hook runs at each prompt (shell code to eval).
    #[command(hide = true)]
    HookEnv(activate::HookEnvArgs),
    /// Print fnox's version (as `fnox --version` does).
    Version(version::Args),
    /// Keep decrypted key-service and age values in memory for a while.
    Agent(agent::Args),
}

/// jdx/fnox's names for our commands: (command, aliases). `fnox --help`
/// shows them; the completion scripts offer only the commands' own names.
pub const ALIASES: &[(&str, &[&str])] = &[
    ("init", &["i"]),
    ("set", &["s"]),
    ("list", &["ls", "secrets"]),
    ("remove", &["rm", "delete"]),
    ("exec", &["x"]),
    ("export", &["ex"]),
    ("import", &["im"]),
    ("rotate", &["reencrypt"]),
    ("doctor", &["dr"]),
    ("check", &["c"]),
    ("completions", &["completion"]),
    ("version", &["v"]),
];

/// Names that parse but never show: (command, aliases).
pub const HIDDEN_ALIASES: &[(&str, &[&str])] =
    &[("exec", &["run"]), ("profiles", &["profile"]), ("completions", &["complete"])];

/// `cmd` with the [`ALIASES`]: `visible` ones show in help; hidden ones
/// still parse (a completion request for `fnox rm NAME` completes the
/// name), and a Tab on the command name offers `remove`, not `delete` too.
/// The [`HIDDEN_ALIASES`] are hidden either way.
pub fn with_aliases(cmd: clap::Command, visible: bool) -> clap::Command {
    let cmd = ALIASES.iter().fold(cmd, |cmd, (name, aliases)| {
        cmd.mut_subcommand(name, |sc| {
            if visible { sc.visible_aliases(*aliases) } else { sc.aliases(*aliases) }
        })
    });
    HIDDEN_ALIASES
        .iter()
        .fold(cmd, |cmd, (name, aliases)| cmd.mut_subcommand(name, |sc| sc.aliases(*aliases)))
}

/// A subcommand's arguments added to a clap command.
type Augment = fn(clap::Command) -> clap::Command;

/// Each [`Command`] by name, with what adds its arguments: a command line
/// is parsed with the one it names only (see `help::parse`). A test checks
/// it against [`Command`].
pub const SUBCOMMANDS: &[(&str, Augment)] = &[
    ("init", <init::Args as clap::Args>::augment_args),
    ("set", <set::Args as clap::Args>::augment_args),
    ("get", <get::Args as clap::Args>::augment_args),
    ("list", <list::Args as clap::Args>::augment_args),
    ("remove", <remove::Args as clap::Args>::augment_args),
    ("edit", <edit::Args as clap::Args>::augment_args),
    ("exec", <exec::Args as clap::Args>::augment_args),
    ("export", <export::Args as clap::Args>::augment_args),
    ("import", <import::Args as clap::Args>::augment_args),
    ("rotate", <rotate::Args as clap::Args>::augment_args),
    ("doctor", <doctor::Args as clap::Args>::augment_args),
    ("check", <check::Args as clap::Args>::augment_args),
    ("profiles", <profiles::Args as clap::Args>::augment_args),
    ("config-files", <config_files::Args as clap::Args>::augment_args),
    ("ci-redact", <ci_redact::Args as clap::Args>::augment_args),
    ("completions", <completions::Args as clap::Args>::augment_args),
    ("keys", <keys::Args as clap::Args>::augment_args),
    ("scan", <scan::Args as clap::Args>::augment_args),
    ("git", <git::Args as clap::Args>::augment_args),
    ("activate", <activate::ActivateArgs as clap::Args>::augment_args),
    ("deactivate", <activate::DeactivateArgs as clap::Args>::augment_args),
    ("hook-env", <activate::HookEnvArgs as clap::Args>::augment_args),
    ("version", <version::Args as clap::Args>::augment_args),
    ("agent", <agent::Args as clap::Args>::augment_args),
];

/// The subcommand that `word` names (its name or an alias), with all its
/// names.
pub fn subcommand_named(word: &str) -> Option<(&'static str, Augment, Vec<&'static str>)> {
    fn aliases(name: &str) -> impl Iterator<Item = &'static str> + '_ {
        ALIASES
            .iter()
            .chain(HIDDEN_ALIASES)
            .filter(move |(n, _)| *n == name)
            .flat_map(|(_, a)| a.iter().copied())
    }
    let &(name, augment) =
        SUBCOMMANDS.iter().find(|(name, _)| *name == word || aliases(name).any(|a| a == word))?;
    Some((name, augment, aliases(name).collect()))
}

/// Variables the command line reads besides the core's: `COMPLETE` and
/// `_CLAP_COMPLETE_INDEX` are set by the completion scripts (see
/// [`completer`]); `GITHUB_ACTIONS` tells `ci-redact` it runs in a GitHub
/// Actions job; `edit` runs `VISUAL`/`EDITOR` (found in `PATH`) on a file in
/// `XDG_RUNTIME_DIR` (`TMPDIR` with `--allow-disk`); shell activation keeps
/// its state in `__FNOX_STATE` and reads `FNOX_SHELL_OUTPUT`.
pub const CLI_VARIABLES: &[&str] = &[
    "VISUAL",
    "EDITOR",
    "PATH",
    "XDG_RUNTIME_DIR",
    "TMPDIR",
    "NO_COLOR",
    "GITHUB_ENV",
    "GITHUB_ACTIONS",
    NON_INTERACTIVE_VAR,
    completer::VAR,
    completer::INDEX_VAR,
    activate::STATE_VAR,
    activate::OUTPUT_VAR,
];

/// `--non-interactive` as an environment variable (as in jdx/fnox).
const NON_INTERACTIVE_VAR: &str = "FNOX_NON_INTERACTIVE";

/// Parses `args`, runs the command in `environment`, and returns the exit
/// status. A shell's completion request is answered instead.
pub fn main(args: impl IntoIterator<Item = OsString>, environment: Environment) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    if let Some(code) = completer::answer(&args, &environment) {
        return code;
    }
    let cli = match help::parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit_codes::SUCCESS
                }
                _ => exit_codes::USAGE,
            };
        }
    };
    let g = &cli.globals;
    let choice = if g.no_color { clap::ColorChoice::Never } else { g.color };
    let color = ui::use_color(choice, environment.has("NO_COLOR"));
    let ui = Ui::new(color, g.quiet, g.verbose, environment.cwd().to_path_buf());
    let ui = match non_interactive(g.non_interactive, &environment) {
        Ok(never_ask) => ui.with_non_interactive(never_ask),
        Err(e) => {
            ui.error(&e);
            return e.status;
        }
    };
    match run(&ui, environment, cli) {
        Ok(ExitStatus(code)) => code,
        Err(e) => {
            ui.error(&e);
            e.status
        }
    }
}

/// `--non-interactive`, else `FNOX_NON_INTERACTIVE` (`1`, `true`, `yes`,
/// `on`; `0`, `false`, `no`, `off` or empty for no).
fn non_interactive(flag: bool, environment: &Environment) -> Result<bool, CommandError> {
    let Some(v) = environment.var(NON_INTERACTIVE_VAR).filter(|_| !flag) else {
        return Ok(flag);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(CommandError::usage(format!(
            "{NON_INTERACTIVE_VAR} must be 1, true, yes or on (or 0, false, no, off), not `{v}`"
        ))),
    }
}

/// The environment with `--age-key-file` as `FNOX_AGE_KEY_FILE`.
fn with_age_key_file(
    environment: Environment,
    path: Option<&Path>,
) -> Result<Environment, CommandError> {
    let Some(path) = path else { return Ok(environment) };
    let text = path.to_str().ok_or_else(|| {
        CommandError::usage(format!("--age-key-file {} is not UTF-8", path.display()))
    })?;
    Ok(environment.with_var("FNOX_AGE_KEY_FILE", text))
}

/// What to load: `FNOX_PROFILE` and `FNOX_NO_DEFAULTS`, then the flags
/// (`-P`, each a name or a comma-separated list; `--no-defaults`, `-c`).
fn load_options(
    environment: &Environment,
    profiles: &[String],
    no_defaults: bool,
    config: Option<&Path>,
) -> Result<LoadOptions, ConfigError> {
    let mut load = LoadOptions::from_env(environment)?;
    if !profiles.is_empty() {
        let mut names = Vec::new();
        for list in profiles {
            names.extend(fnox_core::config::split_profiles(list)?);
        }
        load = load.with_profiles(names)?;
    }
    load.no_defaults |= no_defaults;
    load.config_file = config.map(|p| environment.cwd().join(p));
    Ok(load)
}

/// The options for a command that writes secrets (`set`, `remove`,
/// `import`): one profile, `--write-profile` or the only active one.
fn write_options(
    load: LoadOptions,
    write_profile: Option<&str>,
    from_env: bool,
) -> Result<LoadOptions, CommandError> {
    match write_profile {
        Some(name) => Ok(load.with_profile(name)?),
        None if load.profiles.len() > 1 => {
            let err = CommandError::usage(format!(
                "several profiles are active ({}): pass --write-profile NAME to say which one to write to",
                load.profiles.join(", ")
            ));
            Err(if from_env {
                err.hint("the profiles come from FNOX_PROFILE in the environment")
            } else {
                err
            })
        }
        None => Ok(load),
    }
}

/// A command whose provider calls are all made in one blocking call
/// (one resolve, one seal), after which it prints or replaces itself.
fn one_pass(command: &Command) -> bool {
    matches!(
        command,
        Command::Get(_)
            | Command::Set(_)
            | Command::Exec(_)
            | Command::Export(_)
            | Command::List(_)
            | Command::CiRedact(_)
            | Command::HookEnv(_)
    )
}

fn run(ui: &Ui, environment: Environment, cli: Cli) -> Result<ExitStatus, CommandError> {
    let Cli { globals: g, command } = cli;
    // `version` needs no config, profile or config directory.
    if let Command::Version(a) = command {
        return version::run(ui, a);
    }
    // Nor does `agent`. `--no-daemon` (jdx/fnox's flag) keeps a command from asking it,
    // and `doctor` never does: it checks that the providers themselves decrypt.
    let environment = if g.no_daemon || matches!(command, Command::Doctor(_)) {
        environment.with_var(fnox_core::agent::OFF_VAR, "off")
    } else {
        environment
    };
    if let Command::Agent(a) = command {
        return agent::run(ui, &environment, a);
    }
    let environment = with_age_key_file(environment, g.age_key_file.as_deref())?;
    let load = load_options(&environment, &g.profile, g.no_defaults, g.config.as_deref())?;
    let environment_profile = environment.has("FNOX_PROFILE");
    let profile_from_env = g.profile.is_empty() && environment_profile;
    let writes = matches!(
        command,
        Command::Set(_) | Command::Remove(_) | Command::Import(_) | Command::Edit(_)
    );
    let load = if writes {
        write_options(load, g.write_profile.as_deref(), profile_from_env)?
    } else {
        load
    };
    let (if_missing, if_missing_default) = env::if_missing_settings(g.if_missing, &environment)?;
    let prompter = std::sync::Arc::new(prompter::TtyPrompter { never_ask: ui.non_interactive() });
    let fnox = Fnox::with_prompter(environment, ui.notify(), prompter)?;
    // The commands that make their provider calls in one go, then end,
    // need no worker threads (see RuntimeFlavor::CurrentThread).
    let fnox =
        if one_pass(&command) { fnox.with_runtime(RuntimeFlavor::CurrentThread) } else { fnox };
    let profile_from_env = profile_from_env && !(writes && g.write_profile.is_some());
    let env = Env { fnox, load, if_missing, if_missing_default, profile_from_env };
    match command {
        Command::Init(a) => init::run(ui, &env, a),
        Command::Set(a) => set::run(ui, &env, a),
        Command::Get(a) => get::run(ui, &env, a),
        Command::List(a) => list::run(ui, &env, a),
        Command::Remove(a) => remove::run(ui, &env, a),
        Command::Edit(a) => edit::run(ui, &env, a),
        Command::Exec(a) => exec::run(ui, &env, a),
        Command::Rotate(a) => rotate::run(ui, &env, a),
        Command::Export(a) => export::run(ui, &env, a),
        Command::Import(a) => import::run(ui, &env, a),
        Command::Doctor(a) => doctor::run(ui, &env, a),
        Command::Check(a) => check::run(ui, &env, a),
        Command::Profiles(a) => profiles::run(ui, &env, a),
        Command::ConfigFiles(a) => config_files::run(ui, &env, a),
        Command::CiRedact(a) => ci_redact::run(ui, &env, a),
        Command::Completions(a) => completions::run(ui, &env, a),
        Command::Keys(a) => keys::run(ui, &env, a),
        Command::Scan(a) => scan::run(ui, &env, a),
        Command::Git(a) => git::run(ui, &env, a),
        Command::Activate(a) => activate::activate(ui, &env, a),
        Command::Deactivate(a) => activate::deactivate(ui, &env, a),
        Command::HookEnv(a) => activate::hook_env(ui, &env, a),
        Command::Version(_) | Command::Agent(_) => unreachable!("answered above"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
        super::with_aliases(super::Cli::command(), true).debug_assert();
        super::with_aliases(super::Cli::command(), false).debug_assert();
    }

    #[test]
    fn set_help_gives_the_real_direct_limits() {
        use fnox_core::providers::{aws_kms, vault_transit};
        let cmd = super::Cli::command();
        let set = cmd.find_subcommand("set").expect("set");
        let envelope = set.get_arguments().find(|a| a.get_id() == "envelope").expect("--envelope");
        let help = envelope.get_help().expect("help").to_string();
        let limits = format!(
            "aws-kms: {} bytes, vault-transit: {} KiB",
            aws_kms::DIRECT_LIMIT,
            vault_transit::DIRECT_LIMIT / 1024
        );
        assert!(help.contains(&limits), "{help}");
    }
}
