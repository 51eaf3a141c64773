//! Turning secret entries into plaintext, one or many at a time, each
//! labelled with where it came from.

use std::sync::Arc;

use std::collections::BTreeMap;

use tokio::task::JoinSet;

use crate::{
    codec::Stored,
    config::{Config, SecretDef},
    error::Error,
    providers::{Provider, ProviderError, Registry},
    secret::SecretBytes,
    value,
};

/// Where a secret's plaintext came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The entry's `value`, opened by its provider: decrypted, or as
    /// written for the `plain` provider.
    Decrypted,
    /// The entry's plain `default` (there is no `value`).
    Default,
}

/// A secret's plaintext, and where it came from: a decrypted value is
/// always secret; a `default`, or a `plain` provider's value, only when its
/// entry says `sensitive = true`.
/// Whoever shows output (a log filter, CI masks) hides what
/// [`Plaintext::is_secret`] says, and shows the rest as it is.
#[derive(Debug, Clone)]
pub struct Plaintext {
    bytes: SecretBytes,
    source: Source,
    secret: bool,
}

impl Plaintext {
    fn decrypted(bytes: SecretBytes) -> Self {
        Self { bytes, source: Source::Decrypted, secret: true }
    }

    /// The `value` of `def` as `provider` opened it: secret unless the
    /// provider is `plain` and the entry does not say `sensitive = true`.
    fn opened(bytes: SecretBytes, provider: &dyn Provider, def: &SecretDef) -> Self {
        let mut p = Self::decrypted(bytes);
        p.secret = !provider.stores_plaintext() || def.sensitive == Some(true);
        p
    }

