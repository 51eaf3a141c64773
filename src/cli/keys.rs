//! `fnox keys`: the `local` keyring: list it, move it to another machine or
//! into CI (export, import), delete retired keys.

use std::{io::Read, path::PathBuf};

use fnox_core::words::{count, noun};
use fnox_core::{Project, keys, providers::local};
use zeroize::Zeroizing;

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

mod protect;

/// Manage the `local` keyring: list its keys, move it to another machine or
/// into CI, delete retired keys.
///
/// The keyring is the one of the project's `local` provider (its `key_file`),
/// else $FNOX_CONFIG_DIR/local.key. Values under a key this machine lacks are
/// opened by bringing that key over, never by creating a new one.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox keys list                           the keys, which one encrypts, which are retired
  fnox keys export -o ~/fnox-keys          the keyring, to a 0600 file outside the repository
  fnox keys import ~/fnox-keys             on the other machine: add those keys here
  fnox keys export --env                   FNOX_LOCAL_KEY=... for a CI secret
  fnox keys delete-retired                 after `fnox rotate --retire-old`, with a backup
  fnox keys protect                        put a passphrase on the keyring file (asked when needed)")]
pub struct Args {
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// The `keys` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// List the keys of the keyring: id, primary / old / retired, and when
    /// each was created.
    List(Which),
    /// Print the keyring (or write it to a 0600 file) for another machine.
    Export(ExportArgs),
    /// Add keys from an export (a file, or stdin) to this machine's keyring.
    Import(ImportArgs),
    /// Delete retired keys, after a backup; refused while values use them.
    DeleteRetired(DeleteArgs),
    /// Encrypt the keyring file with a passphrase (age's scrypt format:
    /// `age -d FILE` opens it by hand); fnox asks for it on the terminal
    /// when it needs a key, once per session with `fnox agent start`.
    Protect(Which),
    /// Remove the keyring file's passphrase (asked for first).
    Unprotect(Which),
    /// Change the keyring file's passphrase (the current one, then the new
    /// one twice); the keys stay the same.
    Passphrase(Which),
}

/// Which keyring.
#[derive(Debug, clap::Args)]
pub struct Which {
    /// The keyring of this `local` provider (default: the project's only
    /// keyring, else $FNOX_CONFIG_DIR/local.key).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub provider: Option<String>,
}

/// `keys export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox keys export -o /media/usb/fnox-keys   to a new 0600 file (never inside a git working tree)
  fnox keys export | ssh laptop fnox keys import
  fnox keys export --env                     FNOX_LOCAL_KEY=... (the primary key) for CI")]
pub struct ExportArgs {
    #[command(flatten)]
    pub which: Which,
    /// Write to this new file (mode 0600) instead of stdout; refused inside
    /// a git working tree.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the primary key as `FNOX_LOCAL_KEY=...` (for a CI secret).
    #[arg(long)]
    pub env: bool,
}

/// `keys import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox keys import ~/fnox-keys             a file written by `fnox keys export -o`
  fnox keys import < keys                  the same from stdin
  printf %s \"$KEY\" | fnox keys import      one key, as in FNOX_LOCAL_KEY")]
pub struct ImportArgs {
    #[command(flatten)]
    pub which: Which,
    /// The export (a keyring, or one base64 key); stdin when absent or `-`.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Keep this keyring's primary key (default: the imported primary key
    /// becomes the one that encrypts, so new values match the team's).
    #[arg(long)]
    pub keep_primary: bool,
}

/// `keys delete-retired`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub which: Which,
    /// Delete even when values of this project still use a retired key
    /// (they will not decrypt any more).
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    match args.command {
        KeysCommand::List(which) => list(ui, env, &which),
        KeysCommand::Export(a) => export(ui, env, &a),
        KeysCommand::Import(a) => import(ui, env, &a),
        KeysCommand::DeleteRetired(a) => delete_retired(ui, env, &a),
        KeysCommand::Protect(w) => protect::run(ui, env, &w, protect::Change::Protect),
        KeysCommand::Unprotect(w) => protect::run(ui, env, &w, protect::Change::Unprotect),
        KeysCommand::Passphrase(w) => protect::run(ui, env, &w, protect::Change::Passphrase),
    }
}

/// The project (when there is a config file) and the keyring `which` means.
fn keyring(env: &Env, which: &Which) -> Result<(Option<Project>, keys::Store), CommandError> {
    let project = env.fnox.load(&env.load)?;
    let project = match project.config().files.is_empty() {
        true => None,
        false => Some(env.require_profile(project)?),
    };
    let rings = project.as_ref().map(keys::stores).unwrap_or_default();
    let store = match &which.provider {
        Some(name) => match rings.iter().find(|(n, _)| n == name) {
            Some((_, store)) => store.clone(),
            None => {
                return Err(CommandError::usage(format!(
                    "provider `{name}` is not a `local` provider with a keyring file or keychain item"
                )));
            }
        },
        None => {
            let mut stores: Vec<&keys::Store> = rings.iter().map(|(_, p)| p).collect();
            stores.sort();
            stores.dedup();
            match stores.as_slice() {
                [] => keys::Store::File(env.fnox.config_dir().join("local.key")),
                [one] => (*one).clone(),
                _ => {
                    return Err(CommandError::usage(
                        "the project's local providers use several keyrings; pass --provider NAME",
                    ));
                }
            }
        }
    };
    Ok((project, store))
}

