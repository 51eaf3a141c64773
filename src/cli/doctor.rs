//! `fnox doctor`.

use std::{sync::Arc, time::Instant};

use serde_json::json;

use super::{App, output::write_stdout};
use crate::{
    config::Config,
    error::{Error, shown},
    providers::{ProviderConfig, local},
    resolve,
    secret::SecretBytes,
};

/// Check the setup: config files, profile, each provider (an encrypt and
/// decrypt probe, timed), and whether every secret of the profile decrypts.
///
/// Exits 1 when anything fails, with one line per problem and a hint.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox doctor
  fnox -P production doctor --json")]
pub struct Args {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One provider's probe result.
struct Probe {
    name: String,
    kind: &'static str,
    encrypt_ms: Option<f64>,
    decrypt_ms: Option<f64>,
    about: Option<String>,
    problem: Option<(String, Option<String>)>,
}

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let config = Arc::new(app.load(true)?);
    let registry = app.registry(&config);
    let runtime = super::runtime()?;
    let probes: Vec<Probe> =
        config.providers.values().map(|def| runtime.block_on(probe(app, &registry, def))).collect();
    // Every secret of the profile, one at a time so each failure is named.
    let mut secrets = Vec::new();
    let mut problems: Vec<(String, Option<String>)> = Vec::new();
    for p in &probes {
        if let Some((msg, hint)) = &p.problem {
            problems.push((format!("provider `{}`: {msg}", p.name), hint.clone()));
        }
    }
    let defs: Vec<_> = config.secrets.values().cloned().collect();
    for def in &defs {
        let status = match runtime.block_on(resolve::resolve(&config, &registry, def)) {
            Ok(Some(_)) if def.value.is_some() => {
                if runtime.block_on(under_old_key(&config, &registry, def)) {
                    "old key"
                } else {
                    "ok"
                }
            }
            Ok(Some(_)) => "default",
            Ok(None) => "no value",
            Err(e) => {
                problems.push((chain(&e), e.hint()));
                "FAILED"
            }
        };
        secrets.push((def, status));
    }
    if args.json {
        let report = json!({
            "files": config.files,
            "profile": config.profile,
            "providers": probes.iter().map(|p| json!({
                "name": p.name,
                "type": p.kind,
                "encrypt_ms": p.encrypt_ms,
                "decrypt_ms": p.decrypt_ms,
                "about": p.about,
                "ok": p.problem.is_none(),
            })).collect::<Vec<_>>(),
            "secrets": secrets.iter().map(|(d, s)| json!({
                "name": d.name, "file": d.at.file, "line": d.at.line, "status": s,
            })).collect::<Vec<_>>(),
            "problems": problems.iter().map(|(m, h)| json!({"problem": m, "hint": h})).collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
        text.push('\n');
        write_stdout(text.as_bytes())?;
    } else {
        write_stdout(render(&config, &probes, &secrets).as_bytes())?;
    }
    let old: Vec<&str> =
        secrets.iter().filter(|(_, s)| *s == "old key").map(|(d, _)| d.name.as_str()).collect();
    if !old.is_empty() && !args.json {
        app.note(&format!(
            "note: {} value(s) are not under their provider's current key ({}); `fnox rotate` moves them",
            old.len(),
            old.join(", ")
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut text = format!("{} problem(s) found", problems.len());
    for (msg, hint) in &problems {
        text.push_str(&format!("\n  - {msg}"));
        if let Some(h) = hint {
            text.push_str(&format!("\n    hint: {h}"));
        }
    }
    Err(Error::Failed(text))
}

/// True when the provider can tell that `def`'s value (or its envelope's
/// data key) is not under its current key: `fnox rotate` would move it.
async fn under_old_key(
    config: &Config,
    registry: &crate::providers::Registry,
    def: &crate::config::SecretDef,
) -> bool {
    let Ok(name) = resolve::provider_of(config, def) else { return false };
    let Ok(provider) = registry.get(&name).await else { return false };
    let Ok(bytes) = provider.decode(def.value.as_deref().unwrap_or_default()) else {
        return false;
    };
    let ciphertext = if crate::envelope::is_envelope(&bytes) {
        match crate::envelope::Envelope::parse(&bytes) {
            Ok(env) => env.wrapped_key.to_vec(),
            Err(_) => return false,
        }
    } else {
        bytes
    };
    provider.is_current(&ciphertext) == Some(false)
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

async fn probe(
    app: &App,
    registry: &crate::providers::Registry,
    def: &crate::config::ProviderDef,
) -> Probe {
    let mut p = Probe {
        name: def.name.clone(),
        kind: def.config.kind(),
        encrypt_ms: None,
        decrypt_ms: None,
        about: None,
        problem: None,
    };
    // A diagnosis must not create keys: a missing local keyring is a finding.
    if let ProviderConfig::Local(c) = &def.config
        && std::env::var_os("FNOX_LOCAL_KEY").is_none_or(|v| v.is_empty())
    {
        let base = def.at.file.parent().map(std::path::PathBuf::from).unwrap_or_default();
        let path = local::keyring_path(&app.provider_context(), c, &base);
        if !path.exists() {
            p.problem = Some((
                format!("no local key at {}", path.display()),
                Some("run `fnox init` to create one, or set FNOX_LOCAL_KEY".into()),
            ));
            return p;
        }
    }
    let provider = match registry.get(&def.name).await {
        Ok(pr) => pr,
        Err(e) => {
            p.problem = Some((chain(&e), e.hint()));
            return p;
        }
    };
    match provider.describe().await {
        Ok(about) => p.about = about,
        Err(e) => {
            p.problem = Some((chain(&e), e.hint(None)));
            return p;
        }
    }
    const PROBE_NAME: &str = "FNOX_DOCTOR_PROBE";
    let plain = SecretBytes::from_slice(b"fnox doctor probe");
    let started = Instant::now();
    let sealed = provider.encrypt(PROBE_NAME, &plain).await;
    p.encrypt_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    let sealed = match sealed {
        Ok(s) => s,
        Err(e) => {
            p.problem = Some((format!("encrypt probe failed: {}", chain(&e)), e.hint(None)));
            return p;
        }
    };
    let started = Instant::now();
    let opened = provider.decrypt(PROBE_NAME, &sealed).await;
    p.decrypt_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    match opened {
        Ok(v) if v.expose() == plain.expose() => {}
        Ok(_) => p.problem = Some(("decrypt probe returned other bytes".into(), None)),
        Err(e) => p.problem = Some((format!("decrypt probe failed: {}", chain(&e)), e.hint(None))),
    }
    p
}

fn render(
    config: &Config,
    probes: &[Probe],
    secrets: &[(&crate::config::SecretDef, &str)],
) -> String {
    let mut out = String::from("config files:\n");
    for f in &config.files {
        out.push_str(&format!("  {}\n", shown(f)));
    }
    out.push_str(&format!("profile: {}\n", config.profile));
    out.push_str("providers:\n");
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1} ms"));
    for p in probes {
        let state = if p.problem.is_some() { "FAILED" } else { "ok" };
        out.push_str(&format!(
            "  {} ({}): {state}  encrypt {}  decrypt {}\n",
            p.name,
            p.kind,
            ms(p.encrypt_ms),
            ms(p.decrypt_ms)
        ));
        if let Some(about) = &p.about {
            out.push_str(&format!("    {about}\n"));
        }
    }
    out.push_str(&format!("secrets ({}):\n", secrets.len()));
    let width = secrets.iter().map(|(d, _)| d.name.len()).max().unwrap_or(0);
    for (d, s) in secrets {
        out.push_str(&format!("  {:width$}  {s:8}  {}\n", d.name, d.at));
    }
    out
}
