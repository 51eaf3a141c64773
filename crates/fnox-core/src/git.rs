//! What git says about a path: is it inside a working tree, does git
//! ignore it, does git track it. Key files must never end up in a
//! repository by accident.
//!
//! This module runs the `git` command (`rev-parse --show-toplevel`,
//! `check-ignore -q`, `ls-files --error-unmatch`), and only for a path
//! that has a `.git` entry in one of its parent directories; elsewhere,
//! and when `git` cannot be run, nothing is asked and nothing changes.
//! The child gets fnox's own environment without `GIT_DIR`,
//! `GIT_WORK_TREE` and `GIT_INDEX_FILE` (a hook's repository is not the
//! key file's).

use std::{
    io,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// The top directory of the git working tree that holds `path` (which need
/// not exist yet); `None` outside a working tree or without `git`.
pub fn toplevel(path: &Path) -> Option<PathBuf> {
    let dir = existing_dir(path)?;
    if !dir.ancestors().any(|d| d.join(".git").exists()) {
        return None;
    }
    let out =
        git(&dir).args(["rev-parse", "--show-toplevel"]).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let top = PathBuf::from(text.trim_end_matches('\n'));
    canonical(path)?.starts_with(&top).then_some(top)
}

/// True when git ignores `path` (inside the working tree at `top`).
pub fn is_ignored(top: &Path, path: &Path) -> bool {
    let Some(path) = canonical(path) else { return false };
    git(top)
        .args(["check-ignore", "-q", "--"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when git tracks `path` (it is in the index of its working tree).
pub fn is_tracked(path: &Path) -> bool {
    let Some(top) = toplevel(path) else { return false };
    let Some(path) = canonical(path) else { return false };
    git(&top)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where `path` would land in git: `Some(top)` when it is inside the
/// working tree at `top` and git does not ignore it.
pub fn exposed(path: &Path) -> Option<PathBuf> {
    let top = toplevel(path)?;
    (!is_ignored(&top, path)).then_some(top)
}

/// The line that makes git ignore `path` in a `.gitignore` of `dir`: the
/// path relative to `dir`, anchored with `/`, special characters escaped.
pub fn ignore_line(dir: &Path, path: &Path) -> Option<String> {
    let rel = canonical(path)?.strip_prefix(canonical(dir)?).ok()?.to_str()?.to_string();
    let mut line = String::from("/");
    for c in rel.chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | '#' | '!' | ' ') {
            line.push('\\');
        }
        line.push(c);
    }
    Some(line)
}

/// Appends `line` to `dir/.gitignore`, creating the file when there is
/// none. Returns true when the file was created.
pub fn add_to_gitignore(dir: &Path, line: &str) -> io::Result<bool> {
    let path = dir.join(".gitignore");
    if !path.exists() {
        match crate::config::write::create_new(&path, format!("{line}\n").as_bytes(), 0o644) {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let wait = crate::config::write::LockWait::default();
    crate::config::write::modify::<_, crate::config::write::WriteError>(&path, &wait, |old| {
        if old.lines().any(|l| l == line) {
            return Ok((None, ()));
        }
        let sep = if old.is_empty() || old.ends_with('\n') { "" } else { "\n" };
        Ok((Some(format!("{old}{sep}{line}\n")), ()))
    })
    .map_err(io::Error::other)?;
    Ok(false)
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null());
    cmd
}

/// The nearest directory of `path` (itself or a parent) that exists.
fn existing_dir(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find(|d| d.is_dir()).and_then(|d| std::fs::canonicalize(d).ok())
}

/// `path` with its existing part resolved (symbolic links, `..`), the
/// rest appended as written.
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let base = path.ancestors().skip(1).find(|d| d.is_dir())?;
    let rest = path.strip_prefix(base).ok()?;
    Some(std::fs::canonicalize(base).ok()?.join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_working_tree_nothing_is_exposed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(toplevel(&dir.path().join("k/dev.key")), None);
        assert_eq!(exposed(&dir.path().join("k/dev.key")), None);
        assert!(!is_tracked(&dir.path().join("dev.key")));
    }

    #[test]
    fn ignore_lines_are_anchored_and_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let line = ignore_line(dir.path(), &dir.path().join("config/a*b.key")).unwrap();
        assert_eq!(line, "/config/a\\*b.key");
        assert_eq!(ignore_line(&dir.path().join("sub"), dir.path()), None);
    }

    #[test]
    fn gitignore_lines_are_added_once() {
        let dir = tempfile::tempdir().unwrap();
        assert!(add_to_gitignore(dir.path(), "/a").unwrap());
        assert!(!add_to_gitignore(dir.path(), "/a").unwrap());
        std::fs::write(dir.path().join(".gitignore"), "/a\ntarget").unwrap();
        assert!(!add_to_gitignore(dir.path(), "/b").unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "/a\ntarget\n/b\n"
        );
    }
}
