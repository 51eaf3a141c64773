//! `fnox init`.

mod default;
mod setup;

use std::path::{Path, PathBuf};

use fnox_core::{
    LoadOptions,
    config::{
        Config, ProviderConfig, ProviderDef,
        edit::{self, Value},
    },
    plan,
};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// The providers `init` can set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// AES-256-GCM with a key in $FNOX_CONFIG_DIR/local.key (no account needed).
    Local,
    /// age: an identity in $FNOX_CONFIG_DIR/age.txt, its recipient in fnox.toml.
    Age,
    /// AWS KMS: needs --key-id (and --region unless AWS_REGION is set).
    #[value(name = "aws-kms")]
    AwsKms,
}

/// Create fnox.toml in the current directory (or the global config file).
///
/// By default it gets a `local` provider and its key is created, so `set`
/// and `get` work at once. With --provider age, an age identity is created
/// in $FNOX_CONFIG_DIR/age.txt (unless one is there) and its public key is
/// written as the provider's recipient. In a directory that has fnox.toml
/// already, the provider is added to it; when that makes two providers and
/// none is `default_provider`, the one `set` used so far becomes it. Inside
/// a git working tree, fnox.local.toml and the key file (when it is inside
/// the tree) are added to .gitignore. With --force, an existing file is
/// saved beside itself (FILE.backup-SECONDS) and a new one written.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox init                     local provider, key created in ~/.config/fnox/local.key
  fnox init --passphrase        the same, the key file protected with a passphrase
  fnox init --keychain          the same, the keyring kept in the OS keychain
  fnox init --provider age      age provider with a new identity (share its recipient)
  fnox init --provider aws-kms --key-id alias/app --region us-east-1
  fnox init --global            the global config file, for secrets every project sees")]
pub struct Args {
    /// Which provider to set up.
    #[arg(short = 'p', long, value_enum, default_value = "local")]
    pub provider: Kind,

    /// The provider's name in fnox.toml (default: its type).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// aws-kms: the key (ARN, key id or alias/NAME).
    #[arg(long, value_name = "KEY", required_if_eq("provider", "aws-kms"))]
    pub key_id: Option<String>,

    /// aws-kms: the AWS region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Create (or add the provider to) the global config file,
    /// $FNOX_CONFIG_DIR/config.toml, which every project loads first.
    #[arg(short = 'g', long)]
    pub global: bool,

    /// Start a new file even when there is one: the old one is kept as
    /// FILE.backup-SECONDS beside it, never overwritten.
    #[arg(short = 'f', long)]
    pub force: bool,

    /// local: protect the keyring file with a passphrase, asked twice on the
    /// terminal (an existing keyring without one gets it); fnox then asks
    /// for it when it needs a key (`fnox keys protect` does the same later).
    #[arg(long)]
    pub passphrase: bool,

    /// local: keep the keyring in the OS keychain (Secret Service, macOS
    /// Keychain, Windows Credential Manager) instead of a file; writes
    /// `key_store = "keychain"` (docs/keys.md).
    #[arg(long, conflicts_with = "passphrase")]
    pub keychain: bool,

    /// Accepted for jdx/fnox: fnox init asks nothing.
    #[arg(long)]
    pub skip_wizard: bool,
}

const HEADER: &str = "\
# fnox.toml: this project's secrets. Values are encrypted; this file is
# safe to commit. Keys live outside the repository.
#   fnox set NAME      encrypt a value (from stdin or a hidden prompt)
#   fnox get NAME      decrypt it
#   fnox exec -- CMD   run CMD with every secret in its environment
";

const GLOBAL_HEADER: &str = "\
# fnox's global config: providers and secrets that every project of this
# user sees (a project's own files win). Values are encrypted.
#   fnox set --global NAME   encrypt a value into this file
";

