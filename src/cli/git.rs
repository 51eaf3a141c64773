//! `fnox git`: fnox.toml in git: a diff driver that says, secret by secret,
//! what changed (never a value unless asked), and a merge driver that
//! resolves the conflicts a rotation on two branches would make.

mod diff;
mod install;
mod merge;

use std::{path::Path, process::Command};

use fnox_core::{LoadOptions, Project};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Set up and run fnox's git drivers.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox git install                        once per clone: git diff and merge use fnox
  fnox git install-hook                   git commit runs `fnox scan --staged` first
  git diff                                API_TOKEN: value changed, DB_URL: added ...
  git log -p --ext-diff fnox.toml         the same words for each commit
  git log -p fnox.toml                    per secret a value line and a sealed line
  git -c diff.fnox.command='fnox git diff --values' diff    with the decrypted values")]
pub struct Args {
    #[command(subcommand)]
    command: GitCommand,
}

/// `fnox git` subcommands.
#[derive(Debug, clap::Subcommand)]
enum GitCommand {
    /// Set up the diff and merge drivers for fnox.toml files in this repository.
    Install(install::Args),
    /// Say what changed in a config file, secret by secret (git's diff driver).
    Diff(diff::Args),
    /// Merge three versions of a config file (git's merge driver).
    Merge(merge::Args),
    /// Install `fnox scan --staged` as git's pre-commit hook.
    InstallHook(super::git_hook::InstallHookArgs),
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    match args.command {
        GitCommand::Install(a) => install::run(ui, env, a),
        GitCommand::Diff(a) => diff::run(ui, env, a),
        GitCommand::Merge(a) => merge::run(ui, env, a),
        GitCommand::InstallHook(a) => super::git_hook::install_hook(ui, env, a),
    }
}

/// The project that `file` (a config file in the working tree) belongs to,
/// to decrypt other versions of it; `None` when it cannot be loaded (a
/// deleted file, another machine's keys): nothing is decrypted then.
fn project_for(env: &Env, file: &Path) -> Option<Project> {
    if !file.is_file() {
        return None;
    }
    let load = LoadOptions { config_file: Some(file.to_path_buf()), ..env.load.clone() };
    env.fnox.load(&load).ok()
}

/// Runs `git ARGS` in `dir`; its stdout as text (trailing newlines
/// dropped), or an error that says what failed.
fn git(dir: &Path, args: &[&str]) -> Result<String, CommandError> {
    let out = git_output(dir, args, &[])?;
    Ok(String::from_utf8_lossy(&out).trim_end().to_string())
}

/// Runs `git ARGS PATHS` in `dir` with no stdin; its stdout, or an error
/// with git's stderr.
pub(super) fn git_output(
    dir: &Path,
    args: &[&str],
    paths: &[std::path::PathBuf],
) -> Result<Vec<u8>, CommandError> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .args(paths)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| CommandError::io("cannot run git", e))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(CommandError::user(format!("`git {}` failed: {}", args.join(" "), why.trim())));
    }
    Ok(out.stdout)
}

/// Reads one version of a config file (git hands them over as files).
fn read(path: &Path) -> Result<String, CommandError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CommandError::io(format!("cannot read {}", path.display()), e))?;
    String::from_utf8(bytes)
        .map_err(|_| CommandError::user(format!("{} is not UTF-8 text", path.display())))
}
