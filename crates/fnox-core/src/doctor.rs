//! The checks behind `fnox doctor`: probe each provider (encrypt and
//! decrypt a probe value, timed) and tell the state of each secret; and
//! behind `fnox check`: the same questions answered from the config alone
//! ([`check`]: nothing decrypted, no key service contacted). The results
//! are data; showing them is the caller's business.

use std::time::{Duration, Instant};

use crate::{
    codec::Stored,
    config::{Config, IfMissing, ProviderConfig, ProviderDef, SecretDef},
    error::Error,
    exec_control,
    providers::{ProviderError, Registry, local},
    resolve,
    secret::SecretBytes,
};

pub mod key_ages;

/// The secret name the probes encrypt under.
pub const PROBE_NAME: &str = "FNOX_DOCTOR_PROBE";

/// The state of one secret of the profile.
#[derive(Debug)]
pub enum SecretStatus {
    /// Its value decrypts, under the provider's current key.
    Ok,
    /// Its value decrypts, but is not under the provider's current key:
    /// rotation would move it.
    OldKey,
    /// Its value decrypts, but is not bound to its name (an `aws-kms`
    /// value written without EncryptionContext, or with `bind_name =
    /// false`).
    Unbound,
    /// No value; its plain default applies.
    Default,
    /// Neither a value nor a default.
    NoValue,
    /// Its value does not decrypt.
    Failed(Error),
    /// No value, no default: the variable of its name in the environment
    /// applies (T6).
    Environment,
}

impl SecretStatus {
    /// A short word for the status: `ok`, `old key`, `unbound`, `default`,
    /// `no value`, `FAILED`, `env var`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::OldKey => "old key",
            Self::Unbound => "unbound",
            Self::Default => "default",
            Self::NoValue => "no value",
            Self::Failed(_) => "FAILED",
            Self::Environment => "env var",
        }
    }
}

/// Why a provider failed its probe.
#[derive(Debug)]
pub enum ProbeProblem {
    /// The `local` keyring does not exist (a diagnosis never creates one).
    NoLocalKey {
        /// Where it was expected.
        path: std::path::PathBuf,
    },
    /// The provider could not be set up.
    Setup(Error),
    /// Asking the key service about its key failed.
    Describe(ProviderError),
    /// The encrypt probe failed.
    Encrypt(ProviderError),
    /// The decrypt probe failed.
    Decrypt(ProviderError),
    /// The decrypt probe returned other bytes than were encrypted.
    Mismatch,
    /// A jdx/fnox provider type that fnox does not implement (not a
    /// problem by itself: the secrets that need it are).
    Unsupported,
}

/// One provider's probe.
#[derive(Debug)]
pub struct Probe {
    /// The provider's name.
    pub name: String,
    /// Its type.
    pub kind: &'static str,
    /// How long the encrypt probe took.
    pub encrypt: Option<Duration>,
    /// How long the decrypt probe took.
    pub decrypt: Option<Duration>,
    /// What the provider says about its key, if anything.
    pub about: Option<String>,
    /// What failed, if anything.
    pub problem: Option<ProbeProblem>,
}

/// Probes provider `def`: sets it up, asks about its key, and encrypts and
/// decrypts a probe value.
pub async fn probe(registry: &Registry, def: &ProviderDef) -> Probe {
    let mut p = Probe {
        name: def.name.clone(),
        kind: def.config.kind(),
        encrypt: None,
        decrypt: None,
        about: None,
        problem: None,
    };
    p.problem = run_probe(registry, def, &mut p).await.err();
    p
}

async fn run_probe(
    registry: &Registry,
    def: &ProviderDef,
    p: &mut Probe,
) -> Result<(), ProbeProblem> {
    if let ProviderConfig::Unsupported(_) = &def.config {
        return Err(ProbeProblem::Unsupported);
    }
    if let ProviderConfig::Local(c) = &def.config {
        let base = def.at.file.parent().map(std::path::PathBuf::from).unwrap_or_default();
        if let local::KeySource::File(path) = local::key_source(registry.context(), c, &base)
            && !path.exists()
        {
            return Err(ProbeProblem::NoLocalKey { path });
        }
    }
    let provider = registry.get(&def.name).await.map_err(|e| ProbeProblem::Setup(e.into()))?;
    // A transit key's description explains a failing probe (its type), so
    // it comes first; a KMS key's (dates, rotation) only once the probes
    // show the key service answers, so an unreachable one is named by them.
    let describe_last = def.config.kind() == "aws-kms";
    if !describe_last {
        p.about = provider.describe().await.map_err(ProbeProblem::Describe)?;
    }
    let plain = SecretBytes::from_slice(b"fnox doctor probe");
    let started = Instant::now();
    let sealed = provider.encrypt(PROBE_NAME, &plain).await;
    p.encrypt = Some(started.elapsed());
    let sealed = sealed.map_err(ProbeProblem::Encrypt)?;
    let started = Instant::now();
    let opened = provider.decrypt(PROBE_NAME, &sealed).await;
    p.decrypt = Some(started.elapsed());
    if opened.map_err(ProbeProblem::Decrypt)?.expose() != plain.expose() {
        return Err(ProbeProblem::Mismatch);
    }
    if describe_last {
        p.about = provider.describe().await.map_err(ProbeProblem::Describe)?;
    }
    Ok(())
}

