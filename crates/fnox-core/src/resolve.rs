//! Turning secret entries into plaintext, one or many at a time, each
//! labelled with where it came from: the decrypted `value`, else the
//! `default` (its `${NAME}` references filled in), else the variable of the
//! secret's own name in the environment; then the part of it that the entry
//! asks for (`json_path`, `line`).

mod open;

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use zeroize::Zeroizing;

use crate::{
    config::{Config, SecretDef},
    error::Error,
    interpolate::{self, Piece},
    providers::Registry,
    secret::SecretBytes,
    shape,
};

/// Where a secret's plaintext came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The entry's `value`, opened by its provider: decrypted, or as
    /// written for the `plain` provider.
    Decrypted,
    /// The entry's plain `default` (there is no `value`), with the values
    /// of the secrets it uses (`${NAME}`) filled in.
    Default,
    /// The variable of the secret's name in the environment: the entry has
    /// neither a `value` nor a `default` (as in jdx/fnox).
    Environment,
}

/// A secret's plaintext, and where it came from. A decrypted value is
/// always secret (a `plain` provider's value only when its entry says
/// `sensitive = true`); a value from the environment too, unless its entry says
/// `sensitive = false`; a `default` when its entry says `sensitive = true`
/// or it uses (`${NAME}`) a value that is secret. Whoever shows output (a
/// log filter, CI masks) hides what [`Plaintext::is_secret`] says, and
/// shows the rest as it is.
#[derive(Debug, Clone)]
pub struct Plaintext {
    bytes: SecretBytes,
    source: Source,
    secret: bool,
}

impl Plaintext {
    fn new(bytes: SecretBytes, source: Source, secret: bool) -> Self {
        Self { bytes, source, secret }
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        self.bytes.expose()
    }

    /// The bytes, in their zeroizing holder.
    pub fn bytes(&self) -> &SecretBytes {
        &self.bytes
    }

    /// The bytes, without the label.
    pub fn into_bytes(self) -> SecretBytes {
        self.bytes
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Where it came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// True when it is a secret (see [`Plaintext`]). A plain default is a
    /// setting (`LOG_LEVEL`), in the config file in clear: hiding it in
    /// logs hides nothing and garbles every line that happens to contain it.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

/// What resolving one secret gives: its plaintext, `None` when it has none
/// (no value, no default, no variable of its name), or why it cannot be
/// had.
pub type Outcome = Result<Option<Plaintext>, Error>;

/// An outcome whose failure other secrets (whose defaults use it) share.
type Shared = Result<Option<Plaintext>, Arc<Error>>;

/// The provider that encrypts `def`: its own, else the default.
pub fn provider_of(config: &Config, def: &SecretDef) -> Result<String, Error> {
    provider_name_of(config, def).map(str::to_string)
}

/// [`provider_of`], borrowed.
pub(crate) fn provider_name_of<'c>(
    config: &'c Config,
    def: &'c SecretDef,
) -> Result<&'c str, Error> {
    def.provider.as_deref().or(config.default_provider.as_deref()).ok_or_else(|| {
        Error::NoDefaultProvider { name: def.name.clone(), defined: config.provider_names() }
    })
}

/// The plaintext of `def` (see [`resolve_each`]).
pub async fn resolve(
    config: &Config,
    registry: &Registry,
    def: &SecretDef,
) -> Result<Option<Plaintext>, Error> {
    let mut each = resolve_each(config, registry, vec![def.clone()]).await?;
    each.pop().map_or(Ok(None), |(_, outcome)| outcome)
}

/// Resolves every entry in `defs`, in their order, and fails with the
/// first failure in that order (see [`resolve_each`]).
pub async fn resolve_all(
    config: Arc<Config>,
    registry: Arc<Registry>,
    defs: Vec<SecretDef>,
) -> Result<Vec<(SecretDef, Option<Plaintext>)>, Error> {
    let each = resolve_each(&config, &registry, defs).await?;
    each.into_iter().map(|(def, outcome)| outcome.map(|v| (def, v))).collect()
}