    /// The `default` of `def`, if it has one.
    fn default_of(def: &SecretDef) -> Option<Self> {
        def.default.clone().map(|d| Self {
            bytes: SecretBytes::from(d),
            source: Source::Default,
            secret: def.sensitive == Some(true),
        })
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

    /// True when it is a secret: decrypted, or a default whose entry says
    /// `sensitive = true`. A plain default is a setting (`LOG_LEVEL`), in
    /// the config file in clear: hiding it in logs hides nothing and
    /// garbles every line that happens to contain it.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

/// The provider that encrypts `def`: its own, else the default.
pub fn provider_of(config: &Config, def: &SecretDef) -> Result<String, Error> {
    def.provider.clone().or_else(|| config.default_provider.clone()).ok_or_else(|| {
        Error::NoDefaultProvider { name: def.name.clone(), defined: config.provider_names() }
    })
}

/// The plaintext of `def`: its decrypted `value`, else its `default`, else
/// `None` (the secret is missing).
pub async fn resolve(
    config: &Config,
    registry: &Registry,
    def: &SecretDef,
) -> Result<Option<Plaintext>, Error> {
    if let Some(stored) = &def.value {
        let provider_name = provider_of(config, def)?;
        let built = registry.get(&provider_name).await;
        let provider = built.map_err(|e| Error::from(e).needed_by(&def.name))?;
        let opened = value::open(provider.as_ref(), &def.name, stored).await;
        return opened.map(|b| Some(Plaintext::opened(b, provider.as_ref(), def))).map_err(
            |source| Error::Decrypt {
                name: def.name.clone(),
                provider: provider_name,
                at: def.at.clone(),
                source,
            },
        );
    }
    Ok(Plaintext::default_of(def))
}

/// Resolves every entry in `defs`. The values of each provider go to it in
/// one [`Provider::decrypt_many`] call (one batch request where the
/// provider has a batch API); providers run concurrently. Results keep the
/// order of `defs`; the first failure in that order is returned.
///
/// [`Provider::decrypt_many`]: crate::providers::Provider::decrypt_many
pub async fn resolve_all(
    config: Arc<Config>,
    registry: Arc<Registry>,
    defs: Vec<SecretDef>,
) -> Result<Vec<(SecretDef, Option<Plaintext>)>, Error> {
    let mut results: Vec<Option<Result<Option<Plaintext>, Error>>> =
        (0..defs.len()).map(|_| None).collect();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, def) in defs.iter().enumerate() {
        match &def.value {
            Some(_) => match provider_of(&config, def) {
                Ok(p) => groups.entry(p).or_default().push(i),
                Err(e) => results[i] = Some(Err(e)),
            },
            None => results[i] = Some(Ok(Plaintext::default_of(def))),
        }
    }
    let defs = Arc::new(defs);
    let mut tasks = JoinSet::new();
    for (provider_name, indices) in groups {
        let (registry, defs) = (registry.clone(), defs.clone());
        tasks.spawn(async move {
            let out = open_group(&registry, &provider_name, &defs, &indices).await;
            (indices, out)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (indices, out) = match joined {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        match out {
            Ok(values) => {
                for (i, v) in indices.into_iter().zip(values) {
                    results[i] = Some(v.map(Some));
                }
            }
            Err(e) => {
                let first = indices[0];
                results[first] = Some(Err(e));
            }
        }
    }
    let defs = Arc::try_unwrap(defs).unwrap_or_else(|d| (*d).clone());
    defs.into_iter().zip(results).filter_map(|(def, r)| r.map(|r| r.map(|v| (def, v)))).collect()
}

/// Opens the values at `indices` of `defs`, all of provider `name`.
async fn open_group(
    registry: &Registry,
    name: &str,
    defs: &[SecretDef],
    indices: &[usize],
) -> Result<Vec<Result<Plaintext, Error>>, Error> {
    let built = registry.get(name).await;
    let provider = built.map_err(|e| Error::from(e).needed_by(&defs[indices[0]].name))?;
    let opened = open_values(provider.as_ref(), name, defs, indices).await?;
    let label = |(k, v): (usize, Result<SecretBytes, Error>)| {
        v.map(|b| Plaintext::opened(b, provider.as_ref(), &defs[indices[k]]))
    };
    Ok(opened.into_iter().enumerate().map(label).collect())
}

/// The plaintexts of the values at `indices` of `defs`, all of `provider`
/// (called `name`).
async fn open_values(
    provider: &dyn Provider,
    name: &str,
    defs: &[SecretDef],
    indices: &[usize],
) -> Result<Vec<Result<SecretBytes, Error>>, Error> {
    if provider.stores_plaintext() {
        let text = |&i: &usize| defs[i].value.as_deref().unwrap_or_default().as_bytes();
        return Ok(indices.iter().map(|i| Ok(SecretBytes::from_slice(text(i)))).collect());
    }
    let fail = |def: &SecretDef, source| Error::Decrypt {
        name: def.name.clone(),
        provider: name.to_string(),
        at: def.at.clone(),
        source,
    };
    // Decode each value; an envelope contributes its wrapped data key. A
    // value that does not decode fails alone.
    let mut out: Vec<Option<Result<SecretBytes, Error>>> = indices.iter().map(|_| None).collect();
    let mut items = Vec::with_capacity(indices.len());
    let mut decoded = Vec::with_capacity(indices.len());
    for (k, &i) in indices.iter().enumerate() {
        let def = &defs[i];
        let stored = def.value.as_deref().unwrap_or_default();
        let key = provider.decode(stored).and_then(|bytes| {
            let form = Stored::parse(&bytes)?;
            let key = (form.provider_binding(&def.name), form.provider_ciphertext().to_vec());
            Ok((bytes, key))
        });
        match key {
            Ok((bytes, key)) => {
                items.push(key);
                decoded.push((k, bytes));
            }
            Err(e) => out[k] = Some(Err(fail(def, e))),
        }
    }
    let opened = provider.decrypt_many(&items).await;
    // A short answer fails every value of the group: never a secret
    // quietly missing.
    let (asked, got) = (items.len(), opened.len());
    let mut opened = opened.into_iter();
    for (k, bytes) in decoded {
        let def = &defs[indices[k]];
        let plain = opened
            .next()
            .filter(|_| asked == got)
            .unwrap_or(Err(ProviderError::ShortAnswer { asked, got }));
        let result = plain.and_then(|plain| Ok(Stored::parse(&bytes)?.finish(plain, &def.name)?));
        out[k] = Some(result.map_err(|e| fail(def, e)));
    }
    debug_assert!(out.iter().all(Option::is_some), "every value has its result");
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Environment, Fnox, LoadOptions, Project};

    /// A project with two `local` providers on keyrings of their own, and
    /// the given `[secrets]` lines (`{a:NAME}` / `{b:NAME}` stand for the
    /// value NAME sealed by provider a or b).
    fn project(secrets: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let tmp = tempfile::tempdir().unwrap();
        let providers = "[providers.a]\ntype = \"local\"\nkey_file = \"a.key\"\n\n[providers.b]\ntype = \"local\"\nkey_file = \"b.key\"\n";
        std::fs::write(tmp.path().join("fnox.toml"), providers).unwrap();
        let env = Environment::new(tmp.path()).with_var("FNOX_CONFIG_DIR", "config");
        let fnox = Fnox::new(env).unwrap();
        let first = fnox.load(&LoadOptions::default()).unwrap();
        let mut text = format!("{providers}\n[secrets]\n");
        for (name, entry) in secrets {
            let entry = match entry.split_once(':') {
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
        let expected = vec![
            ("A".to_string(), Some((Source::Decrypted, true))),
            ("LEVEL".to_string(), Some((Source::Default, false))),
            ("M".to_string(), None),
            ("PASS".to_string(), Some((Source::Default, true))),
        ];
        assert_eq!(labels(project.resolve(&[]).unwrap()), expected);
        // One at a time, the same.
        let one: crate::Resolved = ["A", "LEVEL", "M", "PASS"]
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
