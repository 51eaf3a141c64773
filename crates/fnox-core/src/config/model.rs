//! The typed config model: one parsed file, and the merged view of all files
//! for the active profile.

use std::{collections::BTreeMap, path::PathBuf, str::FromStr};

use super::{ConfigError, DEFAULT_PROFILE, Location, ProviderConfig, UnknownSecret};

/// What to do when a secret has neither a value nor a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    /// Fail the command.
    Error,
    /// Print a warning and go on without it.
    Warn,
    /// Go on without it, silently.
    Ignore,
}

impl FromStr for IfMissing {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "error" => Ok(Self::Error),
            "warn" => Ok(Self::Warn),
            "ignore" => Ok(Self::Ignore),
            _ => Err(()),
        }
    }
}

/// One `[secrets]` entry as written.
#[derive(Debug, Clone)]
pub struct SecretDef {
    /// The name (an environment-variable name).
    pub name: String,
    /// `provider = ...`, if given.
    pub provider: Option<String>,
    /// The stored ciphertext.
    pub value: Option<std::sync::Arc<str>>,
    /// A plain default, used when there is no `value`: a setting, not a
    /// secret, unless `sensitive` says otherwise.
    pub default: Option<String>,
    /// `sensitive = ...` as written: `true` makes the `default` secret
    /// (redacted, masked in CI). An encrypted `value` is always secret, so
    /// `false` is refused next to one.
    pub sensitive: Option<bool>,
    /// Free text for `list`.
    pub description: Option<String>,
    /// Per-secret `if_missing`.
    pub if_missing: Option<IfMissing>,
    /// `allow_exec_control = true`: the entry may set a variable that
    /// changes what programs run (see [`crate::exec_control`]).
    pub allow_exec_control: bool,
    /// Where the entry is.
    pub at: Location,
    /// The table path of the `[secrets]` table that holds it, inside `at.file`.
    pub table: Vec<String>,
    /// Where the `value` string token is in the file, and a digest of the
    /// whole file as it was read: `set` replaces the token in place when the
    /// file is still the same.
    pub value_span: Option<(std::ops::Range<usize>, u64)>,
    /// True when it belongs to the active profile's own layer (a
    /// `[profiles.NAME.secrets]` table or a `fnox.NAME.toml` file) rather
    /// than the top-level defaults.
    pub in_profile: bool,
}

impl SecretDef {
    /// True when what this entry gives is secret, to be hidden wherever
    /// output is shown (`exec --redact`, CI masks): an encrypted `value`
    /// always, a plain `default` only when the entry says `sensitive = true`.
    pub fn is_secret(&self) -> bool {
        self.value.is_some() || self.sensitive == Some(true)
    }
}

/// One `[providers]` entry.
#[derive(Debug, Clone)]
pub struct ProviderDef {
    /// The provider's name.
    pub name: String,
    /// Its typed settings.
    pub config: ProviderConfig,
    /// Where it is defined.
    pub at: Location,
}

/// The settings of one layer (the top level, or one profile) of one file.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// `default_provider`.
    pub default_provider: Option<(String, Location)>,
    /// `if_missing`.
    pub if_missing: Option<IfMissing>,
    /// Providers, in file order.
    pub providers: Vec<ProviderDef>,
    /// Secrets, in file order.
    pub secrets: Vec<SecretDef>,
}

/// One parsed config file.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// Its path.
    pub path: PathBuf,
    /// `root = true`: the upward walk stops here.
    pub root: bool,
    /// `import = [...]`, with where each is written.
    pub imports: Vec<(String, Location)>,
    /// `trusted_dirs = [...]` (global config only), with where it is.
    pub trusted_dirs: Option<(Vec<String>, Location)>,
    /// Top-level entries.
    pub base: Layer,
    /// `[profiles.NAME]` entries.
    pub profiles: BTreeMap<String, Layer>,
    /// jdx/fnox keys that have no effect here.
    pub ignored: Vec<super::IgnoredKey>,
}