/// The outcome of each entry in `defs`, in their order: its decrypted
/// `value`; else its `default`, each `${NAME}` replaced by the value of
/// secret NAME of the profile (whatever the order they are declared in);
/// else the variable of its name in the environment; then the part of it
/// that its `json_path` or `line` asks for. The values go to each provider
/// in one [`Provider::decrypt_many`] call; providers run concurrently.
///
/// Fails as a whole when a default in use refers to a secret that is not
/// defined, or defaults use each other in a cycle: mistakes in the config.
/// Everything else fails the one secret (and the secrets whose defaults
/// use it).
///
/// [`Provider::decrypt_many`]: crate::providers::Provider::decrypt_many
pub async fn resolve_each(
    config: &Config,
    registry: &Registry,
    defs: Vec<SecretDef>,
) -> Result<Vec<(SecretDef, Outcome)>, Error> {
    // Every secret needed, each after the secrets its default uses.
    let needed = interpolate::order_refs(config, &defs)?;
    let mut decrypted = open::decrypt_all(config, registry, &needed).await;
    let env = &registry.context().env;
    let mut done: HashMap<&str, Shared> = HashMap::with_capacity(needed.len());
    for &def in &needed {
        let found: Shared = match (decrypted.remove(&def.name), &def.default) {
            (Some(opened), _) => {
                let secret = config.is_secret(def);
                opened.map(|b| Some(Plaintext::new(b, Source::Decrypted, secret)))
            }
            (None, Some(template)) => render(def, template, &done).map(Some).map_err(Arc::new),
            (None, None) => Ok(env.fallback(&def.name).map(|b| {
                let secret = def.sensitive != Some(false);
                Plaintext::new(SecretBytes::from_slice(b), Source::Environment, secret)
            })),
        };
        let shaped = found.and_then(|p| p.map(|p| part_of(def, p).map_err(Arc::new)).transpose());
        done.insert(def.name.as_str(), shaped);
    }
    // Each outcome moves out for the last entry of its name in `defs`
    // (earlier ones, if a name is asked for twice, get a copy).
    let mut left: HashMap<&str, usize> = HashMap::with_capacity(defs.len());
    for d in &defs {
        *left.entry(d.name.as_str()).or_default() += 1;
    }
    let mut outcomes: Vec<Shared> = Vec::with_capacity(defs.len());
    for d in &defs {
        let count = left.get_mut(d.name.as_str()).expect("counted above");
        *count -= 1;
        let outcome = if *count == 0 {
            done.remove(d.name.as_str())
        } else {
            done.get(d.name.as_str()).cloned()
        };
        outcomes.push(outcome.unwrap_or(Ok(None)));
    }
    drop(left);
    // The failures that only one outcome holds now come out as they are.
    drop(done);
    let unshare = |e: Arc<Error>| Arc::try_unwrap(e).unwrap_or_else(Error::Shared);
    Ok(defs.into_iter().zip(outcomes).map(|(d, o)| (d, o.map_err(unshare))).collect())
}

/// The `default` of `def` with each `${NAME}` replaced by the value of
/// NAME (in `done`: [`interpolate::order`] put it first). Secret when the
/// entry says `sensitive = true` or a value it uses is secret.
fn render(
    def: &SecretDef,
    template: &str,
    done: &HashMap<&str, Shared>,
) -> Result<Plaintext, Error> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(template.len()));
    let mut secret = def.sensitive == Some(true);
    for piece in interpolate::pieces(template) {
        let reference = match piece {
            Piece::Text(text) => {
                bytes.extend_from_slice(text.as_bytes());
                continue;
            }
            Piece::Ref(reference) => reference,
        };
        let missing = || Error::ReferenceMissing {
            name: def.name.clone(),
            at: def.at.clone(),
            reference: reference.to_string(),
        };
        match done.get(reference) {
            Some(Ok(Some(value))) => {
                bytes.extend_from_slice(value.expose());
                secret |= value.is_secret();
            }
            Some(Ok(None)) | None => return Err(missing()),
            Some(Err(e)) => {
                return Err(Error::ReferenceFailed {
                    name: def.name.clone(),
                    at: def.at.clone(),
                    reference: reference.to_string(),
                    source: e.clone(),
                });
            }
        }
    }
    let bytes = SecretBytes::new(std::mem::take(&mut *bytes));
    Ok(Plaintext::new(bytes, Source::Default, secret))
}

/// The part of `plain` that `def` gives (`json_path`, `line`), or all of it.
fn part_of(def: &SecretDef, plain: Plaintext) -> Result<Plaintext, Error> {
    let Some(part) = def.part() else {
        return Ok(plain);
    };
    let bytes = shape::take(&plain.bytes, part).map_err(|source| Error::Shape {
        name: def.name.clone(),
        at: def.at.clone(),
        part: part.to_string(),
        source,
    })?;
    Ok(Plaintext { bytes, ..plain })
}

