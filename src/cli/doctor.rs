//! `fnox doctor`.

use fnox_core::words::{count, noun};
use fnox_core::{
    config::{Config, IfMissing, SecretDef},
    doctor::{self, Probe, ProbeProblem, SecretStatus, key_ages},
    exec_control::{self, ExecControl},
};
use serde_json::json;

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

mod ages;

/// Check the setup: config files, profile, each provider (an encrypt and
/// decrypt probe, timed), and whether every secret of the profile decrypts.
///
/// Exits 1 when anything fails, with one line per problem and a hint; a
/// secret without a value fails it when its `if_missing` is `error` (as
/// `exec` would fail). `fnox check` answers without decrypting.
///
/// With `max_key_age` set, a "key ages" section shows each key in use and
/// its age, and warns about values under a key older than that (naming
/// them, and the command that rotates them); --strict makes that a failure.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox doctor
  fnox -P production doctor --json
  fnox doctor --strict                     in CI: fail on values under a key older than max_key_age")]
pub struct Args {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,

    /// Exit 1 when values are under a key older than their provider's
    /// `max_key_age` (without it, a warning).
    #[arg(long)]
    pub strict: bool,
}

/// One problem: what, and how to fix it.
pub(super) type Problem = (String, Option<String>);

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load(ui)?;
    let (config, registry) = (project.config(), project.registry());
    let fnox = project.fnox();
    let probes: Vec<Probe> = config
        .providers
        .values()
        .map(|def| fnox.block_on(doctor::probe(registry, def)))
        .collect::<Result<_, _>>()?;
    let mut problems: Vec<Problem> = Vec::new();
    for p in &probes {
        // A provider fnox does not implement is a problem only for the
        // secrets that need it (each is listed).
        if let Some(problem) =
            p.problem.as_ref().filter(|p| !matches!(p, ProbeProblem::Unsupported))
        {
            let (msg, hint) = probe_problem(ui, config, &p.name, problem);
            problems.push((format!("provider `{}`: {msg}", p.name), hint));
        }
    }
    // Every secret of the profile, one at a time so each failure is named.
    let mut secrets = Vec::new();
    for def in config.secrets.values() {
        let status = fnox.block_on(doctor::check_secret(config, registry, def))?;
        match &status {
            SecretStatus::Failed(e) => problems.push((chain(ui, e), first_hint(&e.hints()))),
            // As `exec` would fail on it.
            SecretStatus::NoValue
                if env.if_missing(config, def, IfMissing::Warn).mode == IfMissing::Error =>
            {
                let e = fnox_core::Error::NoValue { name: def.name.clone(), at: def.at.clone() };
                problems.push((
                    format!("{}; its if_missing is `error`", chain(ui, &e)),
                    first_hint(&e.hints()),
                ));
            }
            _ => {}
        }
        secrets.push((def, status));
    }
    // Entries that set a variable that changes what programs run.
    let controls = exec_control::setters(config.secrets.values());
    for (def, control) in controls.iter().filter(|(d, _)| !d.allow_exec_control) {
        let refused = exec_control::refusal(def, control);
        problems.push((chain(ui, &refused), first_hint(&refused.hints())));
    }
    let ages = fnox.block_on(key_ages::key_ages(config, registry, fnox_core::key_age::now()))?;
    let global = |n: &str| config.secrets.get(n).is_some_and(|d| *d.at.file == *config.global_file);
    let (stale, undated) = ages::verdicts(&ages, &config.profile, global);
    if args.strict {
        problems.extend(stale.iter().cloned());
    }
    if args.json {
        let mut report = report_json(config, &probes, &secrets, &controls, &problems);
        report["key_ages"] = ages::json(&ages);
        ui.stdout(super::ui::printable_json(&report).as_bytes())?;
    } else {
        let text = render(ui, config, &probes, &secrets, &controls) + &ages::render(ui, &ages);
        ui.report(&text)?;
        let warnings = stale.iter().filter(|_| !args.strict).map(|(m, h)| match h {
            Some(h) => format!("{m}; {h}"),
            None => m.clone(),
        });
        for w in warnings.chain(undated) {
            ui.warn(&w);
        }
    }
    if !args.json {
        note_old_keys(ui, &secrets);
        note_unbound(ui, config, &secrets);
    }
    if problems.is_empty() {
        return Ok(ExitStatus::SUCCESS);
    }
    Err(CommandError::user(problem_report(&problems)))
}

