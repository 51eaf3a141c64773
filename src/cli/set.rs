//! `fnox set NAME [VALUE]`.

mod input;
mod settings;

use std::{path::PathBuf, sync::Arc};

use fnox_core::{
    Fnox, Project, SecretBytes,
    config::{Config, ConfigError, SecretDef, edit::EditError, is_valid_name},
    keys,
    plan::{Change, LocalKeyUse, WritePlan},
    providers::Registry,
    value,
};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Encrypt a value and store it in fnox.toml.
///
/// The value comes from VALUE, else from stdin when it is not a terminal
/// (one trailing newline dropped unless --raw), else from a hidden prompt.
/// With --default or --if-missing and no VALUE or --from-file (or -d alone
/// on a terminal), only those settings of the entry change: no value is
/// read. The entry is updated in the file that defines it; a new one goes
/// to the nearest fnox.toml ([profiles.NAME.secrets] with --profile). Only
/// that entry's line changes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox set DATABASE_URL                      prompt for the value (hidden)
  printf %s \"$TOKEN\" | fnox set API_TOKEN    read it from stdin
  fnox set TLS_KEY --from-file server.key    store a file's bytes verbatim
  fnox set -P production API_TOKEN < token   a production-only value
  fnox set LOG_LEVEL --default info          a plain setting, no value")]
pub struct Args {
    /// Secret name (an environment variable name: [A-Za-z_][A-Za-z0-9_]*).
    pub name: String,

    /// The value. Prefer stdin or the prompt: a value on the command line
    /// is visible in shell history and to `ps`.
    pub value: Option<String>,

    /// Encrypt with this provider (default: the entry's current provider,
    /// else `default_provider`, else the only provider).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Read the value from this file, byte for byte.
    #[arg(long, value_name = "PATH", conflicts_with = "value")]
    pub from_file: Option<PathBuf>,

    /// Keep stdin's bytes verbatim (do not drop one trailing newline).
    #[arg(long)]
    pub raw: bool,

    /// Accept an empty value (otherwise empty input is refused, so that a
    /// failed command in a pipe cannot blank a secret).
    #[arg(long)]
    pub allow_empty: bool,

    /// Store the value in the envelope format (a data key encrypts it, the
    /// provider wraps only the data key). Automatic above the provider's
    /// direct limit (aws-kms: 4096 bytes, vault-transit: 32 KiB) and with
    /// the provider's `envelope = true`.
    #[arg(long)]
    pub envelope: bool,

    /// A description, shown by `fnox list`.
    #[arg(short, long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Write `default = "TEXT"`: what the secret gives when it has no
    /// value (a plain setting, in the file in clear).
    #[arg(long, value_name = "TEXT")]
    pub default: Option<String>,

    /// Write the entry's `if_missing`: what to do when it has no value.
    #[arg(long, value_name = "MODE", value_parser = ["error", "warn", "ignore"])]
    pub if_missing: Option<String>,

    /// Encode the value in base64 (standard, padded) before it is
    /// encrypted; `fnox get --base64-decode` gives the bytes back.
    #[arg(long)]
    pub base64_encode: bool,

    /// Write to the global config file ($FNOX_CONFIG_DIR/config.toml),
    /// with a provider that file defines.
    #[arg(short = 'g', long)]
    pub global: bool,

    /// Say what would change and change nothing (a value is read, but
    /// neither encrypted nor shown).
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// jdx/fnox's name of the value in a remote store: refused, as fnox's
    /// providers keep the encrypted value in the config file.
    #[arg(short = 'k', long, value_name = "NAME")]
    pub key_name: Option<String>,

    /// local: write the value even though the file's other values of the
    /// provider are under keys this machine does not have (the file then
    /// needs keys that no single machine may have).
    #[arg(long)]
    pub new_key_ok: bool,
}

