//! The per-value decision (re-wrap, re-encrypt, upgrade, move, or leave
//! alone) and the concurrent run over many values.

use std::{fmt, sync::Arc};

use tokio::{sync::Semaphore, task::JoinSet};

use crate::{
    codec::Stored,
    config::SecretDef,
    providers::{MAX_IN_FLIGHT, Provider, ProviderError, Rewrapped},
    value,
};

/// How a value is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// Already under the current key (and bound to its name).
    Unchanged,
    /// Only the key wrapping changes: KMS `ReEncrypt`, or an envelope's
    /// data key re-wrapped; the payload stays byte-identical.
    Rewrap,
    /// Decrypted and encrypted again under the current configuration.
    Reencrypt,
    /// A legacy value without name binding, now bound.
    Upgrade,
    /// Moved to another provider (`--to`).
    Move,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Unchanged => "unchanged",
            Method::Rewrap => "re-wrap",
            Method::Reencrypt => "re-encrypt",
            Method::Upgrade => "upgrade",
            Method::Move => "move",
        })
    }
}

/// Options that apply to every value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Re-encrypt envelope payloads under fresh data keys.
    pub new_data_key: bool,
}

/// One value to rotate.
#[derive(Debug, Clone)]
pub struct Job {
    /// The entry (name, file, table, stored value).
    pub def: SecretDef,
    /// The provider that made the value.
    pub from_name: String,
    /// The provider it ends up with (the same one unless `--to`).
    pub to_name: String,
    /// The provider that made the value.
    pub from: Arc<dyn Provider>,
    /// The provider it ends up with.
    pub to: Arc<dyn Provider>,
}

/// What happened to one value.
#[derive(Debug)]
pub struct Outcome {
    /// The job.
    pub job: Job,
    /// The method used.
    pub method: Method,
    /// The new stored value (`None` when unchanged).
    pub new_value: Option<String>,
}

/// A value that could not be rotated.
#[derive(Debug)]
pub struct Failure {
    /// The job.
    pub job: Job,
    /// Why.
    pub error: ProviderError,
}

/// Rotates one stored value of secret `name`.
pub async fn rotate_value(
    from: &dyn Provider,
    to: &dyn Provider,
    moving: bool,
    name: &str,
    stored: &str,
    opts: Options,
) -> Result<(Method, Option<String>), ProviderError> {
    let bytes = from.decode(stored)?;
    let form = Stored::parse(&bytes)?;
    if moving {
        let plain = value::open(from, name, stored).await?;
        let is_envelope = matches!(form, Stored::Envelope(_));
        return Ok((Method::Move, Some(value::seal(to, name, &plain, is_envelope).await?)));
    }
    if let Stored::Envelope(env) = form {
        if opts.new_data_key {
            let plain = value::open(from, name, stored).await?;
            return Ok((Method::Reencrypt, Some(value::seal(from, name, &plain, true).await?)));
        }
        let b64 = |ct: &[u8]| crate::codec::encode_base64(&env.with_wrapped_key(ct));
        if let Some(result) = from.rewrap(name, env.wrapped_key).await {
            return Ok(rewrapped(result?, b64));
        }
        // We hold the key material (local, age): unwrap, check the payload,
        // and wrap the same data key under the current configuration.
        let data_key = from.decrypt(name, env.wrapped_key).await?;
        env.open(&data_key, name)?;
        if from.is_current(env.wrapped_key) == Some(true) {
            return Ok((Method::Unchanged, None));
        }
        let wrapped = from.encrypt(name, &data_key).await?;
        return Ok((Method::Rewrap, Some(b64(&wrapped))));
    }
    if let Some(result) = from.rewrap(name, &bytes).await {
        return Ok(rewrapped(result?, |ct| from.encode(ct)));
    }
    let plain = from.decrypt(name, &bytes).await?;
    if from.is_current(&bytes) == Some(true) {
        return Ok((Method::Unchanged, None));
    }
    Ok((Method::Reencrypt, Some(value::seal(from, name, &plain, false).await?)))
}

fn rewrapped(r: Rewrapped, encode: impl FnOnce(&[u8]) -> String) -> (Method, Option<String>) {
    if r.unchanged {
        (Method::Unchanged, None)
    } else if r.upgraded {
        (Method::Upgrade, Some(encode(&r.ciphertext)))
    } else {
        (Method::Rewrap, Some(encode(&r.ciphertext)))
    }
}

/// Rotates every job concurrently (at most [`MAX_IN_FLIGHT`] at once);
/// `progress` is called after each one. Returns outcomes and failures, both
/// in the order of `jobs`.
pub async fn run(
    jobs: Vec<Job>,
    opts: Options,
    progress: Arc<dyn Fn() + Send + Sync>,
) -> (Vec<Outcome>, Vec<Failure>) {
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let (limit, progress) = (limit.clone(), progress.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let stored = job.def.value.clone().unwrap_or_default();
            let moving = job.from_name != job.to_name;
            let result = rotate_value(
                job.from.as_ref(),
                job.to.as_ref(),
                moving,
                &job.def.name,
                &stored,
                opts,
            )
            .await;
            progress();
            (i, job, result)
        });
    }
    let mut done = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => done.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    done.sort_by_key(|(i, _, _)| *i);
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for (_, job, result) in done {
        match result {
            Ok((method, new_value)) => outcomes.push(Outcome { job, method, new_value }),
            Err(error) => failures.push(Failure { job, error }),
        }
    }
    (outcomes, failures)
}