#[cfg(test)]
mod values_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Environment, Fnox, LoadOptions, Project};

    /// A project with two `local` providers on keyrings of their own, and
    /// the given `[secrets]` lines (`{a:NAME}` / `{b:NAME}` stand for the
    /// value NAME sealed by provider a or b).
    pub(super) fn project(secrets: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        project_with(secrets, &[])
    }

    /// [`project`] in an environment that also has `vars`.
    pub(super) fn project_with(
        secrets: &[(&str, &str)],
        vars: &[(&str, &str)],
    ) -> (tempfile::TempDir, Project) {
        let tmp = tempfile::tempdir().unwrap();
        let providers = "[providers.a]\ntype = \"local\"\nkey_file = \"a.key\"\n\n[providers.b]\ntype = \"local\"\nkey_file = \"b.key\"\n";
        std::fs::write(tmp.path().join("fnox.toml"), providers).unwrap();
        let mut env = Environment::new(tmp.path()).with_var("FNOX_CONFIG_DIR", "config");
        for (k, v) in vars {
            env = env.with_var(k, *v);
        }
        let fnox = Fnox::new(env).unwrap();
        let first = fnox.load(&LoadOptions::default()).unwrap();
        let mut text = format!("{providers}\n[secrets]\n");
        for (name, entry) in secrets {
            let sealed = ["a", "b"]
                .into_iter()
                .find_map(|p| entry.strip_prefix(&format!("{p}:")).map(|plain| (p, plain)));
            let entry = match sealed {
                Some((p, plain)) => {
                    let sealer = first.sealer(p).unwrap();
                    let v = sealer.seal(name, &SecretBytes::from_slice(plain.as_bytes())).unwrap();
                    format!("{{ provider = \"{p}\", value = \"{v}\" }}")
                }
                None => entry.to_string(),
            };
            text.push_str(&format!("{name} = {entry}\n"));
        }
        std::fs::write(tmp.path().join("fnox.toml"), text).unwrap();
        let project = fnox.load(&LoadOptions::default()).unwrap();
        (tmp, project)
    }

    fn resolve_in_order(
        project: &Project,
        order: &[&str],
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let config = project.config().clone();
        let defs: Vec<SecretDef> = order.iter().map(|n| config.secrets[*n].clone()).collect();
        let registry = project.registry().clone();
        let out = project.fnox().block_on(resolve_all(config, registry, defs)).unwrap()?;
        Ok(out
            .into_iter()
            .map(|(d, v)| (d.name, v.map(|v| String::from_utf8_lossy(v.expose()).into_owned())))
            .collect())
    }

    #[test]
    fn results_keep_the_order_asked_across_providers_and_defaults() {
        let (_tmp, project) = project(&[
            ("A1", "a:one"),
            ("B1", "b:two"),
            ("D", "{ default = \"plain\" }"),
            ("A2", "a:three"),
            ("M", "{ description = \"no value\" }"),
            ("B2", "b:four"),
        ]);
        let order = ["B2", "A1", "M", "D", "B1", "A2"];
        let out = resolve_in_order(&project, &order).unwrap();
        let expected: Vec<(String, Option<String>)> = [
            ("B2", Some("four")),
            ("A1", Some("one")),
            ("M", None),
            ("D", Some("plain")),
            ("B1", Some("two")),
            ("A2", Some("three")),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
        .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_name_asked_for_twice_gets_its_value_both_times() {
        let (_tmp, project) =
            project(&[("A1", "a:one"), ("D", "{ default = \"${A1}-x\" }"), ("B1", "b:two")]);
        let out = resolve_in_order(&project, &["D", "A1", "D", "B1", "A1"]).unwrap();
        let expected: Vec<(String, Option<String>)> =
            [("D", "one-x"), ("A1", "one"), ("D", "one-x"), ("B1", "two"), ("A1", "one")]
                .iter()
                .map(|(n, v)| (n.to_string(), Some(v.to_string())))
                .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn each_value_says_where_it_came_from_and_whether_it_is_secret() {
        let (_tmp, project) = project(&[
            ("A", "a:one"),
            ("LEVEL", "{ default = \"debug\" }"),
            ("PASS", "{ default = \"hunter2\", sensitive = true }"),
            ("M", "{ sensitive = true }"),
        ]);
        let labels = |all: crate::Resolved| -> Vec<(String, Option<(Source, bool)>)> {
            all.into_iter().map(|(d, p)| (d.name, p.map(|p| (p.source(), p.is_secret())))).collect()
        };
        // In the file's order.
        let expected = vec![
            ("A".to_string(), Some((Source::Decrypted, true))),
            ("LEVEL".to_string(), Some((Source::Default, false))),
            ("PASS".to_string(), Some((Source::Default, true))),
            ("M".to_string(), None),
        ];
        assert_eq!(labels(project.resolve(&[]).unwrap()), expected);
        // One at a time, the same.
        let one: crate::Resolved = ["A", "LEVEL", "PASS", "M"]
            .iter()
            .map(|n| (project.config().secrets[*n].clone(), project.get(n).unwrap()))
            .collect();
        assert_eq!(labels(one), expected);
    }

    #[test]
    fn the_first_failure_in_the_order_asked_is_returned() {
        let (_tmp, project) = project(&[
            ("A1", "a:one"),
            ("BAD_A", "{ provider = \"a\", value = \"AQAAAAA=\" }"),
            ("B1", "b:two"),
            ("BAD_B", "{ provider = \"b\", value = \"not base64!\" }"),
        ]);
        let err = resolve_in_order(&project, &["A1", "BAD_B", "B1", "BAD_A"]).unwrap_err();
        assert!(matches!(&err, Error::Decrypt { name, .. } if name == "BAD_B"), "{err:?}");
        let err = resolve_in_order(&project, &["BAD_A", "A1", "BAD_B"]).unwrap_err();
        assert!(matches!(&err, Error::Decrypt { name, .. } if name == "BAD_A"), "{err:?}");
        // A value that does not even decode fails alone, in its own place.
        let err = resolve_in_order(&project, &["B1", "BAD_A", "BAD_B"]).unwrap_err();
        assert!(matches!(&err, Error::Decrypt { name, .. } if name == "BAD_A"), "{err:?}");
    }
}
