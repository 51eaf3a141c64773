//! What `init` makes for each provider before fnox.toml is written: the
//! `local` key, the age identity, and the `.gitignore` lines that keep
//! them (created or found) out of git.

use std::path::Path;

use fnox_core::{
    config::{LocalConfig, Location, ProviderConfig, ProviderDef, edit::Value},
    git,
    providers::{ProviderError, age, keyring_file, local},
};

use super::{Args, CommandError, Ui};

/// A provider's entry for fnox.toml, and what its setup did.
pub(super) struct Setup {
    /// The provider table's fields.
    pub fields: Vec<(&'static str, Value)>,
    /// Shown after the provider's name when fnox.toml is written.
    pub about: Option<String>,
    /// True when something was created (a key, an identity, a line in a
    /// `.gitignore`).
    pub changed: bool,
    /// age: this machine's recipient.
    pub recipient: Option<String>,
}

/// In a git working tree, makes git ignore `path` unless it does already:
/// a line in the `.gitignore` of `dir` (fnox.toml's directory), or of the
/// tree's top when `path` is outside `dir`; and says so. Outside a working
/// tree, nothing. True when a `.gitignore` was created or changed.
pub(super) fn ignore_in_git(ui: &Ui, dir: &Path, path: &Path) -> Result<bool, CommandError> {
    let Some(top) = git::exposed(path) else { return Ok(false) };
    let (dir, line) = match git::ignore_line(dir, path) {
        Some(line) => (dir, line),
        None => match git::ignore_line(&top, path) {
            Some(line) => (top.as_path(), line),
            None => return Ok(false),
        },
    };
    let gitignore = dir.join(".gitignore");
    let created = git::add_to_gitignore(dir, &line)
        .map_err(|e| CommandError::io(format!("cannot update {}", ui.path(&gitignore)), e))?;
    let verb = if created { "created" } else { "updated" };
    ui.note(&format!("{verb} {} so that git ignores {line}", ui.path(&gitignore)));
    Ok(true)
}

/// The `local` provider: its keyring is created unless it exists (or the
/// key comes from `FNOX_LOCAL_KEY`), in a file protected with a passphrase
/// with `--passphrase`, in the OS keychain with `--keychain`. An `existing`
/// provider's own settings say where its keyring is, so that is the one
/// made.
pub(super) fn local(
    ui: &Ui,
    env: &super::Env,
    dir: &Path,
    existing: Option<&ProviderDef>,
    args: &Args,
) -> Result<Setup, CommandError> {
    let ctx = env.fnox.context();
    let (config, base) = match existing {
        Some(ProviderDef { config: ProviderConfig::Local(c), at, name, .. }) => {
            if args.keychain && !c.keychain {
                return Err(CommandError::usage(format!(
                    "provider `{name}` in {} keeps its keyring in a file; to move it into the OS keychain, add key_store = \"keychain\" to it and `fnox keys import` the export of the file's keys",
                    ui.path(&at.file)
                )));
            }
            (c.clone(), at.file.parent().map_or_else(|| dir.to_path_buf(), Path::to_path_buf))
        }
        _ => (LocalConfig { keychain: args.keychain, ..LocalConfig::default() }, dir.to_path_buf()),
    };
    let mut fields = vec![("type", "local".into())];
    if config.keychain {
        fields.push(("key_store", "keychain".into()));
    }
    match local::key_source(ctx, &config, &base) {
        local::KeySource::File(path) => local_file(ui, ctx, dir, &path, fields, args.passphrase),
        local::KeySource::Keychain(item) => {
            if args.passphrase {
                return Err(CommandError::usage(
                    "--passphrase protects a keyring file; this provider's keyring is in the OS keychain, which the system unlocks",
                ));
            }
            local_keychain(ui, &item, fields)
        }
        local::KeySource::Env | local::KeySource::Given => {
            if args.passphrase {
                return Err(CommandError::usage(format!(
                    "--passphrase protects a keyring file; this provider's key comes from {}",
                    local::ENV_KEY
                )));
            }
            let about = Some(format!("key from {}", local::ENV_KEY));
            Ok(Setup { fields, about, changed: false, recipient: None })
        }
    }
}

/// A `local` keyring in the OS keychain: created unless the item exists.
fn local_keychain(
    ui: &Ui,
    item: &fnox_core::providers::keychain::Keychain,
    fields: Vec<(&'static str, Value)>,
) -> Result<Setup, CommandError> {
    let provider_error = |source| fnox_core::Error::Provider {
        provider: "local".into(),
        at: Location::new(item.account.clone(), 0),
        source,
    };
    // One read of the item when it is there (each is a round trip to the
    // keychain); a second, creating it, when it is not.
    let (ring, existed) = match local::load_or_create_in(item, false) {
        Ok(ring) => (ring, true),
        Err(ProviderError::NoKeychainKey { .. }) => {
            (local::load_or_create_in(item, true).map_err(provider_error)?, false)
        }
        Err(e) => return Err(provider_error(e).into()),
    };
    let id = ring.primary().id_hex();
    if existed {
        ui.note(&format!("using the local key {id} in the {item}"));
    } else {
        ui.note(&format!("created local key {id} in the {item}"));
    }
    Ok(Setup { fields, about: None, changed: !existed, recipient: None })
}

/// A `local` keyring file: created unless it exists, made to be ignored by
/// git, protected with a passphrase when `passphrase`.
fn local_file(
    ui: &Ui,
    ctx: &fnox_core::providers::Context,
    dir: &Path,
    path: &Path,
    fields: Vec<(&'static str, Value)>,
    passphrase: bool,
) -> Result<Setup, CommandError> {
    let existed = path.exists();
    let ignored = ignore_in_git(ui, dir, path)?;
    let provider_error = |source| fnox_core::Error::Provider {
        provider: "local".into(),
        at: Location::new(path, 0),
        source,
    };
    let shown = ui.path(path);
    let bytes = local::read_key_bytes(path, &ctx.notify).map_err(provider_error)?;
    if bytes.as_deref().is_some_and(|b| keyring_file::is_protected(b)) {
        // Its key id is behind the passphrase; nothing here needs it.
        ui.note(&format!("using the local keyring {shown}, protected with a passphrase"));
        return Ok(Setup { fields, about: None, changed: ignored, recipient: None });
    }
    let ring = if passphrase && !existed {
        let typed = fnox_core::keys::ask_new_passphrase(ctx, path)?;
        local::create_protected(path, &typed, ctx).map_err(provider_error)?
    } else {
        local::load_or_create(path, true, ctx).map_err(provider_error)?
    };
    let id = ring.primary().id_hex();
    match (existed, passphrase) {
        (false, true) => {
            ui.note(&format!("created local key {id} in {shown}, protected with a passphrase"));
        }
        (false, false) => ui.note(&format!("created local key {id} in {shown}")),
        (true, _) => ui.note(&format!("using the local key {id} in {shown}")),
    }
    if passphrase && existed {
        protect_existing(ui, ctx, path)?;
    }
    Ok(Setup { fields, about: None, changed: ignored || !existed, recipient: None })
}

/// `init --passphrase` with a keyring there already: protects it unless it
/// is protected.
fn protect_existing(
    ui: &Ui,
    ctx: &fnox_core::providers::Context,
    path: &Path,
) -> Result<(), CommandError> {
    match fnox_core::keys::protect(path, ctx) {
        Ok(()) => {
            ui.note(&format!("protected {} with a passphrase", ui.path(path)));
            Ok(())
        }
        Err(fnox_core::Error::KeyringProtected { .. }) => {
            ui.note(&format!("{} is protected with a passphrase already", ui.path(path)));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The `age` provider: this machine's identity (created unless it exists)
/// and its recipient.
pub(super) fn age(ui: &Ui, env: &super::Env, dir: &Path) -> Result<Setup, CommandError> {
    let path = age::identity_file(env.fnox.context());
    let ignored = ignore_in_git(ui, dir, &path)?;
    let (recipient, created) = match age::load_or_create_identity(&path, &env.fnox.context().notify)
    {
        Ok(age::IdentityFile::Found(r)) => {
            ui.note(&format!("using the age identity in {}", ui.path(&path)));
            (r, false)
        }
        Ok(age::IdentityFile::Created(r)) => {
            ui.note(&format!("created age identity {}", ui.path(&path)));
            (r, true)
        }
        Err(source) => {
            let err = fnox_core::Error::Provider {
                provider: "age".into(),
                at: Location::new(path.clone(), 0),
                source,
            };
            return Err(CommandError::from(err)
                    .hint("add the provider by hand with your recipient, or point FNOX_AGE_KEY_FILE at an age identity"));
        }
    };
    let mut recipients = fnox_core::config::edit::Array::new();
    recipients.push(recipient.as_str());
    Ok(Setup {
        fields: vec![("type", "age".into()), ("recipients", Value::Array(recipients))],
        about: Some(format!("recipient {recipient}")),
        changed: ignored || created,
        recipient: Some(recipient),
    })
}

/// The `aws-kms` provider: settings only, nothing to create.
pub(super) fn aws_kms(args: &Args) -> Setup {
    let mut fields = vec![("type", Value::from("aws-kms"))];
    let key = args.key_id.clone().unwrap_or_default();
    fields.push(("key_id", Value::from(key.as_str())));
    if let Some(region) = &args.region {
        fields.push(("region", Value::from(region.as_str())));
    }
    Setup { fields, about: Some(format!("key {key}")), changed: false, recipient: None }
}
