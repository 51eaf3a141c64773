//! `fnox exec -- CMD ARGS...`.

mod as_file;
mod redacted;
mod replace;

use std::{
    borrow::Cow,
    ffi::{OsStr, OsString},
    os::unix::ffi::OsStrExt,
};

use fnox_core::{KEY_VARIABLES, Plaintext, config::IfMissing, inject::Target, redact::Redactor};

use super::{Env, env::Selected, error::CommandError, ui::Ui};
use crate::exit_codes::{self, ExitStatus};

/// Run a command with the secrets of the active profile in its environment.
///
/// All secrets are decrypted concurrently, then fnox replaces itself with
/// the command (execvp): signals reach the command directly and its exit
/// status is fnox's. A command that is not found exits 127, one that cannot
/// be executed 126, as in a shell. A secret without a value is skipped with
/// a warning (see --if-missing). Secrets with `env = false` are left out,
/// and a variable of that name is removed from the command's environment;
/// an `as_file = true` secret is given as the path of an in-memory file
/// (/dev/fd/N) that holds its value.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox exec -- cargo run
  fnox exec --only DATABASE_URL -- sh -c 'psql \"$DATABASE_URL\"'
  fnox -P ci exec -- ./deploy.sh
  fnox exec --redact -- ./ci-job.sh           secret values never reach the log")]
pub struct Args {
    /// Pass the command's stdout and stderr through a filter that replaces
    /// every secret value (of 4 bytes or more) with `[redacted:NAME]`:
    /// every value fnox decrypts, and the defaults marked `sensitive =
    /// true` (a plain default is a setting, shown as it is). fnox then
    /// stays as the parent: it forwards INT, TERM and HUP to the command
    /// and exits with its status.
    #[arg(long)]
    pub redact: bool,

    /// Accepted for jdx/fnox, where it makes fnox replace itself with the
    /// command, as it always does here without --redact. As there, the
    /// command does not get FNOX_AGE_KEY_FILE.
    #[arg(long)]
    pub replace: bool,

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

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    if args.replace && args.redact {
        return Err(CommandError::usage(
            "--replace and --redact cannot be combined: with --redact, fnox stays as the command's parent to filter its output",
        ));
    }
    let selected = env.resolve_selected(ui, &args.only, Target::Exec, false, IfMissing::Warn)?;
    let child = ChildEnv::new(&selected)?;
    if args.redact {
        let secrets = selected.values.iter().filter(|(_, v)| v.is_secret());
        let redactor = Redactor::new(secrets.map(|(n, v)| (n.as_str(), v.expose())));
        return redacted::run(&args.command, child, redactor.as_ref());
    }
    Err(exec(&args.command, &child, args.replace))
}

/// What the command's environment gets: each value, or for an `as_file`
/// secret the path of its file (which the command inherits); without the
/// variables of `env = false` secrets and fnox's own keys.
#[derive(Debug)]
pub(super) struct ChildEnv<'a> {
    values: Vec<(&'a str, &'a Plaintext)>,
    files: Vec<(&'a str, as_file::SealedFile)>,
    remove: &'a [String],
}

impl<'a> ChildEnv<'a> {
    fn new(selected: &'a Selected) -> Result<Self, CommandError> {
        let mut child = Self { values: Vec::new(), files: Vec::new(), remove: &selected.never };
        for (name, value) in &selected.values {
            if selected.as_file.contains(name) {
                child.files.push((name, as_file::SealedFile::new(name, value.expose())?));
            } else if value.expose().contains(&0) {
                return Err(CommandError::user(format!(
                    "secret `{name}` contains a NUL byte, which an environment variable cannot hold; set `as_file = true` on it to pass it as a file"
                )));
            } else {
                child.values.push((name, value));
            }
        }
        Ok(child)
    }

    /// The variables the command gets: each value, and the path of each
    /// file; never one named as fnox's own keys.
    fn variables(&self) -> Vec<(&'a str, Cow<'_, [u8]>)> {
        let values = self.values.iter().map(|(n, v)| (*n, Cow::Borrowed(v.expose())));
        let files = self.files.iter().map(|(n, f)| (*n, Cow::Owned(f.path().into_bytes())));
        values.chain(files).filter(|(n, _)| !KEY_VARIABLES.contains(n)).collect()
    }

    /// True for a variable of fnox's environment that the command does not
    /// get: an `env = false` secret's, or one of fnox's keys.
    fn removes(&self, name: &[u8]) -> bool {
        self.remove.iter().any(|r| r.as_bytes() == name)
            || KEY_VARIABLES.iter().any(|k| k.as_bytes() == name)
    }

    /// Sets `cmd`'s environment.
    fn apply(&self, cmd: &mut std::process::Command) {
        for name in self.remove.iter().map(String::as_str).chain(KEY_VARIABLES.iter().copied()) {
            cmd.env_remove(name);
        }
        for (name, value) in self.variables() {
            cmd.env(name, OsStr::from_bytes(&value));
        }
    }

    /// Closes fnox's copies of the files, once the command has them.
    fn close_files(&mut self) {
        self.files.clear();
    }
}

/// Replaces this process with `command`; returns only on failure. With
/// `replace` (`--replace`), the command does not get the
/// `FNOX_AGE_KEY_FILE` of fnox's environment (a secret of that name is
/// still set).
fn exec(command: &[OsString], child: &ChildEnv<'_>, replace: bool) -> CommandError {
    let program = &command[0];
    let variables = child.variables();
    let set: Vec<(&str, &[u8])> = variables.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    let removed = |name: &[u8]| child.removes(name) || (replace && name == b"FNOX_AGE_KEY_FILE");
    let err =
        replace::exec(program, &command[1..], &set, removed, crate::hygiene::give_back_core_limit);
    // The limit may have been given back just before a failed execve: take
    // it away again (this process was never dumpable meanwhile).
    if let Err(e) = crate::hygiene::harden_process() {
        return CommandError::io("cannot disable core dumps again", e);
    }
    spawn_error(program, err, child)
}

/// The error for a command that could not be started: 127 when it is not
/// found, 126 when it cannot be executed, as a shell would.
fn spawn_error(program: &OsStr, err: std::io::Error, child: &ChildEnv<'_>) -> CommandError {
    let (status, hint) = match err.kind() {
        std::io::ErrorKind::NotFound => {
            (exit_codes::NOT_FOUND, Some("check the command name and PATH".to_string()))
        }
        std::io::ErrorKind::PermissionDenied => {
            (exit_codes::NOT_EXECUTABLE, Some("the file is not executable".to_string()))
        }
        _ if err.raw_os_error() == Some(libc::E2BIG) => {
            (exit_codes::FAILURE, Some(too_big(&child.values)))
        }
        _ => (exit_codes::FAILURE, None),
    };
    let mut error = CommandError::io(format!("cannot run `{}`", program.to_string_lossy()), err)
        .with_status(status);
    if let Some(hint) = hint {
        error = error.hint(hint);
    }
    error
}

/// Explains E2BIG: Linux limits one environment string to 128 KiB.
fn too_big(values: &[(&str, &Plaintext)]) -> String {
    let largest = values.iter().max_by_key(|(_, v)| v.len());
    match largest {
        Some((name, v)) if v.len() >= 128 * 1024 => format!(
            "secret `{name}` is {} bytes; the system limits one environment variable to 128 KiB; with `as_file = true` in its entry, ${name} is the path of a file that holds the value instead",
            v.len()
        ),
        _ => "the environment is larger than the system allows".into(),
    }
}