/// A note on the values that are not under their provider's current key.
fn note_old_keys(ui: &Ui, secrets: &[(&SecretDef, SecretStatus)]) {
    let old: Vec<&str> = secrets
        .iter()
        .filter(|(_, s)| matches!(s, SecretStatus::OldKey))
        .map(|(d, _)| d.name.as_str())
        .collect();
    if !old.is_empty() {
        ui.note(&format!(
            "note: {} not under their provider's current key ({}); `fnox rotate` moves them",
            if old.len() == 1 {
                "1 value is".to_string()
            } else {
                format!("{} values are", old.len())
            },
            old.join(", ")
        ));
    }
}

/// A note on the values that are not bound to their names: those of
/// providers with `bind_name = false` (meant so, for jdx/fnox), and the
/// others (`rotate` binds them).
fn note_unbound(ui: &Ui, config: &Config, secrets: &[(&SecretDef, SecretStatus)]) {
    let unbound = secrets.iter().filter(|(_, s)| matches!(s, SecretStatus::Unbound));
    let (meant, legacy): (Vec<&SecretDef>, Vec<&SecretDef>) =
        unbound.map(|(d, _)| *d).partition(|d| bind_name_off(config, d).is_some());
    let names = |defs: &[&SecretDef]| defs.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    let values = |n: usize| {
        count(n, "value is not bound to its name", "values are not bound to their names")
    };
    let them = |n: usize| noun(n, "it", "them");
    if !legacy.is_empty() {
        ui.note(&format!(
            "note: {} ({}): encrypted without EncryptionContext (by jdx/fnox or `aws kms encrypt`); `fnox rotate` binds {}",
            values(legacy.len()),
            names(&legacy).join(", "),
            them(legacy.len())
        ));
    }
    if !meant.is_empty() {
        let mut providers: Vec<String> = meant
            .iter()
            .filter_map(|d| bind_name_off(config, d))
            .map(|p| format!("`{p}`"))
            .collect();
        providers.sort();
        providers.dedup();
        ui.note(&format!(
            "note: {} ({}), as `bind_name = false` of {} {} says; remove that setting and run `fnox rotate` to bind {}",
            values(meant.len()),
            names(&meant).join(", "),
            noun(providers.len(), "provider", "providers"),
            providers.join(", "),
            them(meant.len())
        ));
    }
}

/// The provider of `def` when it is an `aws-kms` provider with
/// `bind_name = false`.
fn bind_name_off<'a>(config: &'a Config, def: &SecretDef) -> Option<&'a str> {
    let name = fnox_core::resolve::provider_of(config, def).ok()?;
    let (name, p) = config.providers.get_key_value(&name)?;
    match &p.config {
        fnox_core::config::ProviderConfig::AwsKms(c) if !c.bind_name => Some(name.as_str()),
        _ => None,
    }
}

/// `N problems found`, then the problems grouped by their hint (in the
/// order each hint first appears), each group's hint once after it.
pub(super) fn problem_report(problems: &[Problem]) -> String {
    let noun = if problems.len() == 1 { "problem" } else { "problems" };
    let mut text = format!("{} {noun} found", problems.len());
    let mut groups: Vec<(Option<&String>, Vec<&String>)> = Vec::new();
    for (msg, hint) in problems {
        match groups.iter_mut().find(|(h, _)| hint.is_some() && *h == hint.as_ref()) {
            Some((_, msgs)) => msgs.push(msg),
            None => groups.push((hint.as_ref(), vec![msg])),
        }
    }
    for (hint, msgs) in groups {
        for msg in msgs {
            text.push_str(&format!("\n  - {msg}"));
        }
        if let Some(h) = hint {
            text.push_str(&format!("\n    hint: {h}"));
        }
    }
    text
}

pub(super) fn first_hint(hints: &[fnox_core::Hint]) -> Option<String> {
    hints.iter().find_map(super::hints::render)
}

/// The error and its causes on one line, paths as the user sees them.
pub(super) fn chain(ui: &Ui, e: &(dyn std::error::Error + 'static)) -> String {
    ui.relative(&fnox_core::error::chain(e).join(": "))
}

fn probe_problem(ui: &Ui, config: &Config, provider: &str, problem: &ProbeProblem) -> Problem {
    match problem {
        ProbeProblem::NoLocalKey { path } => (
            format!("no local key at {}", path.display()),
            first_hint(&[no_key_hint(config, provider)]),
        ),
        ProbeProblem::Setup(e) => (chain(ui, e), first_hint(&e.hints())),
        ProbeProblem::Describe(e) => (chain(ui, e), first_hint(&e.hints(None))),
        ProbeProblem::Encrypt(e) => {
            (format!("encrypt probe failed: {}", chain(ui, e)), first_hint(&e.hints(None)))
        }
        ProbeProblem::Decrypt(e) => {
            (format!("decrypt probe failed: {}", chain(ui, e)), first_hint(&e.hints(None)))
        }
        ProbeProblem::Mismatch => ("decrypt probe returned other bytes".into(), None),
        ProbeProblem::Unsupported => ("fnox does not support its type".into(), None),
    }
}

/// With values under the provider: bring their keys over (a new key would
/// not open them); without: the first `set` creates the key.
fn no_key_hint(config: &Config, provider: &str) -> fnox_core::Hint {
    let mut key_ids: Vec<String> = config
        .secrets
        .values()
        .filter(|d| fnox_core::resolve::provider_of(config, d).ok().as_deref() == Some(provider))
        .filter_map(|d| fnox_core::codec::decode_base64(d.value.as_deref()?).ok())
        .filter_map(|b| fnox_core::providers::local::key_id_of(&b))
        .collect();
    key_ids.sort();
    key_ids.dedup();
    if key_ids.is_empty() {
        fnox_core::Hint::LocalKeyOnFirstSet
    } else {
        fnox_core::Hint::BringLocalKey { key_ids }
    }
}

fn ms(d: Option<std::time::Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1000.0)
}

