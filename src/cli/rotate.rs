//! `fnox rotate`.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::IsTerminal,
    sync::Arc,
    time::Instant,
};

use fnox_core::rotate::{self, Method, Options, Outcome, Request, Retirement, Rotation};
use fnox_core::words::count;

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Re-encrypt secrets under their provider's current configuration, or
/// move them to another provider. All or nothing. (`reencrypt` is
/// jdx/fnox's name for it: -f/--force = --yes.)
///
/// Every selected value is re-encrypted in memory first; if any fails,
/// nothing is written and every failure is listed. Then each file is
/// written once, atomically, under its lock. aws-kms values move with
/// ReEncrypt (the plaintext never leaves KMS); envelope values change only
/// their wrapped data key. Values in the global config file are left alone
/// unless --global is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox rotate --dry-run                     show what would change, and how
  fnox rotate --provider local --new-key    new local key, re-encrypt every local value
  fnox rotate --provider local --retire-old retire local keys no value uses any more
  fnox rotate --older-than 90d --yes        only values under local keys older than 90 days
  fnox rotate --provider age --yes          re-encrypt to the current recipients
  fnox rotate --all-profiles --provider kms after changing the KMS key_id
  fnox rotate --to kms DATABASE_URL         move a secret to another provider
  fnox reencrypt --filter '^STRIPE_' -f     jdx/fnox's spelling: names matching a regex")]
pub struct Args {
    /// Only these secrets (default: every secret with a value).
    pub names: Vec<String>,

    /// Only secrets of this provider.
    #[arg(short = 'p', long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Only secrets whose name matches this regular expression (anywhere
    /// in the name; `^...$` for the whole name).
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,

    /// Move the selected secrets to this provider.
    #[arg(long, value_name = "PROVIDER")]
    pub to: Option<String>,

    /// Every profile, not only the active one.
    #[arg(long)]
    pub all_profiles: bool,

    /// Also rotate values in the global config file.
    #[arg(long)]
    pub global: bool,

    /// local: create a new primary key first and re-encrypt under it.
    #[arg(long)]
    pub new_key: bool,

    /// Only values under a `local` key older than AGE (30s, 12h, 90d, 2w),
    /// the key their ciphertext names; a primary key older than AGE is
    /// replaced first (as with --new-key). A key without a created date is
    /// not selected.
    #[arg(long, value_name = "AGE", value_parser = parse_age, conflicts_with_all = ["to", "new_key"])]
    pub older_than: Option<std::time::Duration>,

    /// local: afterwards, retire the old keys (refused while a value still
    /// needs one): they stop encrypting and are kept to decrypt until
    /// `fnox keys delete-retired`.
    #[arg(long)]
    pub retire_old: bool,

    /// Envelope values: re-encrypt the payloads under fresh data keys.
    #[arg(long)]
    pub new_data_key: bool,

