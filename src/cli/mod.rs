//! The command line: clap types, and dispatch to one file per command. Each
//! command is `run(ui, env, args) -> Result<ExitStatus, CommandError>`.

mod completer;
mod completions;
mod doctor;
mod env;
pub mod error;
mod exec;
mod export;
mod get;
mod help;
mod hints;
mod import;
mod init;
mod keys;
mod list;
mod plaintext;
mod remove;
mod rotate;
mod set;
pub mod ui;

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use clap::{Parser, Subcommand};
use fnox_core::{Environment, Fnox, LoadOptions, config::ConfigError};

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

    /// What to do when a secret has no value: error, warn or ignore; wins
    /// over `if_missing` in the config files [env: FNOX_IF_MISSING]
    /// [default: error for get, warn for exec and export].
    #[arg(long, global = true, help_heading = "Global options", value_name = "MODE", value_parser = ["error", "warn", "ignore"])]
    pub if_missing: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create fnox.toml (with the `local` provider unless told otherwise).
    Init(init::Args),
    /// Encrypt a value and store it in fnox.toml.
    Set(set::Args),
    /// Decrypt a secret and print it.
    Get(get::Args),
    /// List secrets: name, provider, description, defining file.
    #[command(alias = "ls")]
    List(list::Args),
    /// Delete a secret from the file that defines it.
    #[command(alias = "rm")]
    Remove(remove::Args),
    /// Run a command with the secrets in its environment.
    Exec(exec::Args),
    /// Print the secrets for another tool: dotenv, shell, json, GitHub Actions.
    Export(export::Args),
    /// Encrypt every entry of a .env file into fnox.toml.
    Import(import::Args),
    /// Re-encrypt secrets after a key change, or move them to another provider.
    Rotate(rotate::Args),
    /// Check config, providers (timed probes) and that every secret decrypts.
    Doctor(doctor::Args),
    /// Print the Tab-completion script for a shell (commands, options, names).
    Completions(completions::Args),
    /// Manage the local keyring: list, export, import, delete retired keys.
    Keys(keys::Args),
}

/// Variables the command line reads besides the core's: `COMPLETE` and
/// `_CLAP_COMPLETE_INDEX` are set by the completion scripts (see
/// [`completer`]).
pub const CLI_VARIABLES: &[&str] =
    &["NO_COLOR", "GITHUB_ENV", completer::VAR, completer::INDEX_VAR];

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
    let color = ui::use_color(cli.color, environment.has("NO_COLOR"));
    let ui = Ui::new(color, cli.quiet, cli.verbose, environment.cwd().to_path_buf());
    match run(&ui, environment, cli) {
        Ok(ExitStatus(code)) => code,
        Err(e) => {
            ui.error(&e);
            e.status
        }
    }
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

fn run(ui: &Ui, environment: Environment, cli: Cli) -> Result<ExitStatus, CommandError> {
    let load = load_options(&environment, &cli.profile, cli.no_defaults, cli.config.as_deref())?;
    let environment_profile = environment.has("FNOX_PROFILE");
    let profile_from_env = cli.profile.is_empty() && environment_profile;
    let writes = matches!(cli.command, Command::Set(_) | Command::Remove(_) | Command::Import(_));
    let load = if writes {
        write_options(load, cli.write_profile.as_deref(), profile_from_env)?
    } else {
        load
    };
    let if_missing =
        match cli.if_missing.or_else(|| environment.var("FNOX_IF_MISSING").map(str::to_string)) {
            None => None,
            Some(v) => Some(v.parse().map_err(|()| {
                CommandError::usage(format!("if-missing must be error, warn or ignore, not `{v}`"))
            })?),
        };
    let fnox = Fnox::with_notify(environment, ui.notify())?;
    let profile_from_env = profile_from_env && !(writes && cli.write_profile.is_some());
    let env = Env { fnox, load, if_missing, profile_from_env };
    match cli.command {
        Command::Init(a) => init::run(ui, &env, a),
        Command::Set(a) => set::run(ui, &env, a),
        Command::Get(a) => get::run(ui, &env, a),
        Command::List(a) => list::run(ui, &env, a),
        Command::Remove(a) => remove::run(ui, &env, a),
        Command::Exec(a) => exec::run(ui, &env, a),
        Command::Rotate(a) => rotate::run(ui, &env, a),
        Command::Export(a) => export::run(ui, &env, a),
        Command::Import(a) => import::run(ui, &env, a),
        Command::Doctor(a) => doctor::run(ui, &env, a),
        Command::Completions(a) => completions::run(ui, &env, a),
        Command::Keys(a) => keys::run(ui, &env, a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
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