/// How often `set` encrypts again when a rotation changed the `local` key
/// between encrypting and writing.
const ATTEMPTS: u32 = 5;

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    if let Some(key_name) = &args.key_name {
        return Err(CommandError::usage(format!(
            "--key-name `{key_name}` names a value kept in a remote store, and fnox's providers keep the encrypted value in the config file"
        ))
        .hint(format!("drop --key-name: the entry is `{}`", args.name)));
    }
    if !is_valid_name(&args.name) {
        return Err(CommandError::usage(format!(
            "`{}` is not a valid secret name: use letters, digits and `_`, not starting with a digit",
            args.name
        )));
    }
    let project = env.load_to_set(ui, &args.name, args.global)?;
    let new_profile = new_profile_words(project.config());
    if input::settings_only(&args) {
        return settings::run(ui, env, &project, &args, &new_profile);
    }
    let mut target = Target::find(&project, &args)?;
    if !args.new_key_ok {
        let missing = keys::missing_keys(&project, &target.provider, &target.file, &args.name)?;
        if !missing.is_empty() {
            return Err(fnox_core::Error::ForeignLocalKeys {
                file: target.file.clone(),
                provider: target.provider.clone(),
                key_ids: missing,
            }
            .into());
        }
    }
    // Large values: the loaded config (with the old value) is not needed any more.
    let (fnox, mut registry) = (project.fnox().clone(), project.registry().clone());
    project.release();
    let plaintext = input::read_value(ui, &args)?;
    // A `plain` provider writes the value itself: say so.
    let plain = registry.def(&target.provider).is_some_and(|d| d.config.kind() == "plain");
    let clear = if plain { ", plain: stored as written, not encrypted" } else { "" };
    let what = format!("{} (provider `{}`{clear})", args.name, target.provider);
    if args.dry_run {
        return settings::dry_run(ui, &what, &place(ui, &target.file, &target.table), &new_profile);
    }
    let mut attempt = 1;
    loop {
        match store(&fnox, &registry, &target, &args, &plaintext) {
            // A rotation made another key primary meanwhile, or another
            // `set` created the file's data key first: encrypt again.
            Err(
                fnox_core::Error::LocalKeyChanged { .. } | fnox_core::Error::DataKeyChanged { .. },
            ) if attempt < ATTEMPTS => {
                attempt += 1;
                let project = env.load_to_set(ui, &args.name, args.global)?;
                target = Target::find(&project, &args)?;
                registry = project.registry().clone();
            }
            result => break result?,
        }
    }
    drop(plaintext);
    ui.note(&format!("set {what} in {}{new_profile}", place(ui, &target.file, &target.table)));
    Ok(ExitStatus::SUCCESS)
}

/// `file` as notes show it, with the table when it is a profile's.
fn place(ui: &Ui, file: &std::path::Path, table: &[String]) -> String {
    if table.first().is_some_and(|t| t == "profiles") {
        format!("{} [{}]", ui.path(file), table.join("."))
    } else {
        ui.path(file)
    }
}

/// ` (new profile `NAME`)` when the active profile is not defined yet (the
/// write creates it), with the defined profiles it is nearest to; else
/// nothing.
pub(super) fn new_profile_words(config: &Config) -> String {
    if config.profile_defined() {
        return String::new();
    }
    let defined = config.defined_profiles();
    let near = fnox_core::suggest::nearest(&config.profile, defined.iter().map(String::as_str));
    if near.is_empty() {
        format!(" (new profile `{}`)", config.profile)
    } else {
        format!(
            " (new profile `{}`; did you mean {}?)",
            config.profile,
            super::hints::one_of(&near)
        )
    }
}