/// The state of secret `def` of `config`.
pub async fn check_secret(config: &Config, registry: &Registry, def: &SecretDef) -> SecretStatus {
    match resolve::resolve(config, registry, def).await {
        Ok(Some(p)) if p.source() == resolve::Source::Decrypted => {
            match stored_form(config, registry, def).await {
                Some(f) if f.unbound => SecretStatus::Unbound,
                Some(f) if f.old_key => SecretStatus::OldKey,
                _ => SecretStatus::Ok,
            }
        }
        Ok(Some(p)) if p.source() == resolve::Source::Environment => SecretStatus::Environment,
        Ok(Some(_)) => SecretStatus::Default,
        Ok(None) => SecretStatus::NoValue,
        Err(e) => SecretStatus::Failed(e),
    }
}

/// What the provider can tell of `def`'s stored value.
struct Form {
    /// Not under the provider's current key.
    old_key: bool,
    /// Not bound to its name.
    unbound: bool,
}

/// What the provider can tell of `def`'s value (or its envelope's data
/// key); `None` when it cannot be read.
async fn stored_form(config: &Config, registry: &Registry, def: &SecretDef) -> Option<Form> {
    let name = resolve::provider_of(config, def).ok()?;
    let provider = registry.get(&name).await.ok()?;
    if provider.stores_plaintext() {
        return None;
    }
    let bytes = provider.decode(def.value.as_deref().unwrap_or_default()).ok()?;
    let form = Stored::parse(&bytes).ok()?;
    let ciphertext = form.provider_ciphertext();
    let binding = form.provider_binding(&def.name);
    Some(Form {
        old_key: provider.is_current(ciphertext) == Some(false),
        unbound: provider.is_bound(&binding, ciphertext).await == Some(false),
    })
}

/// What [`check`] found in a profile.
#[derive(Debug, Default)]
pub struct Check {
    /// How many secrets it looked at.
    pub secrets: usize,
    /// What fails the check, in the order of the secrets (the files' order).
    pub problems: Vec<Error>,
    /// Secrets without a value that their `if_missing = "warn"` allows
    /// (programs run without them): told, not failed.
    pub warnings: Vec<Error>,
}

/// Checks the secrets of `config` from the config alone, without
/// decrypting anything or contacting a key service: a secret with a value
/// must have a provider to decrypt it (its own, or the default one); a
/// secret with neither value nor default is a problem when
/// `if_missing(def)` is `error`, a warning when it is `warn`, and nothing
/// when it is `ignore`; with `all`, it is a problem whatever its
/// `if_missing`. An entry that sets a variable that changes what programs
/// run is a problem unless it allows it (`exec` and `export` would refuse
/// it). The config itself was validated when it loaded (types, keys,
/// provider names).
pub fn check(config: &Config, if_missing: impl Fn(&SecretDef) -> IfMissing, all: bool) -> Check {
    let mut found = Check { secrets: config.secrets.len(), ..Check::default() };
    for def in config.secrets.values() {
        if def.value.is_some() {
            if let Err(e) = resolve::provider_of(config, def) {
                found.problems.push(e);
            }
            continue;
        }
        if def.default.is_some() {
            continue;
        }
        let missing = || Error::NoValue { name: def.name.clone(), at: def.at.clone() };
        match if_missing(def) {
            _ if all => found.problems.push(missing()),
            IfMissing::Error => found.problems.push(missing()),
            IfMissing::Warn => found.warnings.push(missing()),
            IfMissing::Ignore => {}
        }
    }
    for (def, control) in exec_control::setters(config.secrets.values()) {
        if !def.allow_exec_control {
            found.problems.push(exec_control::refusal(def, control));
        }
    }
    found
}
