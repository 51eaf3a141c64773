//! `fnox edit`: the secrets of one file in `$VISUAL`/`$EDITOR`.

mod apply;
mod editor;
mod form;
mod scratch;

use std::path::{Path, PathBuf};

use fnox_core::{Project, config::SecretDef, resolve::provider_of, value::FileKeys};
use zeroize::Zeroizing;

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Edit the decrypted secrets of a file in $VISUAL, $EDITOR or vi.
///
/// The secrets of the nearest fnox.toml (or the -c file) for the active
/// profile are shown as `NAME=value` lines in a file on a RAM-backed
/// filesystem ($XDG_RUNTIME_DIR, else /dev/shm), which is overwritten and
/// removed when the editor exits or fnox is stopped. On save, an unchanged
/// value keeps its ciphertext, a changed one is encrypted again with its
/// provider, a new line is encrypted with the default provider, and a
/// deleted line removes its secret (after a confirmation). The file is
/// written once, atomically. A mistake in the text opens the editor again
/// with the error at the top.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox edit                       the nearest fnox.toml, default profile
  fnox -P production edit         [profiles.production.secrets]
  EDITOR=nano fnox edit --yes     remove deleted lines without asking")]
pub struct Args {
    /// Remove the secrets whose lines were deleted without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Put the file to edit in $TMPDIR (else /tmp) when no RAM-backed
    /// directory exists: the plaintext may then reach a disk.
    #[arg(long)]
    pub allow_disk: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load_to_write(ui)?;
    let config = project.config();
    // A name no entry can have: where a new entry goes is this profile's
    // table of the file edited.
    let (file, table) = config
        .new_entry_place("")
        .ok_or_else(|| CommandError::user("no config file to edit".to_string()))?;
    let entries: Vec<SecretDef> = config
        .all_secrets
        .iter()
        .filter(|d| *d.at.file == *file && *d.table == *table && d.value.is_some())
        .cloned()
        .collect();
    let (values, file_keys) = open_all(&project, &entries)?;
    let base = scratch_base(ui, env, args.allow_disk)?;
    let place = place_words(ui, &file, &table, &config.profile);
    let mut text = Zeroizing::new(header(&place, config.default_provider.as_deref()).into_bytes());
    for (def, value) in entries.iter().zip(&values) {
        if let Some(description) = &def.description {
            for line in description.lines() {
                text.extend_from_slice(format!("# {line}\n").as_bytes());
            }
        }
        text.extend_from_slice(form::line(&def.name, value).as_bytes());
    }
    let Some(edited) = editor::edit(ui, env, &base, text)? else {
        ui.note(&format!("no changes to {place}"));
        return Ok(ExitStatus::SUCCESS);
    };
    apply::apply(
        ui,
        &project,
        &apply::Edit { file, table, place, entries, values, edited, yes: args.yes },
        file_keys,
    )
}

/// The plaintexts of the entries shown, in order.
type Plaintexts = Vec<Zeroizing<Vec<u8>>>;

/// The plaintext of each entry, in order; the data keys unwrapped on the
/// way (one request per file and provider), for the seals of the write.
fn open_all(
    project: &Project,
    entries: &[SecretDef],
) -> Result<(Plaintexts, FileKeys), CommandError> {
    let registry = project.registry().clone();
    let config = project.config().clone();
    let opened = project.fnox().block_on(async {
        let (mut out, mut keys) = (Vec::with_capacity(entries.len()), FileKeys::default());
        for def in entries {
            let provider_name = provider_of(&config, def)?;
            let provider = registry.get(&provider_name).await?;
            let stored = def.value.as_deref().unwrap_or_default();
            let line = config.data_key(&def.at.file, &provider_name);
            let plain = keys
                .open(&*provider, &provider_name, &def.at.file, line, &def.name, stored)
                .await
                .map_err(|source| fnox_core::Error::Decrypt {
                    name: def.name.clone(),
                    provider: provider_name.clone(),
                    at: def.at.clone(),
                    source,
                })?;
            out.push(Zeroizing::new(plain.expose().to_vec()));
        }
        Ok::<_, fnox_core::Error>((out, keys))
    })??;
    Ok(opened)
}

