//! `fnox import [FILE]`.

mod dotenv;

use std::{collections::BTreeMap, io::Read, path::PathBuf};

use zeroize::Zeroizing;

use fnox_core::{
    Project,
    config::{ConfigError, is_valid_name},
    plan::{Change, LocalKeyUse, WritePlan},
    value,
};

use self::dotenv::{Entry, ParseError};
use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Encrypt every entry of a .env file (or stdin) into fnox.toml.
///
/// The file is read as dotenv: comments, `export ` prefixes, single and
/// double quotes, multi-line values. `$NAME` and `${NAME}` in unquoted and
/// double-quoted values stand for an entry defined earlier in the same
/// file; any other `$` text is kept as written (the environment of whoever
/// runs the import is never read). All entries are encrypted first, then
/// written in one atomic write per file. Existing secrets are not
/// overwritten unless --force is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox import .env                       encrypt every entry with the default provider
  fnox import .env.production -P production --provider kms
  heroku config -s | fnox import         read from stdin
  fnox import .env --dry-run             list what would be imported")]
pub struct Args {
    /// The .env file (default: stdin).
    pub file: Option<PathBuf>,

    /// Encrypt with this provider (default: `default_provider`, else the
    /// only provider).
    #[arg(short, long, value_name = "NAME")]
    pub provider: Option<String>,

    /// List the entries that would be imported, with their line and the
    /// references each expands; change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Keep every `$NAME` and `${NAME}` as written, even for earlier entries.
    #[arg(long)]
    pub no_expand: bool,

