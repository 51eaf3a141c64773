//! The per-value decision (re-wrap, re-encrypt, upgrade, move, or leave
//! alone) and the concurrent run over many values.

use std::{fmt, sync::Arc};

use tokio::{sync::Semaphore, task::JoinSet};

use crate::{
    codec::Stored,
    config::SecretDef,
    envelope::{self, Envelope},
    providers::{MAX_IN_FLIGHT, Provider, ProviderError, Rewrapped},
    value::{self, DataKeyWrite},
};

use super::file_keys;

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
    /// The keyring file of the provider it ends up with, when that is a
    /// `local` provider with one.
    pub to_keyring: Option<std::path::PathBuf>,
    /// The `[data_keys]` entries of the value's file, by provider.
    pub data_keys: std::collections::BTreeMap<String, String>,
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
    /// The changes of its file's `[data_keys]` entries that it needs
    /// (data-key mode; the same for every value of an entry).
    pub data_keys: Vec<DataKeyWrite>,
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
    if from.stores_plaintext() && !moving {
        // A `plain` value is stored as written: there is nothing to rotate.
        return Ok((Method::Unchanged, None));
    }
    let bytes = from.decode(stored)?;
    if moving {
        let plain = value::open(from, name, stored).await?;
        let is_envelope = !from.stores_plaintext()
            && !to.stores_plaintext()
            && matches!(Stored::parse(&bytes)?, Stored::Envelope(_));
        return Ok((Method::Move, Some(value::seal(to, name, &plain, is_envelope).await?)));
    }
    let form = Stored::parse(&bytes)?;
    if let Stored::Envelope(env) = form {
        if opts.new_data_key {
            let plain = value::open(from, name, stored).await?;
            return Ok((Method::Reencrypt, Some(value::seal(from, name, &plain, true).await?)));
        }
        if env.is_legacy() {
            return upgrade_envelope(from, name, &env).await;
        }
        let binding = env.key_binding(name);
        let b64 = |ct: &[u8]| crate::codec::encode_base64(&env.with_wrapped_key(ct));
        if let Some(result) = from.rewrap(&binding, env.wrapped_key).await {
            return Ok(rewrapped(result?, b64));
        }
        // We hold the key material (local, age): unwrap, check the payload,
        // and wrap the same data key under the current configuration.
        let data_key =
            envelope::unwrapped_data_key(&from.decrypt(&binding, env.wrapped_key).await?);
        env.open(&data_key, name)?;
        if from.is_current(env.wrapped_key) == Some(true) {
            return Ok((Method::Unchanged, None));
        }
        let wrapped = from.wrap_data_key(name, &data_key).await?;
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

/// A version-1 envelope, whose data key was wrapped like a value: the key
/// is unwrapped, checked against the payload, and wrapped again under its
/// data-key binding; the payload bytes stay as they are.
async fn upgrade_envelope(
    from: &dyn Provider,
    name: &str,
    env: &Envelope<'_>,
) -> Result<(Method, Option<String>), ProviderError> {
    let data_key = envelope::unwrapped_data_key(&from.decrypt(name, env.wrapped_key).await?);
    env.open(&data_key, name)?;
    let wrapped = from.wrap_data_key(name, &data_key).await?;
    Ok((Method::Upgrade, Some(crate::codec::encode_base64(&env.upgraded(&wrapped)))))
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
    let (keyed, jobs): (Vec<_>, Vec<_>) =
        jobs.into_iter().enumerate().partition(|(_, j)| file_keys::involves_file_key(j));
    let keyed_done = run_file_key_jobs(keyed, opts, progress.clone());
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (i, job) in jobs {
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
    let mut done = keyed_done.await;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, job, r)) => done.push((i, job, r.map(|(m, v)| (m, v, Vec::new())))),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    done.sort_by_key(|(i, _, _)| *i);
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for (_, job, result) in done {
        match result {
            Ok((method, new_value, data_keys)) => {
                outcomes.push(Outcome { job, method, new_value, data_keys });
            }
            Err(error) => failures.push(Failure { job, error }),
        }
    }
    (outcomes, failures)
}