/// What `init` did to the config file.
enum Written {
    /// Created it.
    Created,
    /// `--force`: saved the old file as this backup and wrote a new one.
    Replaced(PathBuf),
    /// Added the provider to it.
    Updated,
    /// It has a provider of that name already.
    Unchanged,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    if args.passphrase && !matches!(args.provider, Kind::Local) {
        return Err(CommandError::usage(
            "--passphrase protects the local provider's keyring; an age identity gets one with `age -p` (see docs/keys.md)",
        ));
    }
    if args.keychain && !matches!(args.provider, Kind::Local) {
        return Err(CommandError::usage(
            "--keychain keeps the local provider's keyring in the OS keychain; other providers keep no keyring",
        ));
    }
    let path = target(env, &args)?;
    // Before any key is made: the file must be creatable or editable.
    check_target(ui, &path)?;
    let name = args.name.clone().unwrap_or_else(|| match args.provider {
        Kind::Local => "local".into(),
        Kind::Age => "age".into(),
        Kind::AwsKms => "kms".into(),
    });
    let dir = path.parent().map_or_else(|| env.cwd().to_path_buf(), Path::to_path_buf);
    // What `set` sees (with --global: what the global file sees).
    let load = if args.global {
        LoadOptions { config_file: Some(path.clone()), ..env.load.clone() }
    } else {
        env.load.clone()
    };
    let replace = args.force && path.exists();
    // What `set` sees before this run: its default, and the provider of
    // that name if this file has it already (none in a file --force replaces).
    let before = env.fnox.load(&load).ok();
    let config = before.as_ref().map(|p| p.config().as_ref());
    let existing = config.and_then(|c| defined_in(c, &name, &path)).filter(|_| !replace);
    check_type(ui, &path, &name, args.provider, existing)?;
    if args.global {
        make_config_dir(ui, &dir)?;
    }
    let setup = match args.provider {
        Kind::Local => setup::local(ui, env, &dir, existing, &args)?,
        Kind::Age => setup::age(ui, env, &dir)?,
        Kind::AwsKms => setup::aws_kms(&args),
    };
    let header = if args.global { GLOBAL_HEADER } else { HEADER };
    let wait = env.fnox.lock_wait()?;
    let written = write_config(&path, &name, &setup.fields, header, replace, &wait)?;
    // The global file has no fnox.local.toml beside it.
    let ignored = !args.global && setup::ignore_in_git(ui, &dir, &dir.join("fnox.local.toml"))?;
    let before_default = config.and_then(|c| c.default_provider.clone()).filter(|_| !replace);
    let done = Done { path: &path, name: &name, global: args.global, ignored, before_default };
    report(ui, env, &load, &done, written, existing, setup)
}

/// The file `init` writes: the global config file with --global, else the
/// `-c` path, else fnox.toml in the current directory.
fn target(env: &Env, args: &Args) -> Result<PathBuf, CommandError> {
    match (&env.load.config_file, args.global) {
        (Some(_), true) => Err(CommandError::usage(
            "--global and -c cannot be combined: --global writes the global config file",
        )),
        (_, true) => Ok(env.global_file()),
        (Some(path), false) => Ok(path.clone()),
        (None, false) => Ok(env.cwd().join("fnox.toml")),
    }
}

/// Makes fnox's config directory (0700) for the global file.
fn make_config_dir(ui: &Ui, dir: &Path) -> Result<(), CommandError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CommandError::io(format!("cannot create {}", ui.path(dir)), e))
}

/// What `init` did, for [`report`].
struct Done<'a> {
    path: &'a Path,
    name: &'a str,
    global: bool,
    /// A `.gitignore` was created or changed.
    ignored: bool,
    /// The provider `fnox set NAME` used before.
    before_default: Option<String>,
}

/// Says what was written, settles `default_provider`, and says what to
/// type next.
fn report(
    ui: &Ui,
    env: &Env,
    load: &LoadOptions,
    done: &Done<'_>,
    written: Written,
    existing: Option<&ProviderDef>,
    setup: setup::Setup,
) -> Result<ExitStatus, CommandError> {
    let (shown, name) = (ui.path(done.path), done.name);
    let verb = match &written {
        Written::Created => "created",
        Written::Replaced(backup) => {
            ui.note(&format!("saved the old {shown} as {} (--force)", ui.path(backup)));
            "recreated"
        }
        Written::Updated => "updated",
        Written::Unchanged => {
            let changed = setup.changed || done.ignored;
            let what = if changed { " and is unchanged" } else { "; nothing changed" };
            ui.note(&format!("{shown} already has a provider `{name}`{what}"));
            if let Some(recipient) = setup.recipient.filter(|r| !listed(existing, r)) {
                ui.note(&format!(
                    "your recipient {recipient}: ask a teammate to add it to `recipients` of provider `{name}` and run `fnox rotate --provider {name}`"
                ));
            }
            return Ok(ExitStatus::SUCCESS);
        }
    };
    let about = setup.about.map(|a| format!(" ({a})")).unwrap_or_default();
    ui.note(&format!("{verb} {shown} with provider `{name}`{about}"));
    let fresh = !matches!(written, Written::Updated);
    let before = done.before_default.clone();
    let default = default::settle(ui, env, load, done.path, name, fresh, before)?;
    ui.note(&default::next(name, default.as_deref(), done.global));
    Ok(ExitStatus::SUCCESS)
}

