//! The command line: clap types, the shared [`App`] context, and dispatch
//! to one file per command.

mod completions;
mod doctor;
mod exec;
mod export;
mod get;
mod import;
mod init;
mod list;
mod output;
mod remove;
mod rotate;
mod set;

use std::{ffi::OsString, path::PathBuf, sync::Arc};

use clap::{Parser, Subcommand};

pub use self::output::report_error;
use crate::{
    config::{self, Config},
    error::{ConfigError, Error},
    providers::{Context, Registry},
    settings::{GlobalFlags, Settings},
};

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
    /// ones [env: FNOX_PROFILE] [default: default].
    #[arg(short = 'P', long, global = true, help_heading = "Global options", value_name = "NAME")]
    pub profile: Option<String>,

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

    /// What to do when a secret has no value: error, warn or ignore
    /// [env: FNOX_IF_MISSING] [default: error for get, warn for exec].
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
    /// Print shell completions.
    Completions(completions::Args),
}

/// What every command gets: resolved settings and helpers.
#[derive(Debug)]
pub struct App {
    /// Flags and environment, resolved.
    pub settings: Settings,
    /// Colors on stderr.
    pub color: bool,
}

impl App {
    /// Loads the merged config. With `need_file`, no config file is an error.
    pub fn load(&self, need_file: bool) -> Result<Config, Error> {
        let config = config::load(&self.settings)?;
        if self.settings.verbose {
            for f in &config.files {
                self.note(&format!("loaded {}", crate::error::shown(f)));
            }
            self.note(&format!("profile: {}", config.profile));
        }
        if need_file && config.files.is_empty() {
            return Err(ConfigError::NotFound { cwd: self.settings.cwd.clone() }.into());
        }
        Ok(config)
    }

    /// A provider registry for `config`.
    pub fn registry(&self, config: &Config) -> Arc<Registry> {
        Arc::new(Registry::new(self.provider_context(), config.providers.values().cloned()))
    }

    /// What providers need to know.
    pub fn provider_context(&self) -> Context {
        let quiet = self.settings.quiet;
        Context::new(
            self.settings.config_dir.clone(),
            Arc::new(move |msg: &str| {
                if !quiet {
                    eprintln!("{msg}");
                }
            }),
        )
    }

    /// What to do about `def` having no value: `--if-missing`, else
    /// `FNOX_IF_MISSING`, else the secret's `if_missing`, else the
    /// profile's, else the top level's, else `command_default`.
    pub fn if_missing(
        &self,
        config: &Config,
        def: &crate::config::SecretDef,
        command_default: crate::config::IfMissing,
    ) -> crate::config::IfMissing {
        self.settings.if_missing.or(def.if_missing).or(config.if_missing).unwrap_or(command_default)
    }

    /// Resolves the profile's secrets (or those in `only`) concurrently. A
    /// secret without a value is handled by `if_missing` (default
    /// `default_mode`); a warning ends with `skipped` (e.g. "left out").
    pub fn resolve_selected(
        &self,
        only: &[String],
        default_mode: crate::config::IfMissing,
        skipped: &str,
    ) -> Result<Vec<(String, crate::SecretBytes)>, Error> {
        use crate::config::IfMissing;
        let config = Arc::new(self.load(true)?);
        let defs = config.selected(only)?;
        let registry = self.registry(&config);
        let resolved =
            runtime()?.block_on(crate::resolve::resolve_all(config.clone(), registry, defs))?;
        let mut out = Vec::with_capacity(resolved.len());
        for (def, value) in resolved {
            match value {
                Some(v) => out.push((def.name, v)),
                None => match self.if_missing(&config, &def, default_mode) {
                    IfMissing::Error => return Err(Error::NoValue { name: def.name, at: def.at }),
                    IfMissing::Warn => self.warn(&format!(
                        "secret `{}` has no value ({}); {skipped}",
                        def.name, def.at
                    )),
                    IfMissing::Ignore => {}
                },
            }
        }
        Ok(out)
    }

    /// A note on stderr (not with `--quiet`).
    pub fn note(&self, msg: &str) {
        if !self.settings.quiet {
            eprintln!("{msg}");
        }
    }

    /// A warning on stderr (not with `--quiet`).
    pub fn warn(&self, msg: &str) {
        if !self.settings.quiet {
            output::eprint_labeled(self.color, "warning", msg);
        }
    }
}

/// An async runtime for provider calls.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))
}

/// Parses `args`, runs the command, and returns the exit status.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    crate::exit_codes::SUCCESS
                }
                _ => crate::exit_codes::USAGE,
            };
        }
    };
    let color = output::use_color(cli.color);
    match run(cli, color) {
        Ok(code) => code,
        Err(crate::Error::Exit(code)) => code,
        Err(e) => {
            report_error(color, &e);
            e.exit_code()
        }
    }
}

fn run(cli: Cli, color: bool) -> Result<i32, Error> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    crate::error::set_display_base(cwd.clone());
    let flags = GlobalFlags {
        config: cli.config,
        profile: cli.profile,
        no_defaults: cli.no_defaults,
        quiet: cli.quiet,
        verbose: cli.verbose,
        if_missing: cli.if_missing,
    };
    let settings = Settings::resolve(&flags, cwd, |k| std::env::var(k).ok())?;
    let app = App { settings, color };
    match cli.command {
        Command::Init(a) => init::run(&app, a),
        Command::Set(a) => set::run(&app, a),
        Command::Get(a) => get::run(&app, a),
        Command::List(a) => list::run(&app, a),
        Command::Remove(a) => remove::run(&app, a),
        Command::Exec(a) => exec::run(&app, a),
        Command::Rotate(a) => rotate::run(&app, a),
        Command::Export(a) => export::run(&app, a),
        Command::Import(a) => import::run(&app, a),
        Command::Doctor(a) => doctor::run(&app, a),
        Command::Completions(a) => completions::run(a),
    }
    .map(|()| crate::exit_codes::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
