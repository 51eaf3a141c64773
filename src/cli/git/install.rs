//! `fnox git install`: `.gitattributes` lines and the repository's git
//! config for fnox's diff and merge drivers.

use std::path::{Path, PathBuf};

use super::git;
use crate::{
    cli::{Env, error::CommandError, ui::Ui},
    exit_codes::ExitStatus,
};

/// The `.gitattributes` lines: every fnox.toml and fnox.PROFILE.toml.
pub const ATTRIBUTES: &[&str] =
    &["fnox.toml diff=fnox merge=fnox", "fnox.*.toml diff=fnox merge=fnox"];

/// Set up fnox's diff and merge drivers in this git repository.
#[derive(Debug, clap::Args)]
#[command(after_help = "Adds to .gitattributes (commit it, so every clone maps the files):
  fnox.toml diff=fnox merge=fnox
  fnox.*.toml diff=fnox merge=fnox
and sets in this clone's .git/config (each clone runs `fnox git install` once):
  diff.fnox.command   fnox git diff          (git diff, git log -p --ext-diff)
  diff.fnox.textconv  fnox git diff          (git log -p, git show: value and sealed ids)
  merge.fnox.driver   fnox git merge %O %A %B %P %L %S %X %Y")]
pub struct Args {}

pub(super) fn run(ui: &Ui, env: &Env, _args: Args) -> Result<ExitStatus, CommandError> {
    let top = PathBuf::from(
        git(env.cwd(), &["rev-parse", "--show-toplevel"])
            .map_err(|e| e.hint("run `fnox git install` inside a git working tree"))?,
    );
    let added = add_attributes(&top.join(".gitattributes"))?;
    let fnox = shell_word(&fnox_path()?);
    let settings = [
        ("diff.fnox.command", format!("{fnox} git diff")),
        ("diff.fnox.textconv", format!("{fnox} git diff")),
        ("merge.fnox.name", "fnox: secrets with the same value under two ciphertexts".into()),
        ("merge.fnox.driver", format!("{fnox} git merge %O %A %B %P %L %S %X %Y")),
    ];
    for (key, value) in &settings {
        git(&top, &["config", "--local", key, value])?;
    }
    let attributes = ui.path(&top.join(".gitattributes"));
    if added == 0 {
        ui.note(&format!("{attributes} already maps fnox.toml to fnox's drivers"));
    } else {
        ui.note(&format!(
            "added {} to {attributes}: commit it",
            fnox_core::words::count(added, "line", "lines")
        ));
    }
    ui.note("set diff.fnox and merge.fnox in this clone's git config");
    Ok(ExitStatus::SUCCESS)
}

/// Appends the [`ATTRIBUTES`] lines that `path` lacks; how many.
fn add_attributes(path: &Path) -> Result<usize, CommandError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CommandError::io(format!("cannot read {}", path.display()), e)),
    };
    let missing: Vec<&str> =
        ATTRIBUTES.iter().copied().filter(|l| !text.lines().any(|t| t.trim() == *l)).collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let mut out = text;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for line in &missing {
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(path, out)
        .map_err(|e| CommandError::io(format!("cannot write {}", path.display()), e))?;
    Ok(missing.len())
}

/// This fnox's path, which git will run.
fn fnox_path() -> Result<String, CommandError> {
    let exe =
        std::env::current_exe().map_err(|e| CommandError::io("cannot find fnox's own path", e))?;
    exe.to_str()
        .map(str::to_string)
        .ok_or_else(|| CommandError::user(format!("fnox's path {} is not UTF-8", exe.display())))
}

/// `word` as the shell that git runs drivers with reads it.
fn shell_word(word: &str) -> String {
    if word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