    /// Overwrite secrets that already exist.
    #[arg(short, long)]
    pub force: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let (source, entries) = read_entries(&args)?;
    let project = env.load_to_write(ui)?;
    let config = project.config();
    let new_profile = super::set::new_profile_words(config);
    let provider_name =
        args.provider.clone().or_else(|| config.default_provider.clone()).ok_or_else(|| {
            fnox_core::Error::NoDefaultProvider {
                name: entries.keys().next().cloned().unwrap_or_default(),
                defined: config.provider_names(),
            }
        })?;
    if !config.providers.contains_key(&provider_name) {
        return Err(fnox_core::Error::UnknownProvider {
            name: provider_name,
            defined: config.provider_names(),
        }
        .into());
    }
    let existing: Vec<&String> = entries
        .keys()
        .filter(|n| config.secrets.get(*n).is_some_and(|d| d.in_profile == config.in_profile()))
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(CommandError::user(format!(
            "{} already defined: {}; pass --force to overwrite",
            if existing.len() == 1 { "this secret is" } else { "these secrets are" },
            existing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let places = places(&project, &entries)?;
    if args.dry_run {
        let mut out = String::new();
        for ((name, entry), (file, _)) in entries.iter().zip(&places) {
            let what = if existing.contains(&name) { "replace" } else { "new" };
            out.push_str(&format!(
                "{name}  {what}  {}  {provider_name}  {source}:{}{}\n",
                ui.path(file),
                entry.line,
                expansion_note(entry)
            ));
        }
        out.push_str(&format!(
            "dry run: {} secret{} would be imported; nothing was written\n",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" }
        ));
        ui.stdout(out.as_bytes())?;
        return Ok(ExitStatus::SUCCESS);
    }
    let stored = seal_all(&project, &provider_name, &entries, &places)?;
    let mut plan = WritePlan::new().with_lock_wait(env.fnox.lock_wait()?);
    let mut files = std::collections::BTreeSet::new();
    for (((name, _), (file, table)), value) in entries.iter().zip(places).zip(stored) {
        let local_key = LocalKeyUse::of(project.registry(), &provider_name, &value);
        let mut change = Change::new(table, name, value);
        change.provider = Some(provider_name.clone());
        change.local_key = local_key;
        files.insert(ui.path(&file));
        plan.change(file, change);
    }
    plan.commit()?;
    ui.note(&format!(
        "imported {} secret{} (provider `{provider_name}`) into {}{new_profile}",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        files.into_iter().collect::<Vec<_>>().join(", ")
    ));
    Ok(ExitStatus::SUCCESS)
}

/// Where each entry goes: its current entry, else the nearest fnox.toml.
fn places(
    project: &Project,
    entries: &BTreeMap<String, Entry>,
) -> Result<Vec<(PathBuf, Vec<String>)>, CommandError> {
    let config = project.config();
    let new_table = if config.in_profile() {
        vec!["profiles".to_string(), config.profile.clone(), "secrets".to_string()]
    } else {
        vec!["secrets".to_string()]
    };
    let target = config
        .write_target
        .clone()
        .ok_or_else(|| ConfigError::NotFound { cwd: project.fnox().env().cwd().to_path_buf() })?;
    Ok(entries
        .keys()
        .map(|name| {
            match config.secrets.get(name).filter(|d| d.in_profile == config.in_profile()) {
                Some(def) => (def.at.file.clone(), def.table.clone()),
                None => (target.clone(), new_table.clone()),
            }
        })
        .collect())
}

/// Encrypts every entry with provider `provider_name`.
fn seal_all(
    project: &Project,
    provider_name: &str,
    entries: &BTreeMap<String, Entry>,
    places: &[(PathBuf, Vec<String>)],
) -> Result<Vec<String>, CommandError> {
    let registry = project.registry();
    let stored = project.fnox().block_on(async {
        let provider = registry.get(provider_name).await?;
        let mut out = Vec::with_capacity(entries.len());
        for ((name, entry), (file, _)) in entries.iter().zip(places) {
            let sealed = value::seal(provider.as_ref(), name, &entry.value, false).await.map_err(
                |source| fnox_core::Error::Encrypt {
                    name: name.clone(),
                    provider: provider_name.to_string(),
                    file: file.clone(),
                    source,
                },
            )?;
            out.push(sealed);
        }
        Ok::<_, fnox_core::Error>(out)
    })??;
    Ok(stored)
}

/// The entries of the .env input, by name (a later duplicate wins), and
/// where the input came from.
fn read_entries(args: &Args) -> Result<(String, BTreeMap<String, Entry>), CommandError> {
    let (source, text) = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let bytes = std::fs::read(path)
                .map_err(|e| CommandError::io(format!("cannot read {}", path.display()), e))?;
            (path.display().to_string(), Zeroizing::new(bytes))
        }
        _ => {
            let mut buf = Zeroizing::new(Vec::new());
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CommandError::io("cannot read stdin", e))?;
            ("stdin".to_string(), buf)
        }
    };
    let parsed = dotenv::parse(&text, !args.no_expand).map_err(|e| match e {
        ParseError::NotUtf8 => CommandError::user(format!("{source} is not UTF-8 text")),
        ParseError::NotAnEntry { line } => CommandError::user(format!(
            "{source}:{line}: cannot parse a line that is not NAME=VALUE"
        )),
        // A name is shown only when it is one: a line that is not may be a
        // stray piece of a value.
        ParseError::BadValue { line, name } if is_valid_name(&name) => CommandError::user(format!(
            "{source}:{line}: cannot parse the entry `{name}` (check its quotes and escapes)"
        )),
        ParseError::BadValue { line, .. } => CommandError::user(format!(
            "{source}:{line}: cannot parse an entry (check its quotes and escapes)"
        )),
    })?;
    let mut entries = BTreeMap::new();
    for entry in parsed {
        if !is_valid_name(&entry.name) {
            return Err(CommandError::user(format!(
                "{source}: `{}` is not a valid secret name",
                entry.name
            )));
        }
        entries.insert(entry.name.clone(), entry);
    }
    if entries.is_empty() {
        return Err(CommandError::user(format!("{source} has no entries to import")));
    }
    Ok((source, entries))
}

/// What `--dry-run` says about one entry's references (never its value).
fn expansion_note(entry: &Entry) -> String {
    let mut notes = Vec::new();
    if !entry.expanded.is_empty() {
        notes.push(format!("expanded {}", entry.expanded.join(", ")));
    }
    match entry.literal {
        0 => {}
        1 => notes.push("1 reference kept literal".to_string()),
        n => notes.push(format!("{n} references kept literal")),
    }
    if notes.is_empty() { String::new() } else { format!("  {}", notes.join("; ")) }
}
