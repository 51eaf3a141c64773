//! The editor loop: show the text, read it back, show it again with the
//! errors at the top until it reads.

use std::{path::Path, process::Command};

use zeroize::Zeroizing;

use super::{
    super::{Env, error::CommandError, ui::Ui},
    form::{self, ERROR_MARK, Values},
    scratch::Scratch,
};

/// Lets the user edit `text` in a scratch file in `base`: the values read
/// from the saved text, or `None` when it was not changed.
pub fn edit(
    ui: &Ui,
    env: &Env,
    base: &Path,
    text: Zeroizing<Vec<u8>>,
) -> Result<Option<Values>, CommandError> {
    let scratch = Scratch::create(base)?;
    let (mut shown, mut after_error) = (text, false);
    loop {
        scratch.write(&shown)?;
        let status = scratch.run_editor(command(env, scratch.path()))?;
        if !status.success() {
            let how = status.code().map_or_else(
                || "was stopped by a signal".to_string(),
                |c| format!("exited with status {c}"),
            );
            return Err(CommandError::user(format!("the editor {how}; nothing was changed")));
        }
        let Some(saved) = scratch.read()? else {
            return Err(CommandError::user("the edited file was removed; nothing was changed"));
        };
        if *saved == *shown {
            if after_error {
                return Err(CommandError::user(
                    "the text was left with errors; nothing was changed",
                ));
            }
            return Ok(None);
        }
        drop(shown);
        let kept = strip_errors(&saved);
        let errors = match std::str::from_utf8(&kept) {
            Ok(text) => match form::parse(text) {
                Ok(values) => return Ok(Some(values)),
                Err(errors) => errors,
            },
            Err(e) => {
                let line = kept[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
                let message = "not UTF-8: write such bytes as \\xHH in double quotes".into();
                vec![form::ParseError { line, message }]
            }
        };
        for e in &errors {
            ui.warn(&format!("line {}: {}", e.line + errors.len(), e.message));
        }
        let mut next = Zeroizing::new(Vec::with_capacity(kept.len() + 80 * errors.len()));
        for e in &errors {
            let line = format!("{ERROR_MARK}line {}: {}\n", e.line + errors.len(), e.message);
            next.extend_from_slice(line.as_bytes());
        }
        next.extend_from_slice(&kept);
        (shown, after_error) = (next, true);
    }
}

/// `text` without the error lines added to it.
fn strip_errors(text: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
    for line in text.split_inclusive(|b| *b == b'\n') {
        if !line.starts_with(ERROR_MARK.as_bytes()) {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The editor command for `file`: `$VISUAL`, else `$EDITOR`, else `vi`, run
/// by `sh` (`exec`, so that signals reach it) when it has arguments; vim and neovim without swap, backup,
/// undo and viminfo/shada files.
fn command(env: &Env, file: &Path) -> Command {
    let vars = env.fnox.env();
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| vars.var(v).filter(|s| !s.trim().is_empty()))
        .unwrap_or("vi");
    let program = editor.split_whitespace().next().unwrap_or("vi");
    let mut args: Vec<String> = Vec::new();
    if is_vim(program, vars.var("PATH")) {
        args.extend(["-n", "-i", "NONE", "--cmd", VIM_SETTINGS].map(String::from));
    }
    let mut cmd = if editor.contains(|c: char| c.is_whitespace() || "'\"$`\\;&|".contains(c)) {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("exec {editor} \"$@\"")).arg(program);
        cmd
    } else {
        Command::new(editor)
    };
    cmd.args(args).arg(file);
    cmd
}

/// What vim and neovim are told before they read the file.
const VIM_SETTINGS: &str = "set noswapfile nobackup nowritebackup noundofile";

/// True when `program` is vim or neovim (also through a `vi` link).
fn is_vim(program: &str, path: Option<&str>) -> bool {
    let vim_name = |name: &str| {
        let name = name.rsplit('/').next().unwrap_or(name);
        ["vim", "nvim", "gvim", "rvim", "vimdiff"]
            .iter()
            .any(|v| name == *v || name.starts_with(&format!("{v}.")))
    };
    if vim_name(program) {
        return true;
    }
    if program.rsplit('/').next() != Some("vi") && program.rsplit('/').next() != Some("view") {
        return false;
    }
    let found = if program.contains('/') {
        Some(std::path::PathBuf::from(program))
    } else {
        path.unwrap_or_default()
            .split(':')
            .map(|d| Path::new(d).join(program))
            .find(|p| p.is_file())
    };
    found
        .and_then(|p| std::fs::canonicalize(p).ok())
        .is_some_and(|p| p.file_name().is_some_and(|n| vim_name(&n.to_string_lossy())))
}
