//! `fnox rotate`.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    io::IsTerminal,
    path::PathBuf,
    sync::Arc,
    time::Instant,
};

use super::App;
use crate::{
    config::{self, Config, ProviderDef, SecretDef, edit, write},
    error::{Error, shown},
    providers::{ProviderConfig, Registry, local},
    resolve::provider_of,
    rotate::{self, Job, Method, Options, Outcome},
    settings::DEFAULT_PROFILE,
};

/// Re-encrypt secrets under their provider's current configuration, or
/// move them to another provider. All or nothing.
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
  fnox rotate --provider local --retire-old drop local keys no value uses any more
  fnox rotate --provider age --yes          re-encrypt to the current recipients
  fnox rotate --all-profiles --provider kms after changing the KMS key_id
  fnox rotate --to kms DATABASE_URL         move a secret to another provider")]
pub struct Args {
    /// Only these secrets (default: every secret with a value).
    pub names: Vec<String>,

    /// Only secrets of this provider.
    #[arg(short = 'p', long, value_name = "NAME")]
    pub provider: Option<String>,

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

    /// local: afterwards, remove keys that no value uses (refused while a
    /// value still needs one).
    #[arg(long)]
    pub retire_old: bool,

    /// Envelope values: re-encrypt the payloads under fresh data keys.
    #[arg(long)]
    pub new_data_key: bool,

    /// Show the plan (each secret and its method); change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

/// One profile's view: its config and provider registry.
struct View {
    config: Arc<Config>,
    registry: Arc<Registry>,
}

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let started = Instant::now();
    if !args.dry_run && !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "rotate changes files; pass --yes to confirm (stdin is not a terminal)".into(),
        ));
    }
    let views = load_views(app, args.all_profiles || args.retire_old)?;
    let runtime = super::runtime()?;
    let new_keyrings = if args.new_key { new_keys(&views, &args)? } else { Vec::new() };
    let jobs = runtime.block_on(select_jobs(app, &views, &args))?;
    if jobs.is_empty() && !args.retire_old {
        app.note("no secret matches; nothing to rotate");
        return Ok(());
    }
    let bar = progress_bar(app, jobs.len());
    let tick = {
        let bar = bar.clone();
        Arc::new(move || {
            if let Some(b) = &bar {
                b.inc(1);
            }
        })
    };
    let opts = Options { new_data_key: args.new_data_key };
    let (outcomes, failures) = runtime.block_on(rotate::run(jobs, opts, tick));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !failures.is_empty() {
        let mut lines = format!(
            "cannot rotate {} of {} secrets; no file was changed",
            failures.len(),
            failures.len() + outcomes.len()
        );
        for f in &failures {
            let mut reason = f.error.to_string();
            let mut src = std::error::Error::source(&f.error);
            while let Some(s) = src {
                reason.push_str(": ");
                reason.push_str(&s.to_string());
                src = s.source();
            }
            lines.push_str(&format!(
                "\n  {} ({}, provider `{}`): {reason}",
                f.job.def.name, f.job.def.at, f.job.from_name
            ));
        }
        return Err(Error::Failed(lines));
    }
    let retire = if args.retire_old {
        plan_retirement(&views, &outcomes, &new_keyrings)?
    } else {
        Vec::new()
    };
    let changed: Vec<&Outcome> = outcomes.iter().filter(|o| o.new_value.is_some()).collect();
    print_plan(app, &outcomes, args.dry_run);
    if args.dry_run {
        for (path, ids) in &retire {
            app.note(&format!(
                "would retire local keys {} from {}",
                ids.join(", "),
                path.display()
            ));
        }
        return Ok(());
    }
    if !args.yes && !confirm(changed.len(), &retire)? {
        return Err(Error::Failed("cancelled; nothing was changed".into()));
    }
    // Lock and check every file, and compute its new text, before writing
    // anything; the new keyring (which keeps the old keys) goes first, so a
    // crash between the writes leaves every value decryptable.
    let writes = prepare_writes(&changed)?;
    for (path, ring) in &new_keyrings {
        write_keyring(path, ring)?;
    }
    for (lock, new) in &writes {
        lock.replace(new)
            .map_err(|e| Error::io(format!("cannot write {}", shown(lock.path())), e))?;
    }
    for (path, ids) in &retire {
        retire_keys(path, ids)?;
        app.note(&format!("retired local keys {} from {}", ids.join(", "), path.display()));
    }
    summary(app, &outcomes, started);
    Ok(())
}

