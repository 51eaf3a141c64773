//! Files fnox writes plaintext secrets to, and git: a warning when git
//! would pick one up.

use std::path::Path;

use fnox_core::git;

use super::ui::Ui;

/// Warns when `path` (absolute), which now holds plaintext secrets, is inside a git
/// working tree and git tracks it or does not ignore it. Outside a working
/// tree, or when git ignores it, says nothing.
pub(super) fn warn_if_git_sees(ui: &Ui, path: &Path) {
    let Some(top) = git::toplevel(path) else { return };
    let shown = ui.path(path);
    let gitignore = ui.path(&top.join(".gitignore"));
    let line = git::ignore_line(&top, path).unwrap_or_else(|| shown.clone());
    if git::is_tracked(path) {
        ui.warn(&format!(
            "{shown} holds plaintext secrets and git tracks it; untrack it (`git rm --cached {shown}`) and ignore it ({line} in {gitignore})"
        ));
    } else if !git::is_ignored(&top, path) {
        ui.warn(&format!(
            "{shown} holds plaintext secrets and git does not ignore it; add {line} to {gitignore}"
        ));
    }
}