/// Where the file to edit goes: `$XDG_RUNTIME_DIR`, else `/dev/shm`, when
/// RAM-backed; else, with `--allow-disk`, `$TMPDIR` or `/tmp`.
fn scratch_base(ui: &Ui, env: &Env, allow_disk: bool) -> Result<PathBuf, CommandError> {
    let vars = env.fnox.env();
    let runtime = vars.var("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()).map(PathBuf::from);
    let candidates: Vec<PathBuf> = runtime.into_iter().chain([PathBuf::from("/dev/shm")]).collect();
    let tmpdir = vars.var("TMPDIR").filter(|v| !v.is_empty());
    let ram = |dir: &Path| dir.is_dir() && scratch::ram_backed(dir);
    match choose_base(&candidates, ram, allow_disk, tmpdir) {
        Some(Base::Ram(dir)) => Ok(dir),
        Some(Base::Disk(dir)) => {
            ui.warn(&format!(
                "no RAM-backed directory: the plaintext goes to {} (--allow-disk), which may be on a disk",
                dir.display()
            ));
            Ok(dir)
        }
        None => Err(CommandError::user(
            "no RAM-backed directory for the plaintext: neither $XDG_RUNTIME_DIR nor /dev/shm is a tmpfs",
        )
        .hint("set XDG_RUNTIME_DIR to a tmpfs directory, or pass --allow-disk to use $TMPDIR (the plaintext may then reach a disk)")),
    }
}

/// A directory for the plaintext.
#[derive(Debug, PartialEq, Eq)]
enum Base {
    /// RAM-backed.
    Ram(PathBuf),
    /// Possibly on a disk (`--allow-disk`).
    Disk(PathBuf),
}

/// The first of `candidates` that `ram` says is RAM-backed; else, with
/// `allow_disk`, `tmpdir` (default `/tmp`); else none: the edit is refused.
fn choose_base(
    candidates: &[PathBuf],
    ram: impl Fn(&Path) -> bool,
    allow_disk: bool,
    tmpdir: Option<&str>,
) -> Option<Base> {
    if let Some(dir) = candidates.iter().find(|d| ram(d)) {
        return Some(Base::Ram(dir.clone()));
    }
    allow_disk.then(|| Base::Disk(PathBuf::from(tmpdir.unwrap_or("/tmp"))))
}

fn place_words(ui: &Ui, file: &std::path::Path, table: &[String], profile: &str) -> String {
    format!("{} [{}] (profile `{profile}`)", ui.path(file), table.join("."))
}

/// The lines at the top of the text that say what it is.
fn header(place: &str, default_provider: Option<&str>) -> String {
    let new = default_provider.map_or_else(
        || "a new line needs a default_provider".to_string(),
        |p| format!("a new line is encrypted with `{p}`"),
    );
    format!(
        "# fnox edit: the secrets of {place}
# One secret a line: NAME=value (the value runs to the end of the line).
# In double quotes, a value may use \\n \\r \\t \\\\ \\\" and \\xHH (any byte).
# Change a value, add a line ({new}),
# or delete a line to remove its secret. Lines starting with # are ignored.
# Save and quit to apply; quit without saving to change nothing.

"
    )
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{Base, choose_base};

    #[test]
    fn the_plaintext_goes_to_ram_or_is_refused_unless_allow_disk() {
        let candidates = [PathBuf::from("/run/user/1000"), PathBuf::from("/dev/shm")];
        let only_shm = |d: &Path| d == Path::new("/dev/shm");
        let all = |_: &Path| true;
        let none = |_: &Path| false;
        // $XDG_RUNTIME_DIR first, then /dev/shm.
        assert_eq!(
            choose_base(&candidates, all, false, None),
            Some(Base::Ram("/run/user/1000".into()))
        );
        assert_eq!(
            choose_base(&candidates, only_shm, false, None),
            Some(Base::Ram("/dev/shm".into()))
        );
        // Neither is RAM-backed: refused, unless --allow-disk.
        assert_eq!(choose_base(&candidates, none, false, Some("/var/tmp")), None);
        assert_eq!(
            choose_base(&candidates, none, true, Some("/var/tmp")),
            Some(Base::Disk("/var/tmp".into()))
        );
        assert_eq!(choose_base(&candidates, none, true, None), Some(Base::Disk("/tmp".into())));
        // --allow-disk does not win over a RAM-backed directory.
        assert_eq!(
            choose_base(&candidates, only_shm, true, Some("/var/tmp")),
            Some(Base::Ram("/dev/shm".into()))
        );
    }
}