/// Entries that set a variable that changes what programs run.
type Controls<'a> = [(&'a SecretDef, &'static ExecControl)];

fn report_json(
    config: &Config,
    probes: &[Probe],
    secrets: &[(&SecretDef, SecretStatus)],
    controls: &Controls<'_>,
    problems: &[Problem],
) -> serde_json::Value {
    json!({
        "files": config.files,
        "profile": config.profile,
        "providers": probes.iter().map(|p| json!({
            "name": p.name,
            "type": p.kind,
            "encrypt_ms": ms(p.encrypt),
            "decrypt_ms": ms(p.decrypt),
            "about": p.about,
            "ok": p.problem.is_none(),
            "supported": !matches!(p.problem, Some(ProbeProblem::Unsupported)),
        })).collect::<Vec<_>>(),
        "secrets": secrets.iter().map(|(d, s)| json!({
            "name": d.name, "file": &*d.at.file, "line": d.at.line, "status": s.label(),
        })).collect::<Vec<_>>(),
        "exec_control": controls.iter().map(|(d, _)| json!({
            "name": d.name, "file": &*d.at.file, "line": d.at.line, "allowed": d.allow_exec_control,
        })).collect::<Vec<_>>(),
        "problems": problems.iter().map(|(m, h)| json!({"problem": m, "hint": h})).collect::<Vec<_>>(),
    })
}

fn render(
    ui: &Ui,
    config: &Config,
    probes: &[Probe],
    secrets: &[(&SecretDef, SecretStatus)],
    controls: &Controls<'_>,
) -> String {
    let mut out = String::from("config files:\n");
    for f in &config.files {
        out.push_str(&format!("  {}\n", ui.path(f)));
    }
    out.push_str(&format!("profile: {}\n", config.profile));
    out.push_str("providers:\n");
    let ms =
        |v: Option<std::time::Duration>| ms(v).map_or("-".to_string(), |v| format!("{v:.1} ms"));
    for p in probes {
        let state = match &p.problem {
            None => "ok",
            Some(ProbeProblem::Unsupported) => "not supported by fnox",
            Some(_) => "FAILED",
        };
        out.push_str(&format!(
            "  {} ({}): {state}  encrypt {}  decrypt {}\n",
            p.name,
            p.kind,
            ms(p.encrypt),
            ms(p.decrypt)
        ));
        if let Some(about) = &p.about {
            out.push_str(&format!("    {about}\n"));
        }
    }
    out.push_str(&format!("secrets ({}):\n", secrets.len()));
    let width = secrets.iter().map(|(d, _)| d.name.len()).max().unwrap_or(0);
    for (d, s) in secrets {
        out.push_str(&format!("  {:width$}  {:8}  {}\n", d.name, s.label(), ui.at(&d.at)));
    }
    if !controls.is_empty() {
        out.push_str("variables that change what programs run:\n");
        let width = controls.iter().map(|(d, _)| d.name.len()).max().unwrap_or(0);
        for (d, _) in controls {
            let state = if d.allow_exec_control { "allowed" } else { "REFUSED" };
            out.push_str(&format!("  {:width$}  {state:8}  {}\n", d.name, ui.at(&d.at)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_that_share_a_hint_are_grouped_under_it() {
        let p = |m: &str, h: Option<&str>| (m.to_string(), h.map(str::to_string));
        let problems = [
            p("a", Some("bring the key")),
            p("b", None),
            p("c", Some("bring the key")),
            p("d", Some("fix d")),
            p("e", None),
        ];
        assert_eq!(
            problem_report(&problems),
            "5 problems found\n  - a\n  - c\n    hint: bring the key\n  - b\n  - d\n    hint: fix d\n  - e"
        );
        assert_eq!(problem_report(&[p("a", None)]), "1 problem found\n  - a");
    }
}
