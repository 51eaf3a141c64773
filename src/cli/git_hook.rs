//! `fnox git install-hook`: `fnox scan --staged` as git's pre-commit hook.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// The line that marks a hook as fnox's.
const MARK: &str = "# fnox pre-commit hook";

/// What an existing hook becomes: fnox's hook runs it after its check.
const CHAINED_SUFFIX: &str = ".before-fnox";

/// Install `fnox scan --staged` as the repository's pre-commit hook, so
/// that `git commit` stops when the staged content holds a plaintext
/// secret. An existing hook is kept (renamed `pre-commit.before-fnox`) and
/// runs after the check; running this again refreshes fnox's hook. The
/// hooks directory is git's (`core.hooksPath` when set). The hook runs
/// `fnox` from PATH, else this binary.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox git install-hook
  git commit --no-verify             skips the hook once")]
pub struct InstallHookArgs {}

pub fn install_hook(
    ui: &Ui,
    env: &Env,
    _args: InstallHookArgs,
) -> Result<ExitStatus, CommandError> {
    let hooks = hooks_dir(env.cwd())?;
    std::fs::create_dir_all(&hooks)
        .map_err(|e| CommandError::io(format!("cannot create {}", ui.path(&hooks)), e))?;
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(format!("pre-commit{CHAINED_SUFFIX}"));
    let existing = std::fs::read(&hook).ok();
    let ours = existing.as_ref().is_some_and(|t| String::from_utf8_lossy(t).contains(MARK));
    if existing.is_some() && !ours {
        if chained.exists() {
            return Err(CommandError::user(format!(
                "{} exists and is not fnox's, and {} exists too; merge them by hand, then run this again",
                ui.path(&hook),
                ui.path(&chained)
            )));
        }
        std::fs::rename(&hook, &chained)
            .map_err(|e| CommandError::io(format!("cannot rename {}", ui.path(&hook)), e))?;
    }
    let exe =
        std::env::current_exe().map_err(|e| CommandError::io("cannot find fnox's path", e))?;
    write_hook(&hook, &script(&exe))
        .map_err(|e| CommandError::io(format!("cannot write {}", ui.path(&hook)), e))?;
    let shown = ui.path(&hook);
    if ours {
        ui.note(&format!("updated the pre-commit hook {shown}"));
    } else {
        ui.note(&format!(
            "installed the pre-commit hook {shown}: `git commit` now runs `fnox scan --staged` and stops on a finding"
        ));
    }
    if existing.is_some() && !ours {
        ui.note(&format!(
            "the hook that was there is now {}; it runs after fnox's check",
            ui.path(&chained)
        ));
    }
    Ok(ExitStatus::SUCCESS)
}

/// git's hooks directory for the repository at `cwd`.
fn hooks_dir(cwd: &Path) -> Result<PathBuf, CommandError> {
    let out = Command::new("git")
        .current_dir(cwd)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CommandError::io("cannot run git", e))?;
    if !out.status.success() {
        return Err(CommandError::user(
            "install-hook installs a git hook, and this is not inside a git repository",
        )
        .hint("run it in the repository (after `git init`)"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(PathBuf::from(text.trim_end_matches('\n')))
}

/// The hook's text: fnox from PATH, else `exe`.
fn script(exe: &Path) -> String {
    let exe = exe.to_string_lossy().replace('\'', r"'\''");
    format!(
        r#"#!/bin/sh
{MARK} (`fnox git install-hook`): stops a commit whose staged
# content holds a plaintext secret. `git commit --no-verify` skips it.
fnox=fnox
command -v fnox >/dev/null 2>&1 || fnox='{exe}'
"$fnox" scan --staged || {{
    echo "fnox: commit stopped (fix the findings above, or git commit --no-verify)" >&2
    exit 1
}}
# The hook that was here before fnox's, if any, runs after the check.
if [ -x "$0{CHAINED_SUFFIX}" ]; then
    exec "$0{CHAINED_SUFFIX}" "$@"
fi
"#
    )
}

fn write_hook(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("fnox-tmp");
    std::fs::write(&tmp, text)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, path)
}