/// What one job gave: its index, the job, and its method, new value and
/// `[data_keys]` changes, or why not.
type Done = (usize, Job, Result<(Method, Option<String>, Vec<DataKeyWrite>), ProviderError>);

/// The jobs that involve data keys: each (file, provider) entry prepared
/// once, then the values, at most [`MAX_IN_FLIGHT`] at once.
async fn run_file_key_jobs(
    jobs: Vec<(usize, Job)>,
    opts: Options,
    progress: Arc<dyn Fn() + Send + Sync>,
) -> Vec<Done> {
    use futures::StreamExt as _;
    if jobs.is_empty() {
        return Vec::new();
    }
    let refs: Vec<&Job> = jobs.iter().map(|(_, j)| j).collect();
    let entries = file_keys::prepare(&refs, opts).await;
    let entries = &entries;
    let calls = jobs.into_iter().map(|(i, job)| {
        let progress = progress.clone();
        async move {
            let result = file_keys::rotate_value(&job, entries, opts).await;
            progress();
            (i, job, result)
        }
    });
    futures::stream::iter(calls).buffer_unordered(MAX_IN_FLIGHT).collect().await
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::{codec, value};

    /// A toy provider: ciphertext = key version ‖ plaintext; `current` is
    /// its key version; with `rewrap`, it re-wraps as a key service would.
    #[derive(Debug)]
    struct Toy {
        current: u8,
        rewrap: Option<Service>,
    }

    #[derive(Debug, Clone, Copy)]
    enum Service {
        Normal,
        Upgrading,
    }

    #[async_trait]
    impl Provider for Toy {
        async fn encrypt(&self, _: &str, p: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
            Ok([&[self.current], p.expose()].concat())
        }

        async fn decrypt(&self, _: &str, c: &[u8]) -> Result<SecretBytes, ProviderError> {
            Ok(SecretBytes::from_slice(c.get(1..).ok_or(ProviderError::Tampered)?))
        }

        async fn rewrap(&self, _: &str, c: &[u8]) -> Option<Result<Rewrapped, ProviderError>> {
            let how = self.rewrap?;
            let ciphertext = [&[self.current], &c[1..]].concat();
            let unchanged = c[0] == self.current && matches!(how, Service::Normal);
            Some(Ok(Rewrapped {
                ciphertext,
                unchanged,
                upgraded: matches!(how, Service::Upgrading),
            }))
        }

        fn is_current(&self, c: &[u8]) -> Option<bool> {
            Some(c.first() == Some(&self.current))
        }
    }

    use crate::{
        providers::{Provider, ProviderError, Rewrapped},
        secret::SecretBytes,
    };

    fn toy(current: u8, rewrap: Option<Service>) -> Toy {
        Toy { current, rewrap }
    }

    /// A stored value made by a toy of key version `version`.
    async fn stored(version: u8, envelope: bool) -> String {
        value::seal(&toy(version, None), "A", &SecretBytes::from_slice(b"plain"), envelope)
            .await
            .unwrap()
    }

    fn payload(stored: &str) -> Vec<u8> {
        let bytes = codec::decode_base64(stored).unwrap();
        match Stored::parse(&bytes).unwrap() {
            Stored::Envelope(env) => env.sealed.to_vec(),
            Stored::Direct(d) => d.to_vec(),
        }
    }

    #[tokio::test]
    async fn the_decision_table() {
        use Method::*;
        let new_key = Options { new_data_key: true };
        let plain = Options::default();
        // (what, stored version, envelope, provider, options, expected method)
        let cases: Vec<(&str, u8, bool, Toy, Options, Method)> = vec![
            ("direct, current", 2, false, toy(2, None), plain, Unchanged),
            ("direct, old key", 1, false, toy(2, None), plain, Reencrypt),
            (
                "direct, service says current",
                2,
                false,
                toy(2, Some(Service::Normal)),
                plain,
                Unchanged,
            ),
            ("direct, service re-wraps", 1, false, toy(2, Some(Service::Normal)), plain, Rewrap),
            ("direct, unbound legacy", 2, false, toy(2, Some(Service::Upgrading)), plain, Upgrade),
            ("envelope, current", 2, true, toy(2, None), plain, Unchanged),
            ("envelope, old key", 1, true, toy(2, None), plain, Rewrap),
            ("envelope, service re-wraps", 1, true, toy(2, Some(Service::Normal)), plain, Rewrap),
            ("envelope, new data key", 2, true, toy(2, None), new_key, Reencrypt),
        ];
        for (what, version, envelope, provider, opts, expected) in cases {
            let old = stored(version, envelope).await;
            let (method, new) =
                rotate_value(&provider, &provider, false, "A", &old, opts).await.unwrap();
            assert_eq!(method, expected, "{what}");
            assert_eq!(new.is_none(), method == Unchanged, "{what}");
            let Some(new) = new else { continue };
            let opened = value::open(&provider, "A", &new).await.unwrap();
            assert_eq!(opened.expose(), b"plain", "{what}");
            // A re-wrap leaves an envelope's payload byte for byte.
            if envelope && method == Rewrap {
                assert_eq!(payload(&new), payload(&old), "{what}");
            }
            if envelope && method == Reencrypt {
                assert_ne!(payload(&new), payload(&old), "{what}");
            }
        }
    }

    #[tokio::test]
    async fn a_version_1_envelope_is_upgraded_and_its_payload_kept() {
        let provider = toy(2, None);
        let key = envelope::generate_data_key();
        let wrapped = provider.encrypt("A", &key).await.unwrap();
        let mut bytes = envelope::seal(&key, &wrapped, "A", b"plain").unwrap();
        bytes[4] = envelope::LEGACY_VERSION;
        let old = codec::encode_base64(&bytes);
        let (method, new) =
            rotate_value(&provider, &provider, false, "A", &old, Options::default()).await.unwrap();
        assert_eq!(method, Method::Upgrade);
        let new = new.unwrap();
        assert_eq!(payload(&new), payload(&old));
        let new_bytes = codec::decode_base64(&new).unwrap();
        let Stored::Envelope(env) = Stored::parse(&new_bytes).unwrap() else { panic!("direct") };
        assert_eq!(env.version, envelope::VERSION);
        assert!(envelope::is_marked_data_key(&env.wrapped_key[1..]), "wrapped as a data key");
        assert_eq!(value::open(&provider, "A", &new).await.unwrap().expose(), b"plain");
        // Upgraded, it is current: the next rotation leaves it alone.
        let (again, _) =
            rotate_value(&provider, &provider, false, "A", &new, Options::default()).await.unwrap();
        assert_eq!(again, Method::Unchanged);
    }

    #[tokio::test]
    async fn moving_re_encrypts_with_the_target_and_keeps_the_form() {
        for envelope in [false, true] {
            let old = stored(1, envelope).await;
            let (from, to) = (toy(1, Some(Service::Normal)), toy(7, None));
            let (method, new) =
                rotate_value(&from, &to, true, "A", &old, Options::default()).await.unwrap();
            assert_eq!(method, Method::Move);
            let new = new.unwrap();
            let bytes = codec::decode_base64(&new).unwrap();
            let form = Stored::parse(&bytes).unwrap();
            assert_eq!(matches!(form, Stored::Envelope(_)), envelope);
            assert_eq!(form.provider_ciphertext()[0], 7, "made by the target");
            assert_eq!(value::open(&to, "A", &new).await.unwrap().expose(), b"plain");
        }
    }

    #[tokio::test]
    async fn a_tampered_envelope_payload_is_not_re_wrapped() {
        let old = stored(1, true).await;
        let mut bytes = codec::decode_base64(&old).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = codec::encode_base64(&bytes);
        let result =
            rotate_value(&toy(2, None), &toy(2, None), false, "A", &tampered, Options::default())
                .await;
        assert!(matches!(result, Err(ProviderError::Envelope(_))), "{result:?}");
    }
}
