//! `fnox import [FORMAT|FILE]`.

mod dotenv;
mod input;
mod plan;
mod structured;

use std::{collections::BTreeSet, path::PathBuf};

use fnox_core::{
    Project,
    plan::{Change, LocalKeyUse, WritePlan},
    value::FileKeys,
    words,
};

use self::{
    dotenv::Entry,
    plan::{Action, Row},
};
use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Encrypt every entry of a .env, JSON, TOML or YAML file (or stdin) into
/// fnox.toml.
///
/// The first argument is a format (env, json, toml, yaml) or, for .env
/// input, the file itself: `fnox import .env` and `fnox import env -i .env`
/// are the same. A .env file is read as dotenv: comments, `export `
/// prefixes, single and double quotes, multi-line values; `$NAME` and
/// `${NAME}` in unquoted and double-quoted values stand for an entry
/// defined earlier in the same file; any other `$` text is kept as written
/// (the environment of whoever runs the import is never read). JSON, TOML
/// and YAML input is one object of names and values (or the `secrets` of an
/// export document); a string is taken as it is, a boolean or an integer
/// as its text, anything else is refused. All entries are encrypted first,
/// then written in one atomic write per file. Existing secrets are not
/// overwritten unless --force is given; entries with an empty value are
/// skipped unless --allow-empty is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox import .env                       encrypt every entry with the default provider
  fnox import .env.production -P production --provider kms
  heroku config -s | fnox import         read .env lines from stdin
  fnox import json -i secrets.json --filter '^STRIPE_' --prefix PROD_
  fnox import .env --dry-run             list what would be imported

A first argument named like a format (env, dotenv, json, toml, yaml, yml) is
the format; to import a file with one of those names, pass it with -i.")]
pub struct Args {
    /// The input format: env (default), json, toml or yaml; or the .env
    /// file to read (default: stdin).
    #[arg(value_name = "FORMAT|FILE")]
    pub source: Option<PathBuf>,

    /// The file to read (`-` or none: stdin).
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Only the entries whose name this regular expression matches
    /// (anywhere in the name: anchor it with ^ and $), before --prefix.
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,

    /// Put this in front of every imported name (after --filter).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Encrypt with this provider (default: `default_provider`, else the
    /// only provider).
    #[arg(short, long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Show what would happen to each entry (new, replace, exists, skip),
    /// with its line and the references it expands; change nothing. Exits
    /// as the import would.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Keep every `$NAME` and `${NAME}` as written, even for earlier entries
    /// (.env input; other formats never expand).
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
    let filter = input::filter(args.filter.as_deref())?;
    let input = input::read(ui, env.cwd(), &args)?;
    let (source, from_file) = (input.source.clone(), input.path.is_some());
    let prefix = args.prefix.as_deref().unwrap_or_default();
    let entries = input::entries(&input, !args.no_expand, filter.as_ref(), prefix)?;
    drop(input);
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
    if from_file {
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
    let (stored, keys) = seal_all(project, provider_name, rows)?;
    let mut plan =
        WritePlan::new().with_lock_wait(env.fnox.lock_wait()?).with_context(env.fnox.context());
    for (file, write) in keys.writes() {
        plan.data_key(file.clone(), write.clone());
    }
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

/// Encrypts the value of every entry of `rows` with provider `provider_name`
/// (in data-key mode under each file's data key, made once if needed); also
/// the `[data_keys]` changes the write must make.
fn seal_all(
    project: &Project,
    provider_name: &str,
    rows: &[Row<'_>],
) -> Result<(Vec<String>, FileKeys), CommandError> {
    let registry = project.registry();
    let stored = project.fnox().block_on(async {
        let provider = registry.get(provider_name).await?;
        let (mut out, mut keys) = (Vec::with_capacity(rows.len()), FileKeys::default());
        for row in rows {
            let file = &row.place.0;
            let line = project.config().data_key(file, provider_name);
            let sealed = keys
                .seal(provider.as_ref(), provider_name, file, line, &row.name, &row.entry.value)
                .await
                .map_err(|source| fnox_core::Error::Encrypt {
                    name: row.name.clone(),
                    provider: provider_name.to_string(),
                    file: file.clone(),
                    source,
                })?;
            out.push(sealed);
        }
        Ok::<_, fnox_core::Error>((out, keys))
    })??;
    Ok(stored)
}