    /// Show the plan (each secret and its method); change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short, long, visible_short_alias = 'f', visible_alias = "force")]
    pub yes: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let started = Instant::now();
    if let Some(why) = ui.cannot_ask().filter(|_| !args.dry_run && !args.yes) {
        return Err(CommandError::usage(format!(
            "rotate changes files; pass --yes to confirm ({why})"
        )));
    }
    let request = Request {
        names: args.names.clone(),
        provider: args.provider.clone(),
        to: args.to.clone(),
        all_profiles: args.all_profiles,
        global: args.global,
        new_key: args.new_key,
        retire_old: args.retire_old,
        older_than: args.older_than,
    };
    let filter = match &args.filter {
        None => None,
        Some(re) => Some(regex::Regex::new(re).map_err(|e| {
            CommandError::usage(format!("--filter is not a valid regular expression: {e}"))
        })?),
    };
    let first = env.load(ui)?;
    let mut rotation =
        rotate::prepare(&env.fnox, &env.load, first, &request).map_err(|e| match e {
            fnox_core::Error::NewKeyWithoutKeyring => CommandError::usage(format!(
                "{} needs the keyring (a file or the OS keychain), but FNOX_LOCAL_KEY is set; unset it",
                if args.older_than.is_some() { "--older-than" } else { "--new-key" }
            )),
            fnox_core::Error::NewKeyWithoutLocalProvider => {
                CommandError::usage("--new-key: no `local` provider is selected")
            }
            other => other.into(),
        })?;
    if let Some(filter) = &filter {
        rotation.jobs.retain(|job| filter.is_match(&job.def.name));
    }
    if rotation.jobs.is_empty() && !args.retire_old {
        ui.note("no secret matches; nothing to rotate");
        return Ok(ExitStatus::SUCCESS);
    }
    let outcomes = rotate_all(ui, env, &rotation, &args)?;
    let retire = if args.retire_old {
        rotate::plan_retirement(&rotation, &outcomes).map_err(|e| in_words(ui, e))?
    } else {
        Vec::new()
    };
    print_plan(ui, &outcomes, args.dry_run)?;
    if args.dry_run {
        for (store, ids) in &retire {
            ui.note(&format!("would retire local keys {} in {store}", ids.join(", ")));
        }
        return Ok(ExitStatus::SUCCESS);
    }
    let changes = outcomes.iter().filter(|o| o.new_value.is_some()).count();
    if changes == 0 && data_key_changes(&outcomes).is_empty() && retire.is_empty() {
        // Nothing to ask about: every value is current.
        summary(ui, &outcomes, started);
        return Ok(ExitStatus::SUCCESS);
    }
    if !args.yes && !confirm(ui, changes, &retire)? {
        ui.note("nothing written");
        return Ok(ExitStatus::SUCCESS);
    }
    rotate::commit(&rotation, &outcomes, retire.clone(), env.fnox.lock_wait()?)
        .map_err(|e| in_words(ui, e))?;
    for (store, ids) in &retire {
        ui.note(&format!(
            "retired local keys {} in {store}: they no longer encrypt and still decrypt; `fnox keys delete-retired` deletes them",
            ids.join(", "),
        ));
    }
    summary(ui, &outcomes, started);
    Ok(ExitStatus::SUCCESS)
}

/// `--older-than AGE`.
fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    fnox_core::key_age::parse_age(text)
        .ok_or_else(|| format!("expected {}", fnox_core::key_age::AGE_FORMAT))
}

/// The errors whose words are rotate's own.
fn in_words(ui: &Ui, err: fnox_core::Error) -> CommandError {
    match err {
        fnox_core::Error::ChangedMeanwhile { name, path } => CommandError::user(format!(
            "secret `{name}` in {} changed while rotate ran; nothing was written, run rotate again",
            ui.path(&path)
        )),
        fnox_core::Error::KeysStillUsed { path, provider, users } => CommandError::user(format!(
            "cannot retire old local keys of {}: {} them: {}; run `fnox rotate --provider {provider} --all-profiles` first",
            path.display(),
            count(users.len(), "value still uses", "values still use"),
            users.join(", ")
        )),
        other => other.into(),
    }
}

/// Rotates every job in memory, with a progress bar on a terminal; any
/// failure fails the whole rotation, listing every failure.
fn rotate_all(
    ui: &Ui,
    env: &Env,
    rotation: &Rotation,
    args: &Args,
) -> Result<Vec<Outcome>, CommandError> {
    let bar = progress_bar(ui, rotation.jobs.len());
    let tick = {
        let bar = bar.clone();
        Arc::new(move || {
            if let Some(b) = &bar {
                b.inc(1);
            }
        })
    };
    let opts = Options { new_data_key: args.new_data_key };
    let jobs = rotation.jobs.clone();
    let (outcomes, failures) = env.fnox.block_on(rotate::run(jobs, opts, tick))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if failures.is_empty() {
        return Ok(outcomes);
    }
    let mut lines = format!(
        "cannot rotate {} of {} secrets; no file was changed",
        failures.len(),
        failures.len() + outcomes.len()
    );
    for f in &failures {
        let reason = fnox_core::error::chain(&f.error).join(": ");
        lines.push_str(&format!(
            "\n  {} ({}, provider `{}`): {reason}",
            f.job.def.name,
            ui.at(&f.job.def.at),
            f.job.from_name
        ));
    }
    Err(CommandError::user(lines))
}