fn list(ui: &Ui, env: &Env, which: &Which) -> Result<ExitStatus, CommandError> {
    let (_, store) = keyring(env, which)?;
    let ring = keys::read_store(&store, env.fnox.context())?;
    let protected = store
        .file()
        .and_then(|path| std::fs::read(path).ok())
        .is_some_and(|bytes| fnox_core::providers::keyring_file::is_protected(&bytes));
    let mut out = match protected {
        true => format!("{store} (protected with a passphrase):\n"),
        false => format!("{store}:\n"),
    };
    for id in ring.ids() {
        let state = if id == ring.primary().id_hex() {
            "primary"
        } else if ring.is_retired(&id) {
            "retired"
        } else {
            "old"
        };
        let created = ring.created(&id).map_or_else(
            || "created date unknown".to_string(),
            |t| format!("created {}", fnox_core::key_age::timestamp(t)),
        );
        out.push_str(&format!("  {id}  {state:7}  {created}\n"));
    }
    ui.stdout(out.as_bytes())?;
    Ok(ExitStatus::SUCCESS)
}

fn export(ui: &Ui, env: &Env, args: &ExportArgs) -> Result<ExitStatus, CommandError> {
    let (_, store) = keyring(env, &args.which)?;
    let ring = keys::read_store(&store, env.fnox.context())?;
    let text = if args.env {
        let others: Vec<String> =
            ring.ids().into_iter().filter(|id| *id != ring.primary().id_hex()).collect();
        if !others.is_empty() {
            ui.warn(&format!(
                "FNOX_LOCAL_KEY holds one key (the primary, {}); values under {} will not decrypt with it: run `fnox rotate --all-profiles` first",
                ring.primary().id_hex(),
                others.join(", ")
            ));
        }
        Zeroizing::new(format!("{}={}\n", local::ENV_KEY, *ring.primary().to_base64()))
    } else {
        ring.to_text()
    };
    match &args.output {
        None => ui.stdout(text.as_bytes())?,
        Some(out) => {
            let out = env.cwd().join(out);
            keys::write_export(&out, &text)?;
            ui.note(&format!(
                "wrote {} of {} to {} (mode 0600); on the other machine: `fnox keys import FILE`, then delete the file",
                count(if args.env { 1 } else { ring.ids().len() }, "key", "keys"),
                store,
                ui.path(&out)
            ));
        }
    }
    Ok(ExitStatus::SUCCESS)
}

fn import(ui: &Ui, env: &Env, args: &ImportArgs) -> Result<ExitStatus, CommandError> {
    let (_, store) = keyring(env, &args.which)?;
    let path = store.path();
    let (text, source) = match args.file.as_deref().filter(|f| f.as_os_str() != "-") {
        Some(file) => {
            let file = env.cwd().join(file);
            let text = local::read_key_file(&file, &env.fnox.context().notify)
                .map_err(|e| provider_error(&file, e))?
                .ok_or_else(|| {
                    CommandError::user(format!("cannot import: {} does not exist", ui.path(&file)))
                })?;
            (text, file.display().to_string())
        }
        None => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CommandError::io("cannot read the keys from stdin", e))?;
            (text, "stdin".to_string())
        }
    };
    let ring = keys::parse_import(&text, &source).map_err(|e| provider_error(path, e))?;
    let done = keys::import_store(&store, &ring, args.keep_primary, env.fnox.context())?;
    let mut note = format!(
        "{} {}: added {}{}",
        if done.created { "created" } else { "updated" },
        store,
        count(done.added.len(), "key", "keys"),
        if done.added.is_empty() { String::new() } else { format!(" ({})", done.added.join(", ")) },
    );
    if !done.known.is_empty() {
        note.push_str(&format!(", had {} already", done.known.join(", ")));
    }
    note.push_str(&format!("; primary key: {}", done.primary));
    ui.note(&note);
    Ok(ExitStatus::SUCCESS)
}

fn provider_error(
    path: &std::path::Path,
    source: fnox_core::providers::ProviderError,
) -> CommandError {
    fnox_core::Error::Provider {
        provider: "local".into(),
        at: fnox_core::config::Location::new(path, 0),
        source,
    }
    .into()
}

fn delete_retired(ui: &Ui, env: &Env, args: &DeleteArgs) -> Result<ExitStatus, CommandError> {
    if let Some(why) = ui.cannot_ask().filter(|_| !args.yes) {
        return Err(CommandError::usage(format!(
            "delete-retired deletes keys; pass --yes to confirm ({why})"
        )));
    }
    let (project, store) = keyring(env, &args.which)?;
    let path = store.path().to_path_buf();
    let ring = keys::read_store(&store, env.fnox.context())?;
    let retired = ring.retired_ids();
    if retired.is_empty() {
        ui.note(&format!("{store} has no retired key; nothing to delete"));
        return Ok(ExitStatus::SUCCESS);
    }
    let views = match project {
        Some(p) => keys::all_profiles(&env.fnox, &env.load, p)?,
        None => Vec::new(),
    };
    let users = keys::retired_users(&views, &path, &retired);
    if !users.is_empty() {
        let provider = keys::provider_of_keyring(&views, &path);
        let err = fnox_core::Error::RetiredKeysUsed { path: path.clone(), provider, users };
        if !args.force {
            return Err(err.into());
        }
        ui.warn(&format!("--force: {err}"));
    } else {
        ui.note(&format!(
            "no value of this project uses retired {} {}; other projects that use this keyring are not checked",
            noun(retired.len(), "key", "keys"),
            retired.join(", ")
        ));
    }
    if !args.yes
        && !ui.confirm(&format!(
            "delete retired {} {}?",
            noun(retired.len(), "key", "keys"),
            retired.join(", ")
        ))?
    {
        return Err(CommandError::user("cancelled; nothing was changed"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let backup = keys::delete_retired_store(&store, &retired, now, env.fnox.context())?;
    ui.note(&format!(
        "backed up {store} to {backup}; deleted retired {} {}",
        noun(retired.len(), "key", "keys"),
        retired.join(", ")
    ));
    Ok(ExitStatus::SUCCESS)
}