/// A digest of a file's text, to notice that it changed since it was read.
pub fn digest(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The merged view of every loaded file for the active profile.
#[derive(Debug, Clone)]
pub struct Config {
    /// The active profile (`default` when none is chosen).
    pub profile: String,
    /// Loaded files, lowest precedence first.
    pub files: Vec<PathBuf>,
    /// Providers by name.
    pub providers: BTreeMap<String, ProviderDef>,
    /// Secrets visible in the profile, by name.
    pub secrets: BTreeMap<String, SecretDef>,
    /// The effective `default_provider` (explicit, or implied by a sole provider).
    pub default_provider: Option<String>,
    /// The effective top-level or profile `if_missing`.
    pub if_missing: Option<IfMissing>,
    /// Where new entries go: the nearest `fnox.toml` (or the `-c` file).
    pub write_target: Option<PathBuf>,
    /// Every secret entry of the profile in every loaded file, including
    /// the ones a nearer file overrides (for `rotate`).
    pub all_secrets: Vec<SecretDef>,
    /// Profiles that some loaded file or `fnox.<profile>.toml` names.
    pub known_profiles: std::collections::BTreeSet<String>,
    /// The global config file (whether or not it exists).
    pub global_file: PathBuf,
    /// jdx/fnox keys in the loaded files that have no effect here.
    pub ignored: Vec<super::IgnoredKey>,
}

impl Config {
    /// True when the active profile is not the default one.
    pub fn in_profile(&self) -> bool {
        self.profile != DEFAULT_PROFILE
    }

    /// The defined profiles: `default`, then every other that a loaded
    /// file's `[profiles.NAME]` or a `fnox.NAME.toml` names, by name.
    pub fn defined_profiles(&self) -> Vec<String> {
        let others = self.known_profiles.iter().filter(|p| *p != DEFAULT_PROFILE);
        std::iter::once(DEFAULT_PROFILE.to_string()).chain(others.cloned()).collect()
    }

    /// True when the active profile is defined: it is `default`, or a
    /// loaded file has `[profiles.NAME]`, or there is a `fnox.NAME.toml`.
    /// A profile that is not is created by the first value written to it.
    pub fn profile_defined(&self) -> bool {
        !self.in_profile() || self.known_profiles.contains(&self.profile)
    }

    /// An error when the active profile is not defined (see
    /// [`Config::profile_defined`]): what reading commands check, so that
    /// a mistyped profile does not fall back to the top-level secrets.
    pub fn require_profile(&self) -> Result<(), ConfigError> {
        if self.profile_defined() {
            return Ok(());
        }
        let defined = self.defined_profiles();
        Err(ConfigError::UnknownProfile {
            profile: self.profile.clone(),
            near: crate::suggest::nearest(&self.profile, defined.iter().map(String::as_str)),
            defined,
        })
    }

    /// The secret `name` of the profile.
    pub fn secret(&self, name: &str) -> Result<&SecretDef, UnknownSecret> {
        self.secrets.get(name).ok_or_else(|| UnknownSecret {
            name: name.to_string(),
            profile: self.profile.clone(),
            near: crate::suggest::nearest(name, self.secrets.keys().map(String::as_str)),
        })
    }

    /// The secrets named in `only`, or all of the profile's when it is empty.
    pub fn selected(&self, only: &[String]) -> Result<Vec<SecretDef>, UnknownSecret> {
        if only.is_empty() {
            return Ok(self.secrets.values().cloned().collect());
        }
        only.iter().map(|name| self.secret(name).cloned()).collect()
    }

    /// Names of the defined providers.
    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    /// True when what `def` gives is secret: [`SecretDef::is_secret`],
    /// except that a `value` of the `plain` provider is a setting (as a
    /// `default` is) unless the entry says `sensitive = true`.
    pub fn is_secret(&self, def: &SecretDef) -> bool {
        let provider = def.provider.as_ref().or(self.default_provider.as_ref());
        let plain = provider
            .and_then(|p| self.providers.get(p))
            .is_some_and(|p| matches!(p.config, ProviderConfig::Plain(_)));
        if plain { def.sensitive == Some(true) } else { def.is_secret() }
    }

    /// The providers of jdx/fnox types that fnox does not implement.
    pub fn unsupported_providers(&self) -> impl Iterator<Item = (&ProviderDef, &'static str)> {
        self.providers.values().filter_map(|p| match &p.config {
            ProviderConfig::Unsupported(c) => Some((p, c.kind)),
            _ => None,
        })
    }
}