fn progress_bar(ui: &Ui, len: usize) -> Option<indicatif::ProgressBar> {
    if ui.quiet() || len < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("rotating {bar:30} {pos}/{len} secrets ({elapsed})")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn print_plan(ui: &Ui, outcomes: &[Outcome], dry_run: bool) -> Result<(), CommandError> {
    if !dry_run && !ui.verbose() {
        return Ok(());
    }
    let width = outcomes.iter().map(|o| o.job.def.name.len()).max().unwrap_or(0);
    let at_width = outcomes.iter().map(|o| ui.at(&o.job.def.at).len()).max().unwrap_or(0);
    let mut out = String::new();
    for o in outcomes {
        let provider = if o.job.from_name == o.job.to_name {
            o.job.from_name.clone()
        } else {
            format!("{} -> {}", o.job.from_name, o.job.to_name)
        };
        out.push_str(&format!(
            "{:width$}  {:at_width$}  {:10}  {provider}\n",
            o.job.def.name,
            ui.at(&o.job.def.at),
            o.method.to_string(),
        ));
    }
    for (file, provider, how) in data_key_changes(outcomes) {
        out.push_str(&format!("data key of `{provider}` in {}: {how}\n", ui.path(&file)));
    }
    if !dry_run {
        eprint!("{}", super::ui::printable_lines(&out));
        return Ok(());
    }
    let n = outcomes.iter().filter(|o| o.new_value.is_some()).count();
    out.push_str(&format!(
        "dry run: {n} of {} secrets would change; nothing was written\n",
        outcomes.len()
    ));
    ui.report(&out)
}

/// Each `[data_keys]` entry the rotation changes: file, provider, and how
/// (`re-wrap`, `new`, `removed`), in file and provider order.
fn data_key_changes(outcomes: &[Outcome]) -> Vec<(std::path::PathBuf, String, &'static str)> {
    let mut out = BTreeMap::new();
    for o in outcomes {
        for w in o.data_keys.iter().filter(|w| w.line != w.expect) {
            let id = |l: &Option<String>| {
                l.as_deref().and_then(|l| l.split(':').nth(1)).map(str::to_string)
            };
            let how = match (id(&w.expect), id(&w.line)) {
                (_, None) => "removed",
                (Some(a), Some(b)) if a == b => "re-wrap",
                _ => "new",
            };
            out.insert((o.job.def.at.file.to_path_buf(), w.provider.clone()), how);
        }
    }
    out.into_iter().map(|((f, p), how)| (f, p, how)).collect()
}

fn confirm(ui: &Ui, changes: usize, retire: &Retirement) -> Result<bool, CommandError> {
    let noun = if changes == 1 { "secret" } else { "secrets" };
    let mut question = format!("write {changes} re-encrypted {noun}");
    if !retire.is_empty() {
        question.push_str(" and retire old local keys");
    }
    question.push('?');
    ui.confirm(&question)
}

fn summary(ui: &Ui, outcomes: &[Outcome], started: Instant) {
    let mut counts: BTreeMap<(String, Method), usize> = BTreeMap::new();
    for o in outcomes {
        *counts.entry((o.job.to_name.clone(), o.method)).or_default() += 1;
    }
    let files: BTreeSet<_> =
        outcomes.iter().filter(|o| o.new_value.is_some()).map(|o| &o.job.def.at.file).collect();
    let changed = outcomes.iter().filter(|o| o.new_value.is_some()).count();
    let mut text = format!(
        "rotated {changed} of {} in {} in {:.2} s",
        count(outcomes.len(), "secret", "secrets"),
        count(files.len(), "file", "files"),
        started.elapsed().as_secs_f64()
    );
    let mut by_provider: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((provider, method), n) in &counts {
        by_provider.entry(provider).or_default().push(format!("{n} {method}"));
    }
    for (provider, parts) in by_provider {
        text.push_str(&format!("\n  {provider}: {}", parts.join(", ")));
    }
    let data_keys = data_key_changes(outcomes);
    if !data_keys.is_empty() {
        let mut by_how: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, how) in &data_keys {
            *by_how.entry(how).or_default() += 1;
        }
        let parts: Vec<String> = by_how.iter().map(|(how, n)| format!("{n} {how}")).collect();
        text.push_str(&format!("\n  data keys: {}", parts.join(", ")));
    }
    ui.note(&text);
}
