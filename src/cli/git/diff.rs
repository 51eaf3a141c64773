//! `fnox git diff`: what changed in a config file, secret by secret.

use std::path::{Path, PathBuf};

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
  FILE                             git's textconv (diff.fnox.textconv, for git log -p)

Each changed secret is one line: `NAME: value changed`, `added`, `removed`,
`re-encrypted, same value`, `changed (cannot decrypt here)` or `settings changed`.
Values are decrypted with the keys of the project the file belongs to.

git log -p and git show convert each version alone (textconv): per secret
`NAME: value #ID` (an id of the plaintext, keyed on this machine) and
`NAME: sealed #ID (PROVIDER)`, then the file with values elided. A value
that changed changes both lines; a re-encryption only the sealed one.
`git log -p --ext-diff` gives the words above.")]
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
        [file] => return textconv(ui, env, file),
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

/// git's textconv (`git log -p`, `git show`): per secret a line for its
/// value and one for its ciphertext, then the file with values elided.
/// Values are decrypted with the keys of the project in the working
/// directory (git runs textconv at the top of the work tree).
fn textconv(ui: &Ui, env: &Env, file: &Path) -> Result<ExitStatus, CommandError> {
    let text = read(file)?;
    let Ok(entries) = versions::entries(Path::new("fnox.toml"), &text) else {
        // Not a valid config: git shows its lines as they are.
        ui.report(&text)?;
        return Ok(ExitStatus::SUCCESS);
    };
    let project = env.fnox.load(&env.load).ok();
    let key = versions::id_key(env.fnox.config_dir());
    if let Err(e) = &key {
        ui.warn(&format!("values are not compared: the key of their ids: {e}"));
    }
    let out = versions::textconv(project.as_ref(), &text, &entries, key.ok().as_ref());
    ui.report(&out)?;
    Ok(ExitStatus::SUCCESS)
}
