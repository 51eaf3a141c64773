//! `fnox exec -- CMD ARGS...`.

use std::{
    ffi::{OsStr, OsString},
    os::unix::{ffi::OsStrExt, process::CommandExt},
    sync::Arc,
};

use super::App;
use crate::{config::IfMissing, error::Error, exit_codes, resolve, secret::SecretBytes};

/// Run a command with the secrets of the active profile in its environment.
///
/// All secrets are decrypted concurrently, then fnox replaces itself with
/// the command (execvp): signals reach the command directly and its exit
/// status is fnox's. A command that is not found exits 127, one that cannot
/// be executed 126, as in a shell. A secret without a value is skipped with
/// a warning (see --if-missing).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox exec -- cargo run
  fnox exec --only DATABASE_URL -- psql \"$DATABASE_URL\"
  fnox -P ci exec -- ./deploy.sh")]
pub struct Args {
    /// Only these secrets (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,

    /// The command and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let config = Arc::new(app.load(true)?);
    let mut defs = Vec::new();
    if args.only.is_empty() {
        defs.extend(config.secrets.values().cloned());
    } else {
        for name in &args.only {
            let def = config.secrets.get(name).ok_or_else(|| Error::UnknownSecret {
                name: name.clone(),
                profile: config.profile.clone(),
            })?;
            defs.push(def.clone());
        }
    }
    let registry = app.registry(&config);
    let runtime = super::runtime()?;
    let resolved = runtime.block_on(resolve::resolve_all(config.clone(), registry, defs))?;
    drop(runtime);
    let mut env: Vec<(String, SecretBytes)> = Vec::with_capacity(resolved.len());
    for (def, value) in resolved {
        match value {
            Some(v) => {
                if v.expose().contains(&0) {
                    return Err(Error::Usage(format!(
                        "secret `{}` contains a NUL byte, which an environment variable cannot hold; use `fnox get {}` to write it to a file",
                        def.name, def.name
                    )));
                }
                env.push((def.name, v));
            }
            None => {
                let mode = def
                    .if_missing
                    .or(app.settings.if_missing)
                    .or(config.if_missing)
                    .unwrap_or(IfMissing::Warn);
                match mode {
                    IfMissing::Error => {
                        return Err(Error::NoValue { name: def.name, at: def.at });
                    }
                    IfMissing::Warn => app.warn(&format!(
                        "secret `{}` has no value ({}); running without it",
                        def.name, def.at
                    )),
                    IfMissing::Ignore => {}
                }
            }
        }
    }
    Err(exec(&args.command, &env))
}

/// Replaces this process with `command`; returns only on failure.
fn exec(command: &[OsString], env: &[(String, SecretBytes)]) -> Error {
    let program = &command[0];
    let mut cmd = std::process::Command::new(program);
    cmd.args(&command[1..]);
    for (name, value) in env {
        cmd.env(name, OsStr::from_bytes(value.expose()));
    }
    crate::hygiene::restore_for_child();
    let err = cmd.exec();
    crate::hygiene::harden_process();
    let shown = program.to_string_lossy().into_owned();
    let (status, detail) = match err.kind() {
        std::io::ErrorKind::NotFound => {
            (exit_codes::NOT_FOUND, Some("check the command name and PATH".to_string()))
        }
        std::io::ErrorKind::PermissionDenied => {
            (exit_codes::NOT_EXECUTABLE, Some("the file is not executable".to_string()))
        }
        _ if err.raw_os_error() == Some(libc::E2BIG) => (exit_codes::FAILURE, Some(too_big(env))),
        _ => (exit_codes::FAILURE, None),
    };
    Error::Spawn { program: shown, status, detail, source: err }
}

/// Explains E2BIG: Linux limits one environment string to 128 KiB.
fn too_big(env: &[(String, SecretBytes)]) -> String {
    let largest = env.iter().max_by_key(|(_, v)| v.len());
    match largest {
        Some((name, v)) if v.len() >= 128 * 1024 => format!(
            "secret `{name}` is {} bytes; the system limits one environment variable to 128 KiB: have the program read it from a file made with `fnox get -n {name}`",
            v.len()
        ),
        _ => "the environment is larger than the system allows".into(),
    }
}
