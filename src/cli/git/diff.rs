//! `fnox git diff`: what changed in a config file, secret by secret.

use std::{
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
};

use fnox_core::{
    SecretBytes,
    versions::{self, Change, Changed, Entry},
};
use zeroize::Zeroizing;

use super::{project_for, read};
use crate::{
    cli::{Env, error::CommandError, ui::Ui},
    exit_codes::ExitStatus,
};

/// Say what changed in a config file, secret by secret (git's diff driver).
#[derive(Debug, clap::Args)]
#[command(after_help = "Arguments, as git passes them:
  OLD NEW                          two versions of a config file
  PATH OLD HEX MODE NEW HEX MODE   git's diff driver (diff.fnox.command)
  FILE                             git's textconv (diff.fnox.textconv): one line per secret

Each changed secret is one line: `NAME: value changed`, `added`, `removed`,
`re-encrypted, same value`, `changed (cannot decrypt here)` or `settings changed`.
Values are decrypted with the keys of the project the file belongs to.")]
pub struct Args {
    /// Also print the decrypted values of the secrets that changed.
    #[arg(long)]
    values: bool,

    /// OLD NEW, git's seven arguments, or one FILE.
    #[arg(required = true, num_args = 1..=7, value_name = "FILES")]
    files: Vec<PathBuf>,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let (label, old, new, current) = match args.files.as_slice() {
        [file] => return textconv(ui, file),
        [old, new] => (new.display().to_string(), old, new, env.cwd().join(new)),
        [path, old, _, _, new, _, _] => {
            (path.display().to_string(), old, new, env.cwd().join(path))
        }
        _ => {
            return Err(CommandError::usage(
                "fnox git diff takes OLD NEW, git's seven diff-driver arguments, or one FILE",
            ));
        }
    };
    let name = Path::new(&label);
    let (old, new) = match (entries(name, &read(old)?), entries(name, &read(new)?)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            ui.report(&format!("diff --fnox a/{label} b/{label}\n{e}\n"))?;
            return Ok(ExitStatus::SUCCESS);
        }
    };
    let project = project_for(env, &current);
    let changes = versions::compare(project.as_ref(), &old, &new, args.values);
    let mut out = Zeroizing::new(format!("diff --fnox a/{label} b/{label}\n"));
    if changes.is_empty() {
        out.push_str("no secret changed; other lines did (`git diff --no-ext-diff` shows them)\n");
    }
    for c in &changes {
        line(&mut out, c, args.values);
    }
    ui.report(&out)?;
    Ok(ExitStatus::SUCCESS)
}

/// The secrets of one version, `text`, of file `name`; what is wrong with it.
fn entries(name: &Path, text: &str) -> Result<Vec<Entry>, String> {
    versions::entries(name, text)
        .map_err(|e| format!("a version is not a valid config, so fnox cannot compare: {e}"))
}

/// `NAME: what happened`, and with `values` the values.
fn line(out: &mut String, c: &Changed, values: bool) {
    let what = match c.change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::ValueChanged => "value changed",
        Change::SameValue => "re-encrypted, same value",
        Change::CannotDecrypt => "changed (cannot decrypt here)",
        Change::Settings => "settings changed",
    };
    out.push_str(&format!("{}: {what}", c.label));
    if values {
        match (&c.values, &c.change) {
            ((Some(a), Some(b)), Change::ValueChanged) => {
                out.push_str(&format!(": {} -> {}", quoted(a).as_str(), quoted(b).as_str()));
            }
            ((Some(v), None), Change::Removed) | ((None, Some(v)), Change::Added) => {
                out.push_str(&format!(": {}", quoted(v).as_str()));
            }
            _ => {}
        }
    }
    out.push('\n');
}

/// A value in double quotes, with escapes for quotes and control
/// characters; a value that is not UTF-8 with `\xNN` for every byte
/// outside printable ASCII.
fn quoted(value: &SecretBytes) -> Zeroizing<String> {
    Zeroizing::new(match std::str::from_utf8(value.expose()) {
        Ok(text) => format!("\"{}\"", text.escape_debug()),
        Err(_) => format!("\"{}\"", value.expose().escape_ascii()),
    })
}

/// git's textconv: one line per secret, with an id of its stored value (a
/// digest, never the value), so `git log -p` shows which secrets a commit
/// touched.
fn textconv(ui: &Ui, file: &Path) -> Result<ExitStatus, CommandError> {
    let text = read(file)?;
    let Ok(entries) = versions::entries(Path::new("fnox.toml"), &text) else {
        // Not a valid config: git shows its lines as they are.
        ui.report(&text)?;
        return Ok(ExitStatus::SUCCESS);
    };
    let mut out = String::new();
    for e in &entries {
        let provider = e.provider.as_deref().unwrap_or("the default provider");
        match &e.value {
            Some(v) => out.push_str(&format!("{}: stored value {} ({provider})\n", e.label, id(v))),
            None => out.push_str(&format!("{}: no stored value\n", e.label)),
        }
    }
    ui.report(&out)?;
    Ok(ExitStatus::SUCCESS)
}

/// A short id of a stored value: two versions with the same id hold the
/// same ciphertext.
fn id(stored: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    stored.hash(&mut h);
    format!("{:08x}", h.finish() as u32)
}
