//! `fnox config-files`.

use std::path::{Component, PathBuf};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// List the config files that a command run here would read, one absolute
/// path per line, nothing else.
///
/// jdx/fnox's order: the files of the nearest directory first (or the -c
/// file), each followed by the files it imports, then those of each parent
/// directory up to the first `root = true`, the global file last. Within a
/// directory, files come in the order they apply (a later one wins). Which
/// profile file is read follows -P and FNOX_PROFILE. An imported file is
/// shown by its real path (no `..`), each file once. No file at all: no
/// output, exit 0. `fnox -v COMMAND` lists them in merge order instead.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox config-files
  fnox -P production config-files
  $EDITOR \"$(fnox config-files | head -n 1)\"")]
pub struct Args {}

pub(super) fn run(ui: &Ui, env: &Env, _args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.fnox.load(&env.load)?;
    let project = env.require_profile(project)?;
    let mut listed: Vec<PathBuf> = Vec::new();
    for path in project.config().files_nearest_first() {
        let path = without_dots(path);
        if !listed.contains(&path) {
            listed.push(path);
        }
    }
    let mut out = String::new();
    for path in listed {
        out.push_str(&path.display().to_string());
        out.push('\n');
    }
    ui.report(&out)?;
    Ok(ExitStatus::SUCCESS)
}

/// `path` without `.` and `..` (an import such as `../shared/fnox.toml`):
/// the file's real path. Others are left as they were found.
fn without_dots(path: PathBuf) -> PathBuf {
    if path.components().any(|c| matches!(c, Component::CurDir | Component::ParentDir)) {
        path.canonicalize().unwrap_or(path)
    } else {
        path
    }
}
