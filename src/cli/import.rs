//! `fnox import [FILE]`.

mod dotenv;
mod plan;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Read,
    path::PathBuf,
};

use zeroize::Zeroizing;

use fnox_core::{
    Project,
    config::is_valid_name,
    plan::{Change, LocalKeyUse, WritePlan},
    value, words,
};

use self::{
    dotenv::{Entry, ParseError},
    plan::{Action, Row},
};
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
/// overwritten unless --force is given; entries with an empty value are
/// skipped unless --allow-empty is given.
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

    /// Show what would happen to each entry (new, replace, exists, skip),
    /// with its line and the references it expands; change nothing. Exits
    /// as the import would.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Keep every `$NAME` and `${NAME}` as written, even for earlier entries.
    #[arg(long)]
    pub no_expand: bool,

    /// Overwrite secrets that already exist.
    #[arg(short, long)]
    pub force: bool,

    /// Import entries with an empty value too (otherwise they are skipped,
    /// with a note, as `set` refuses an empty value).
    #[arg(long)]
    pub allow_empty: bool,
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
    let rows = plan::rows(&project, &entries, args.force, args.allow_empty)?;
    if args.dry_run {
        ui.report(&plan::table(ui, &rows, &provider_name, &source, args.force))?;
    }
    plan::refusals(&rows, &source)?;
    if args.dry_run {
        return Ok(ExitStatus::SUCCESS);
    }
    let skipped: Vec<&str> =
        rows.iter().filter(|r| r.action == Action::Skip).map(|r| r.name.as_str()).collect();
    if !skipped.is_empty() {
        ui.note(&format!(
            "skipped {} ({}); pass --allow-empty to import {}",
            words::count(skipped.len(), "empty entry", "empty entries"),
            skipped.join(", "),
            words::noun(skipped.len(), "it", "them")
        ));
    }
    let rows: Vec<Row<'_>> = rows.into_iter().filter(|r| r.action != Action::Skip).collect();
    let files = write(env, &project, &provider_name, &rows)?;
    ui.note(&format!(
        "imported {} (provider `{provider_name}`) into {}{new_profile}",
        words::count(rows.len(), "secret", "secrets"),
        files.iter().map(|f| ui.path(f)).collect::<Vec<_>>().join(", ")
    ));
    if args.file.as_ref().is_some_and(|f| f.as_os_str() != "-") {
        ui.note(&format!(
            "{source} still holds the plaintext; delete it when you no longer need it"
        ));
    }
    Ok(ExitStatus::SUCCESS)
}

/// Encrypts the entries of `rows` with provider `provider_name` and writes
/// them, one atomic write per file. Returns the files written.
fn write(
    env: &Env,
    project: &Project,
    provider_name: &str,
    rows: &[Row<'_>],
) -> Result<BTreeSet<PathBuf>, CommandError> {
    let stored = seal_all(project, provider_name, rows)?;
    let mut plan = WritePlan::new().with_lock_wait(env.fnox.lock_wait()?);
    let mut files = BTreeSet::new();
    for (row, value) in rows.iter().zip(stored) {
        let local_key = LocalKeyUse::of(project.registry(), provider_name, &value);
        let (file, table) = row.place.clone();
        let mut change = Change::new(table, &row.name, value);
        change.provider = Some(provider_name.to_string());
        change.local_key = local_key;
        files.insert(file.clone());
        plan.change(file, change);
    }
    plan.commit()?;
    Ok(files)
}

/// Encrypts the value of every entry of `rows` with provider `provider_name`.
fn seal_all(
    project: &Project,
    provider_name: &str,
    rows: &[Row<'_>],
) -> Result<Vec<String>, CommandError> {
    let registry = project.registry();
    let stored = project.fnox().block_on(async {
        let provider = registry.get(provider_name).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let sealed = value::seal(provider.as_ref(), &row.name, &row.entry.value, false)
                .await
                .map_err(|source| fnox_core::Error::Encrypt {
                name: row.name.clone(),
                provider: provider_name.to_string(),
                file: row.place.0.clone(),
                source,
            })?;
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