/// The provider `name` when `path` (not another loaded file) defines it.
fn defined_in<'c>(config: &'c Config, name: &str, path: &Path) -> Option<&'c ProviderDef> {
    let def = config.providers.get(name)?;
    let same = match (std::fs::canonicalize(&def.at.file), std::fs::canonicalize(path)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same.then_some(def)
}

/// Refuses to go on when `path` has a provider `name` of another type than
/// the one asked for: nothing would be set up that it uses.
fn check_type(
    ui: &Ui,
    path: &Path,
    name: &str,
    kind: Kind,
    existing: Option<&ProviderDef>,
) -> Result<(), CommandError> {
    let wanted = match kind {
        Kind::Local => "local",
        Kind::Age => "age",
        Kind::AwsKms => "aws-kms",
    };
    match existing.map(|def| def.config.kind()) {
        Some(has) if has != wanted => Err(CommandError::user(format!(
            "{} already has a provider `{name}` of type `{has}`",
            ui.path(path)
        ))
        .hint(format!("pass `--name NAME` to add the `{wanted}` provider under another name"))),
        _ => Ok(()),
    }
}

/// True when the age provider `existing` lists `recipient` already.
fn listed(existing: Option<&ProviderDef>, recipient: &str) -> bool {
    match existing.map(|d| &d.config) {
        Some(ProviderConfig::Age(c)) => c.recipients.iter().any(|r| r == recipient),
        _ => false,
    }
}

/// Refuses a `path` that cannot become the config file: a symbolic link to
/// nothing (creating "it" would create the link's target somewhere else),
/// or something other than a regular file.
fn check_target(ui: &Ui, path: &Path) -> Result<(), CommandError> {
    let Ok(link) = std::fs::symlink_metadata(path) else {
        return Ok(()); // absent: it is created
    };
    let shown = ui.path(path);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(CommandError::user(format!("{shown} exists and is not a regular file"))
            .hint("move it away, or pass `-c PATH` to create the config elsewhere")),
        Err(e) if link.is_symlink() && e.kind() == std::io::ErrorKind::NotFound => {
            let target = std::fs::read_link(path).unwrap_or_default();
            Err(CommandError::user(format!(
                "{shown} is a symbolic link to {}, which does not exist",
                target.display()
            ))
            .hint(format!(
                "remove the link (`rm {shown}`) and run `fnox init` again, or create the file it points to"
            )))
        }
        Err(e) => Err(CommandError::io(format!("cannot read {shown}"), e)),
    }
}

/// Creates `path` with `header` and the provider, or adds the provider to
/// it; with `replace`, saves it as a backup beside it and writes a new one
/// in its place (under its lock).
fn write_config(
    path: &Path,
    name: &str,
    fields: &[(&'static str, Value)],
    header: &str,
    replace: bool,
    wait: &fnox_core::config::write::LockWait,
) -> Result<Written, CommandError> {
    let edit_error = |source| fnox_core::Error::Edit { path: path.to_path_buf(), source };
    let provider = edit::add_provider("", name, fields).map_err(edit_error)?.unwrap_or_default();
    let text = format!("{header}\n{provider}\n[secrets]\n");
    if replace {
        return replace_file(path, text, wait);
    }
    if !path.exists() {
        match plan::create(path, text.as_bytes(), 0o644) {
            Ok(()) => return Ok(Written::Created),
            // Someone else created it meanwhile: add to theirs.
            Err(fnox_core::Error::Create { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
    }
    let added = plan::edit_file(path, wait, |text| edit::add_provider(text, name, fields))?;
    Ok(if added { Written::Updated } else { Written::Unchanged })
}

/// `--force`: under the lock of `path`, writes its text to
/// `PATH.backup-SECONDS` (mode 0600, never over an existing file), then
/// replaces it with `text`.
fn replace_file(
    path: &Path,
    text: String,
    wait: &fnox_core::config::write::LockWait,
) -> Result<Written, CommandError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".backup-{now}"));
    let backup = path.with_file_name(name);
    let mut failed = None;
    plan::edit_file(path, wait, |old| match plan::create(&backup, old.as_bytes(), 0o600) {
        Ok(()) => Ok(Some(text)),
        Err(e) => {
            failed = Some(e);
            Ok(None)
        }
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(Written::Replaced(backup)),
    }
}