fn load_views(app: &App, all_profiles: bool) -> Result<Vec<View>, Error> {
    let first = app.load(true)?;
    let mut profiles = vec![first.profile.clone()];
    if all_profiles {
        profiles = std::iter::once(DEFAULT_PROFILE.to_string())
            .chain(first.known_profiles.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    }
    profiles
        .into_iter()
        .map(|p| {
            let config = if p == first.profile {
                first.clone()
            } else {
                let mut settings = app.settings.clone();
                settings.profile = p;
                config::load(&settings)?
            };
            let registry = app.registry(&config);
            Ok(View { config: Arc::new(config), registry })
        })
        .collect()
}

/// `--new-key`: a keyring with a new primary key for every local provider
/// in play, preset in the registries; written only when rotation succeeds.
fn new_keys(views: &[View], args: &Args) -> Result<Vec<(PathBuf, local::Keyring)>, Error> {
    if std::env::var_os("FNOX_LOCAL_KEY").is_some_and(|v| !v.is_empty()) {
        return Err(Error::Usage(
            "--new-key needs the keyring file, but FNOX_LOCAL_KEY is set; unset it".into(),
        ));
    }
    let mut rings: HashMap<PathBuf, local::Keyring> = HashMap::new();
    for view in views {
        for def in view.config.providers.values() {
            let ProviderConfig::Local(c) = &def.config else { continue };
            if args.provider.as_ref().is_some_and(|p| p != &def.name) {
                continue;
            }
            let path = local_keyring_path(view, def, c);
            let ring = match rings.get(&path) {
                Some(r) => r.clone(),
                None => {
                    let old = local::load_or_create(&path, false).map_err(|source| {
                        Error::Provider { provider: def.name.clone(), at: def.at.clone(), source }
                    })?;
                    let ring = old.with_new_primary(local::LocalKey::generate());
                    rings.insert(path.clone(), ring.clone());
                    ring
                }
            };
            let provider = local::LocalProvider::with_keyring(ring, c.envelope);
            view.registry.preset(&def.name, Arc::new(provider))?;
        }
    }
    if rings.is_empty() {
        return Err(Error::Usage("--new-key: no `local` provider is selected".into()));
    }
    Ok(rings.into_iter().collect())
}

fn local_keyring_path(view: &View, def: &ProviderDef, c: &local::LocalConfig) -> PathBuf {
    let base = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
    local::keyring_path(view.registry.context(), c, &base)
}

async fn select_jobs(app: &App, views: &[View], args: &Args) -> Result<Vec<Job>, Error> {
    let global = app.settings.global_file();
    let mut seen = BTreeSet::new();
    let mut matched_names = BTreeSet::new();
    let mut jobs = Vec::new();
    for view in views {
        for def in &view.config.all_secrets {
            if def.value.is_none() || (def.at.file == global && !args.global) {
                continue;
            }
            if !args.names.is_empty() && !args.names.contains(&def.name) {
                continue;
            }
            let from_name = provider_of(&view.config, def)?;
            if args.provider.as_ref().is_some_and(|p| p != &from_name) {
                continue;
            }
            matched_names.insert(def.name.clone());
            if !seen.insert((def.at.file.clone(), def.table.clone(), def.name.clone())) {
                continue;
            }
            let to_name = args.to.clone().unwrap_or_else(|| from_name.clone());
            let from = view.registry.get(&from_name).await?;
            let to = view.registry.get(&to_name).await?;
            jobs.push(Job { def: def.clone(), from_name, to_name, from, to });
        }
    }
    if let Some(missing) = args.names.iter().find(|n| !matched_names.contains(*n)) {
        return Err(Error::UnknownSecret {
            name: missing.clone(),
            profile: views.iter().map(|v| v.config.profile.clone()).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(jobs)
}

fn progress_bar(app: &App, len: usize) -> Option<indicatif::ProgressBar> {
    if app.settings.quiet || len < 2 || !std::io::stderr().is_terminal() {
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

fn print_plan(app: &App, outcomes: &[Outcome], dry_run: bool) {
    if !dry_run && !app.settings.verbose {
        return;
    }
    let width = outcomes.iter().map(|o| o.job.def.name.len()).max().unwrap_or(0);
    let at_width = outcomes.iter().map(|o| o.job.def.at.to_string().len()).max().unwrap_or(0);
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
            o.job.def.at.to_string(),
            o.method.to_string(),
        ));
    }
    if dry_run {
        let n = outcomes.iter().filter(|o| o.new_value.is_some()).count();
        out.push_str(&format!(
            "dry run: {n} of {} secrets would change; nothing was written\n",
            outcomes.len()
        ));
        let _ = super::output::write_stdout(out.as_bytes());
    } else {
        eprint!("{out}");
    }
}

fn confirm(changes: usize, retire: &[(PathBuf, Vec<String>)]) -> Result<bool, Error> {
    let mut question = format!("write {changes} re-encrypted secrets");
    if !retire.is_empty() {
        question.push_str(" and retire old local keys");
    }
    eprint!("{question}? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| Error::io("cannot read the answer", e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn write_keyring(path: &std::path::Path, ring: &local::Keyring) -> Result<(), Error> {
    let locked = write::Locked::open(path)
        .map_err(|e| Error::io(format!("cannot lock {}", path.display()), e))?;
    locked
        .replace(&ring.to_text())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Locks every file that holds a changed value, checks that it still holds
/// the values that were rotated, and returns it with its new text. Nothing
/// is written: an error here leaves every file as it was.
fn prepare_writes(changed: &[&Outcome]) -> Result<Vec<(write::Locked, String)>, Error> {
    let mut by_file: BTreeMap<PathBuf, Vec<&Outcome>> = BTreeMap::new();
    for o in changed {
        by_file.entry(o.job.def.at.file.clone()).or_default().push(o);
    }
    let mut writes = Vec::new();
    for (file, outcomes) in &by_file {
        let lock = write::Locked::open(file)
            .map_err(|e| Error::io(format!("cannot lock {}", shown(file)), e))?;
        // Parsed once per file: one parse per value made rotating 500
        // values of one file take seconds.
        let doc: toml_edit::DocumentMut = lock
            .text
            .parse()
            .map_err(|e: toml_edit::TomlError| super::set::edit_error(file, e.into()))?;
        for o in outcomes {
            let now = stored_value(&doc, &o.job.def.table, &o.job.def.name);
            if now != o.job.def.value.as_deref() {
                return Err(Error::Failed(format!(
                    "secret `{}` in {} changed while rotate ran; nothing was written, run rotate again",
                    o.job.def.name,
                    shown(file)
                )));
            }
        }
        let updates: Vec<_> = outcomes
            .iter()
            .map(|o| {
                let provider = (o.job.from_name != o.job.to_name).then_some(o.job.to_name.as_str());
                let update = edit::SecretUpdate {
                    provider,
                    value: o.new_value.as_deref().unwrap_or_default(),
                    description: None,
                };
                (o.job.def.table.as_slice(), o.job.def.name.as_str(), update)
            })
            .collect();
        let new =
            edit::set_secrets(&lock.text, &updates).map_err(|e| super::set::edit_error(file, e))?;
        writes.push((lock, new));
    }
    Ok(writes)
}

/// The stored `value` of secret `name` in the table at `path` of `doc`.
fn stored_value<'d>(
    doc: &'d toml_edit::DocumentMut,
    path: &[String],
    name: &str,
) -> Option<&'d str> {
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    for key in path {
        table = table.get(key)?.as_table_like()?;
    }
    table.get(name)?.as_table_like()?.get("value")?.as_str()
}

/// `--retire-old`: the old keys of each local keyring, when no value of any
/// profile (after this rotation) still uses them. A keyring that `--new-key`
/// is about to replace is judged by its new version, the one that will be on
/// disk when the keys are retired.
fn plan_retirement(
    views: &[View],
    outcomes: &[Outcome],
    new_keyrings: &[(PathBuf, local::Keyring)],
) -> Result<Vec<(PathBuf, Vec<String>)>, Error> {
    let rotated: HashMap<(PathBuf, Vec<String>, String), &Outcome> = outcomes
        .iter()
        .map(|o| ((o.job.def.at.file.clone(), o.job.def.table.clone(), o.job.def.name.clone()), o))
        .collect();
    let mut plans = Vec::new();
    let mut done = BTreeSet::new();
    for view in views {
        for def in view.config.providers.values() {
            let ProviderConfig::Local(c) = &def.config else { continue };
            let path = local_keyring_path(view, def, c);
            if !done.insert(path.clone()) {
                continue;
            }
            let provider = view.registry.def(&def.name).map(|d| d.name.clone()).unwrap_or_default();
            let ring = match new_keyrings.iter().find(|(p, _)| p == &path) {
                Some((_, ring)) => ring.clone(),
                None => match local::load_or_create(&path, false) {
                    Ok(r) => r,
                    Err(_) => continue,
                },
            };
            let old: BTreeSet<String> = ring.old_key_ids().into_iter().collect();
            if old.is_empty() {
                continue;
            }
            let mut needed = Vec::new();
            for v in views {
                for s in &v.config.all_secrets {
                    if !uses_provider(&v.config, s, &provider) {
                        continue;
                    }
                    let key = (s.at.file.clone(), s.table.clone(), s.name.clone());
                    let value: Option<&str> = match rotated.get(&key) {
                        Some(o) => o.new_value.as_deref().or(s.value.as_deref()),
                        None => s.value.as_deref(),
                    };
                    let id = value.and_then(|v| {
                        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v)
                            .ok()
                            .and_then(|b| local::key_id_of(&b))
                    });
                    if let Some(id) = id.filter(|id| old.contains(id)) {
                        needed.push(format!("{} ({}, key {id})", s.name, s.at));
                    }
                }
            }
            if !needed.is_empty() {
                needed.sort();
                needed.dedup();
                return Err(Error::Failed(format!(
                    "cannot retire old local keys of {}: {} value(s) still use them: {}; run `fnox rotate --provider {provider} --all-profiles` first",
                    path.display(),
                    needed.len(),
                    needed.join(", ")
                )));
            }
            plans.push((path, old.into_iter().collect()));
        }
    }
    Ok(plans)
}

fn uses_provider(config: &Config, def: &SecretDef, provider: &str) -> bool {
    def.value.is_some() && provider_of(config, def).is_ok_and(|p| p == provider)
}

fn retire_keys(path: &std::path::Path, ids: &[String]) -> Result<(), Error> {
    let locked = write::Locked::open(path)
        .map_err(|e| Error::io(format!("cannot lock {}", path.display()), e))?;
    let ring =
        local::Keyring::parse(&locked.text, &path.display().to_string()).map_err(|source| {
            Error::Provider {
                provider: "local".into(),
                at: crate::error::Location { file: path.to_path_buf(), line: 0 },
                source,
            }
        })?;
    let on_disk: BTreeSet<String> = ring.old_key_ids().into_iter().collect();
    if on_disk != ids.iter().cloned().collect() {
        return Err(Error::Failed(format!(
            "{} changed meanwhile; run rotate again",
            path.display()
        )));
    }
    locked
        .replace(&ring.only_primary().to_text())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

fn summary(app: &App, outcomes: &[Outcome], started: Instant) {
    let mut counts: BTreeMap<(String, Method), usize> = BTreeMap::new();
    for o in outcomes {
        *counts.entry((o.job.to_name.clone(), o.method)).or_default() += 1;
    }
    let files: BTreeSet<_> =
        outcomes.iter().filter(|o| o.new_value.is_some()).map(|o| &o.job.def.at.file).collect();
    let changed = outcomes.iter().filter(|o| o.new_value.is_some()).count();
    let mut text = format!(
        "rotated {changed} of {} secrets in {} file(s) in {:.2} s",
        outcomes.len(),
        files.len(),
        started.elapsed().as_secs_f64()
    );
    let mut by_provider: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((provider, method), n) in &counts {
        by_provider.entry(provider).or_default().push(format!("{n} {method}"));
    }
    for (provider, parts) in by_provider {
        text.push_str(&format!("\n  {provider}: {}", parts.join(", ")));
    }
    app.note(&text);
}