/// Encrypts `plaintext` with the target's provider and writes it; a
/// `local` value is written only while its key is still the primary one.
fn store(
    fnox: &Fnox,
    registry: &Arc<Registry>,
    target: &Target,
    args: &Args,
    plaintext: &SecretBytes,
) -> Result<(), fnox_core::Error> {
    let provider_name = target.provider.clone();
    let (stored, data_key) = fnox.block_on_for(registry, async {
        let provider = registry.get(&provider_name).await?;
        let line = target.data_key.as_deref();
        value::seal_in_file(&*provider, &provider_name, &args.name, plaintext, args.envelope, line)
            .await
            .map_err(|source| fnox_core::Error::Encrypt {
                name: args.name.clone(),
                provider: provider_name.clone(),
                file: target.file.clone(),
                source,
            })
    })??;
    let local_key = LocalKeyUse::of(registry, &target.provider, &stored);
    let mut change = Change::new(target.table.clone(), &args.name, stored);
    change.provider = Some(target.provider.clone());
    change.description = args.description.clone();
    change.settings =
        settings::of(args, false).into_iter().map(|(k, v)| (k, v.to_string())).collect();
    change.in_place = target.in_place.clone();
    change.insert_at = target.insert_at;
    change.local_key = local_key;
    let mut plan = WritePlan::new().with_lock_wait(fnox.lock_wait()?).with_context(fnox.context());
    plan.change(target.file.clone(), change);
    if let Some(write) = data_key {
        plan.data_key(target.file.clone(), write);
    }
    plan.commit()
}

/// Where `set` writes: the file, table and provider, and the old value's
/// token when only the value changes (replaced in place).
struct Target {
    file: PathBuf,
    table: Vec<String>,
    provider: String,
    in_place: Option<(std::ops::Range<usize>, u64)>,
    /// For a new entry: where its line goes (see `Config::new_entry_at`).
    insert_at: Option<(usize, u64)>,
    /// The file's `[data_keys]` entry of the provider, as loaded.
    data_key: Option<String>,
}

impl Target {
    fn find(project: &Project, args: &Args) -> Result<Self, CommandError> {
        let config = project.config();
        let (file, table, existing) = entry_place(project, &args.name)?;
        // Refused before the value is read: the write would refuse it too.
        if let Some(def) = existing.filter(|d| d.sensitive == Some(false)) {
            let source = EditError::NotSensitive(def.name.clone());
            return Err(fnox_core::Error::Edit { path: def.at.file.to_path_buf(), source }.into());
        }
        let provider = args
            .provider
            .clone()
            .or_else(|| existing.and_then(|d| d.provider.clone()))
            // A new profile override keeps the provider of the entry it overrides.
            .or_else(|| config.secrets.get(&args.name).and_then(|d| d.provider.clone()))
            .or_else(|| config.default_provider.clone())
            .ok_or_else(|| fnox_core::Error::NoDefaultProvider {
                name: args.name.clone(),
                defined: config.provider_names(),
            })?;
        let in_place = existing
            .filter(|d| d.provider.as_deref() == Some(provider.as_str()))
            .filter(|_| args.description.is_none() && settings::of(args, false).is_empty())
            .and_then(|d| d.value_span.clone());
        let data_key = config.data_key(&file, &provider).map(str::to_string);
        let insert_at = match existing {
            None => config.new_entry_at(&file, &table),
            Some(_) => None,
        };
        Ok(Self { file, table, provider, in_place, insert_at, data_key })
    }
}

/// Where the entry `name` of the active profile is (its file and table, and
/// the entry) or, for a new one, goes.
fn entry_place<'p>(
    project: &'p Project,
    name: &str,
) -> Result<(PathBuf, Vec<String>, Option<&'p SecretDef>), CommandError> {
    let config = project.config();
    let existing = config.secrets.get(name).filter(|d| d.in_profile == config.in_profile());
    if let Some(def) = existing {
        return Ok((def.at.file.to_path_buf(), def.table.to_vec(), Some(def)));
    }
    let (file, table) = config
        .new_entry_place(name)
        .ok_or_else(|| ConfigError::NotFound { cwd: project.fnox().env().cwd().to_path_buf() })?;
    Ok((file, table, None))
}
