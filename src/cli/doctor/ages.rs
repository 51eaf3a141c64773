//! `doctor`'s "key ages" section: the keys of each provider with a
//! `max_key_age`, and what to do about values under a key older than it.

use fnox_core::doctor::key_ages::{AgedKey, KeyAges};
use fnox_core::key_age;
use fnox_core::words::count;
use serde_json::{Value, json};

use super::{Problem, chain};
use crate::cli::ui::Ui;

/// The section's text: per provider, its policy and each key in use.
pub(super) fn render(ui: &Ui, ages: &[KeyAges]) -> String {
    if ages.is_empty() {
        return String::new();
    }
    let mut out = String::from("key ages:\n");
    for a in ages {
        out.push_str(&format!(
            "  {} ({}): max_key_age {} ({})\n",
            a.provider,
            a.kind,
            key_age::short(a.policy.age),
            ui.at(&a.policy.at)
        ));
        match &a.keys {
            Err(e) => out.push_str(&format!("    keys unknown: {}\n", chain(ui, e))),
            Ok(keys) => {
                let width = keys.iter().map(|k| k.key.id.len()).max().unwrap_or(0);
                for k in keys {
                    out.push_str(&format!("    {:width$}  {}\n", k.key.id, key_line(a, k)));
                }
            }
        }
    }
    out
}

/// `current  created 2026-12-02, 3 days old  values: A, B`, and `TOO OLD`
/// when it is older than the policy.
fn key_line(a: &KeyAges, k: &AgedKey) -> String {
    let state = if k.key.current { "current" } else { "old" };
    let when = match (k.key.created, k.age) {
        (Some(created), Some(age)) => {
            format!("created {}, {} old", key_age::date(created), key_age::words(age))
        }
        _ => "created date unknown".to_string(),
    };
    let verdict = if k.too_old(&a.policy) { "  TOO OLD" } else { "" };
    format!("{state:7}  {when}  {}{verdict}", values(k))
}

/// `values: A, B`, or `no values`.
fn values(k: &AgedKey) -> String {
    if k.secrets.is_empty() {
        "no values".to_string()
    } else {
        format!("values: {}", k.secrets.join(", "))
    }
}

/// The warnings (or, with `--strict`, problems) about values under a key
/// older than the policy, each with the command that fixes it; and the
/// warnings about keys in use whose age is unknown.
pub(super) fn verdicts(
    ages: &[KeyAges],
    profile: &str,
    global: impl Fn(&str) -> bool,
) -> (Vec<Problem>, Vec<String>) {
    let mut stale = Vec::new();
    let mut undated = Vec::new();
    for a in ages {
        let names = a.stale_secrets();
        if !names.is_empty() {
            let policy = key_age::short(a.policy.age);
            let what = format!(
                "{} of provider `{}` {} under a key older than max_key_age {policy}: {}",
                count(names.len(), "value", "values"),
                a.provider,
                if names.len() == 1 { "is" } else { "are" },
                names.join(", ")
            );
            stale.push((what, Some(fix(a, &policy, profile, names.iter().any(|n| global(n))))));
        }
        for k in a.undated() {
            undated.push(format!(
                "key {} of provider `{}` has no created date, so its age is unknown ({}); `fnox rotate --provider {} --new-key` puts the values under a new, dated key",
                k.key.id,
                a.provider,
                values(k),
                a.provider
            ));
        }
    }
    (stale, undated)
}

/// The command that puts `a`'s stale values under a young key: `fnox
/// rotate --older-than` for keys fnox holds; for a KMS key, new key
/// material in KMS (fnox cannot make it).
fn fix(a: &KeyAges, policy: &str, profile: &str, global: bool) -> String {
    if a.kind == "aws-kms" {
        let id = a.keys.as_ref().ok().and_then(|k| k.first()).map_or("KEY", |k| k.key.id.as_str());
        return format!(
            "KMS makes new key material, and keeps the old to decrypt: run `aws kms rotate-key-on-demand --key-id {id}`, or turn on automatic rotation with a period of {policy} or less"
        );
    }
    let mut cmd = "fnox".to_string();
    if profile != fnox_core::config::DEFAULT_PROFILE {
        cmd.push_str(&format!(" -P {profile}"));
    }
    cmd.push_str(&format!(" rotate --provider {} --older-than {policy}", a.provider));
    if global {
        cmd.push_str(" --global");
    }
    format!("run `{cmd}`")
}

/// The section as JSON.
pub(super) fn json(ages: &[KeyAges]) -> Value {
    json!(
        ages.iter()
            .map(|a| json!({
                "provider": a.provider,
                "type": a.kind,
                "max_key_age": key_age::short(a.policy.age),
                "max_key_age_seconds": a.policy.age.as_secs(),
                "keys": a.keys.as_ref().ok().map(|keys| keys.iter().map(|k| json!({
                    "id": k.key.id,
                    "current": k.key.current,
                    "created": k.key.created.map(key_age::timestamp),
                    "age_seconds": k.age.map(|d| d.as_secs()),
                    "too_old": k.too_old(&a.policy),
                    "secrets": k.secrets,
                })).collect::<Vec<_>>()),
                "error": a.keys.as_ref().err().map(|e| fnox_core::error::chain(e).join(": ")),
            }))
            .collect::<Vec<_>>()
    )
}
