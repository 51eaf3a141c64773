//! What `fnox scan` reads: the working tree, or the git index.

use std::path::{Path, PathBuf};

use super::super::{error::CommandError, git::git_output as git, ui::Ui};

/// One file to scan: its absolute path and its bytes.
pub(super) struct Item {
    pub path: PathBuf,
    pub content: Vec<u8>,
}

/// The top of the git working tree that holds `dir`, if any.
fn toplevel(dir: &Path) -> Option<PathBuf> {
    let out = git(dir, &["rev-parse", "--show-toplevel"], &[]).ok()?;
    let text = String::from_utf8(out).ok()?;
    Some(PathBuf::from(text.trim_end_matches('\n')))
}

fn nul_list(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// The staged content of the files staged for the next commit (added,
/// copied, modified, type changed; within `paths` when given; not
/// submodules, whose commits are not files).
/// git runs with fnox's environment, so inside a hook `GIT_INDEX_FILE`
/// (the index of `git commit -a` or `git commit FILE`) is the one read.
pub(super) fn staged(cwd: &Path, paths: &[PathBuf]) -> Result<Vec<Item>, CommandError> {
    let top = toplevel(cwd).ok_or_else(|| {
        CommandError::user(
            "--staged reads the git index, and this is not inside a git working tree",
        )
    })?;
    let args = [
        "diff",
        "--cached",
        "--name-only",
        "-z",
        "--no-renames",
        "--diff-filter=ACMT",
        "--ignore-submodules=all",
        "--",
    ];
    let names = nul_list(&git(cwd, &args, paths)?);
    let mut items = Vec::new();
    for name in names {
        let content = git(&top, &["cat-file", "blob", &format!(":{name}")], &[])?;
        items.push(Item { path: top.join(&name), content });
    }
    Ok(items)
}

/// The files under `paths` (default: the working directory): a file named
/// is read whatever git thinks of it; in a directory inside a git working
/// tree, the files git tracks or would add (not ignored ones), elsewhere
/// every file (not `.git`).
pub(super) fn working_tree(
    ui: &Ui,
    cwd: &Path,
    paths: &[PathBuf],
) -> Result<Vec<Item>, CommandError> {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let mut files = Vec::new();
    for p in &paths {
        let abs = cwd.join(p);
        if !abs.is_dir() {
            if !abs.exists() {
                return Err(CommandError::usage(format!("{} does not exist", p.display())));
            }
            files.push(abs);
        } else if toplevel(&abs).is_some() {
            let args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"];
            let list = nul_list(&git(&abs, &args, &[])?);
            files.extend(list.into_iter().map(|f| abs.join(f)));
        } else {
            walk(&abs, &mut files);
        }
    }
    files.sort();
    files.dedup();
    let mut items = Vec::new();
    for path in files {
        if !path.is_file() {
            continue; // deleted but still tracked, or a link to a directory
        }
        match std::fs::read(&path) {
            Ok(content) => items.push(Item { path: normal(&path), content }),
            Err(e) => ui.warn(&format!("cannot read {}: {e}; not scanned", ui.path(&path))),
        }
    }
    Ok(items)
}

/// `path` without `.` components (`/p/./a` is `/p/a`).
fn normal(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                walk(&path, out);
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
}
