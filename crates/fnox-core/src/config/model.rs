//! The typed config model: one parsed file, and the merged view of all files
//! for the active profiles.

use std::{collections::BTreeMap, path::PathBuf, str::FromStr};

use indexmap::IndexMap;

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

// T5: `env = true | "exec" | false` (top level, profile, secret).
/// Which programs a secret's value enters: `env = ...` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvMode {
    /// `env = true` (the default): `exec`'s command, `export` and shell
    /// integration.
    Always,
    /// `env = "exec"`: only the command `fnox exec` runs.
    Exec,
    /// `env = false`: no program's environment; `fnox get` only (and `exec`
    /// removes an inherited variable of that name from its command's).
    Never,
}

impl EnvMode {
    /// How it is written in a config file.
    pub fn as_toml(self) -> &'static str {
        match self {
            Self::Always => "true",
            Self::Exec => "\"exec\"",
            Self::Never => "false",
        }
    }

    /// True when a value of this mode enters `target`.
    pub fn enters(self, target: Target) -> bool {
        match self {
            EnvMode::Always => true,
            EnvMode::Exec => target == Target::Exec,
            EnvMode::Never => false,
        }
    }
}

/// T5: where values go, for [`EnvMode::enters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The environment of the command `fnox exec` runs.
    Exec,
    /// What `export` prints and shell activation sets: a shell, which
    /// outlives any one command.
    Shell,
}

impl Target {
    /// The target in words, after "out of".
    pub fn words(self) -> &'static str {
        match self {
            Target::Exec => "the environment of `exec`'s command",
            Target::Shell => "`export` and shell environments",
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
    /// T5: `env = ...` as written (unset: the profile's or top level's, else
    /// `true`).
    pub env: Option<EnvMode>,
    /// T5: `as_file = true`: `exec`'s command gets the path of a file that
    /// holds the value, not the value.
    pub as_file: bool,
    /// Where the entry is.
    pub at: Location,
    /// The table path of the `[secrets]` table that holds it, inside `at.file`.
    pub table: std::sync::Arc<[String]>,
    /// Where the `value` string token is in the file, and a digest of the
    /// whole file as it was read: `set` replaces the token in place when the
    /// file is still the same.
    pub value_span: Option<(std::ops::Range<usize>, u64)>,
    /// True when it belongs to an active profile's own entries (a
    /// `[profiles.NAME.secrets]` table or the top level of a
    /// `fnox.NAME.toml` file) rather than to the top-level defaults.
    pub in_profile: bool,
    // T6: the part of the value that is used (jdx/fnox `json_path`, `line`).
    /// `json_path = "a.b"`: the value is JSON, and this member of it (dot
    /// notation, `\.` for a dot in a key) is what the secret gives.
    pub json_path: Option<String>,
    /// `line = N`: line N (from 1) of the value is what the secret gives.
    pub line: Option<usize>,
}

impl SecretDef {
    /// True when what this entry gives is secret, to be hidden wherever
    /// output is shown (`exec --redact`, CI masks): an encrypted `value`
    /// always, a plain `default` only when the entry says `sensitive = true`.
    pub fn is_secret(&self) -> bool {
        self.value.is_some() || self.sensitive == Some(true)
    }

    /// The part of the value the secret gives (`json_path` or `line`), when
    /// it gives a part only.
    pub fn part(&self) -> Option<crate::shape::Part<'_>> {
        match (&self.json_path, self.line) {
            (Some(path), _) => Some(crate::shape::Part::JsonPath(path)),
            (None, Some(n)) => Some(crate::shape::Part::Line(n)),
            (None, None) => None,
        }
    }
}

/// `max_key_age = "90d"`: keys older than this should be rotated
/// (`doctor` warns, `doctor --strict` fails).
#[derive(Debug, Clone, PartialEq)]
pub struct MaxKeyAge {
    /// The age, in whole seconds.
    pub age: std::time::Duration,
    /// Where it is set.
    pub at: Location,
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
    /// T5: `env`, the default of the layer's secrets and those below it.
    pub env: Option<EnvMode>,
    /// `max_key_age`, the default of the layer's providers.
    pub max_key_age: Option<MaxKeyAge>,
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
    /// `[data_keys]`: (provider, stored text), in file order.
    pub data_keys: Vec<(String, String)>,
    /// Where a new entry of each `[secrets]` table (top level, profiles)
    /// goes, when it can be put there without `toml_edit` (see
    /// [`Config::new_entry_at`]), with a digest of the file.
    pub new_entry_at: Vec<(Vec<String>, usize, u64)>,
    /// Read for `set NAME` alone: the values of the other entries, which
    /// were left out of the model (see [`Config::left_out_values`]).
    pub left_out: Option<super::LeftOut>,
}

/// A digest of a file's text, to notice that it changed since it was read
/// (by fnox or an editor, not by someone forging a collision: whoever can
/// write the file can write anything in it). foldhash reads long inputs
/// many bytes at a time: for a 150 KB file about 20 times fewer
/// instructions than std's SipHash, and `set` takes two digests.
pub fn digest(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x666e_6f78).hash_one(text.as_bytes())
}

/// The merged view of every loaded file for the active profiles.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The active profile (`default` when none is chosen); several active
    /// profiles are joined with `,` (`staging,ci`), as `-P` takes them.
    pub profile: String,
    /// The active profiles, lowest precedence first (`["default"]` when none
    /// is chosen; see [`super::LoadOptions::profiles`]).
    pub profiles: Vec<String>,
    /// Loaded files, lowest precedence first.
    pub files: Vec<PathBuf>,
    /// Providers by name.
    pub providers: BTreeMap<String, ProviderDef>,
    /// Secrets visible in the profiles, by name, in the order the files
    /// give them: the top-level entries in file order, then each profile's
    /// own, in profile order. An entry that overrides another keeps the
    /// place of the first.
    pub secrets: IndexMap<String, SecretDef>,
    /// The effective `default_provider` (explicit, or implied by a sole provider).
    pub default_provider: Option<String>,
    /// The effective top-level or profile `if_missing`.
    pub if_missing: Option<IfMissing>,
    /// T5: the effective profile or top-level `env` (see [`Config::env_mode`]).
    pub env: Option<EnvMode>,
    /// The effective profile or top-level `max_key_age` (see
    /// [`Config::max_key_age_of`]).
    pub max_key_age: Option<MaxKeyAge>,
    /// Where new entries go: the nearest `fnox.toml` (or the `-c` file).
    pub write_target: Option<PathBuf>,
    /// Where new entries of the write profile (the last active one) go
    /// instead, into its `[secrets]`: its `fnox.NAME.toml` (or
    /// `.fnox.NAME.toml`) in the nearest directory that has a `fnox.toml` or
    /// such a file, when there is one.
    pub profile_write_target: Option<PathBuf>,
    /// Every secret entry of the profiles in every loaded file, including
    /// the ones a nearer file overrides (for `rotate`).
    pub all_secrets: Vec<SecretDef>,
    /// Profiles that some loaded file or `fnox.<profile>.toml` names.
    pub known_profiles: std::collections::BTreeSet<String>,
    /// The global config file (whether or not it exists).
    pub global_file: PathBuf,
    /// (T1, `config-files`) For each of `files`, how deep an import it is:
    /// 0 for a file the search found, the `-c` file and the global file,
    /// 1 for a file one of those imports, and so on.
    pub file_depths: Vec<usize>,
    /// jdx/fnox keys in the loaded files that have no effect here.
    pub ignored: Vec<super::IgnoredKey>,
    /// Each loaded file's `[data_keys]`: provider name to stored text
    /// (see [`crate::file_key`]).
    pub data_keys: BTreeMap<PathBuf, BTreeMap<String, String>>,
    /// For each loaded file, where a new entry of each of its `[secrets]`
    /// tables goes (see [`Config::new_entry_at`]).
    pub new_entry_points: BTreeMap<PathBuf, Vec<(Vec<String>, usize, u64)>>,
    /// Loaded for `set NAME` alone: for each file read that way, the values
    /// of the entries of the active profiles (and of the top level, as
    /// [`Config::all_secrets`] has them) that were left out of the model.
    pub left_out: Vec<(PathBuf, super::LeftOut)>,
}

impl Config {
    /// True when a profile other than the default one is active.
    pub fn in_profile(&self) -> bool {
        self.profiles.iter().any(|p| p != DEFAULT_PROFILE)
    }

    /// The profile that writes go to: the last active one.
    pub fn write_profile(&self) -> &str {
        self.profiles.last().map_or(DEFAULT_PROFILE, String::as_str)
    }

    /// Where a new entry `name` of the write profile goes: the file, and the
    /// table in it. That is the `[secrets]` of [`Config::profile_write_target`]
    /// when there is one and no later file's top level defines `name` (it
    /// would hide the new entry); else `[secrets]` of the nearest
    /// `fnox.toml`, or `[profiles.NAME.secrets]` there for a profile other
    /// than `default`, which wins over every top-level entry. `None` when no
    /// file can take it.
    pub fn new_entry_place(&self, name: &str) -> Option<(PathBuf, Vec<String>)> {
        let place = |f: &std::path::Path| self.files.iter().position(|p| p == f);
        if let Some(file) = &self.profile_write_target {
            let hidden = self.secrets.get(name).is_some_and(|d| place(&d.at.file) > place(file));
            if !hidden {
                return Some((file.clone(), vec!["secrets".into()]));
            }
        }
        let file = self.write_target.clone()?;
        let profile = self.write_profile();
        let table = if profile == DEFAULT_PROFILE {
            vec!["secrets".into()]
        } else {
            vec!["profiles".into(), profile.into(), "secrets".into()]
        };
        Some((file, table))
    }

    /// The defined profiles: `default`, then every other that a loaded
    /// file's `[profiles.NAME]` or a `fnox.NAME.toml` names, by name.
    pub fn defined_profiles(&self) -> Vec<String> {
        let others = self.known_profiles.iter().filter(|p| *p != DEFAULT_PROFILE);
        std::iter::once(DEFAULT_PROFILE.to_string()).chain(others.cloned()).collect()
    }

    /// True when every active profile is defined: it is `default`, or a
    /// loaded file has `[profiles.NAME]`, or there is a `fnox.NAME.toml`.
    /// A profile that is not is created by the first value written to it.
    pub fn profile_defined(&self) -> bool {
        self.undefined_profile().is_none()
    }

    /// The first active profile that is not defined.
    fn undefined_profile(&self) -> Option<&str> {
        self.profiles
            .iter()
            .find(|p| *p != DEFAULT_PROFILE && !self.known_profiles.contains(*p))
            .map(String::as_str)
    }

    /// An error when an active profile is not defined (see
    /// [`Config::profile_defined`]): what reading commands check, so that
    /// a mistyped profile does not fall back to the top-level secrets.
    pub fn require_profile(&self) -> Result<(), ConfigError> {
        let Some(profile) = self.undefined_profile() else { return Ok(()) };
        let defined = self.defined_profiles();
        Err(ConfigError::UnknownProfile {
            profile: profile.to_string(),
            near: crate::suggest::nearest(profile, defined.iter().map(String::as_str)),
            defined,
        })
    }

    /// True when this config has all that secret `name` needs, loaded
    /// for it alone ([`super::LoadOptions::only`]): it is there (else the
    /// full load names the secrets there are), and its `default` does not
    /// use other secrets (`${NAME}`).
    pub fn has_all_for(&self, name: &str) -> bool {
        self.secrets
            .get(name)
            .is_some_and(|d| d.default.as_deref().is_none_or(|t| !t.contains("${")))
    }

    /// The secret `name` of the profile.
    pub fn secret(&self, name: &str) -> Result<&SecretDef, UnknownSecret> {
        self.secrets.get(name).ok_or_else(|| UnknownSecret {
            name: name.to_string(),
            profile: self.profile.clone(),
            near: crate::suggest::nearest(name, self.secrets.keys().map(String::as_str)),
        })
    }

    /// The secrets named in `only`, or all of the profile's (in
    /// [`Config::secrets`] order) when it is empty.
    pub fn selected(&self, only: &[String]) -> Result<Vec<SecretDef>, UnknownSecret> {
        if only.is_empty() {
            return Ok(self.secrets.values().cloned().collect());
        }
        only.iter().map(|name| self.secret(name).cloned()).collect()
    }

    /// T5: which programs `def`'s value enters: its own `env`, else the
    /// profile's, else the top level's, else [`EnvMode::Always`].
    pub fn env_mode(&self, def: &SecretDef) -> EnvMode {
        def.env.or(self.env).unwrap_or(EnvMode::Always)
    }

    /// Where the line of a new entry of table `table` of file `file` goes
    /// (the byte offset where `toml_edit` would put it), and a digest of
    /// the file as it was read: while the file is unchanged, `set` puts
    /// the line there without reading the file again. `None` when the
    /// table is not one `set` can add to that way.
    pub fn new_entry_at(&self, file: &std::path::Path, table: &[String]) -> Option<(usize, u64)> {
        let points = self.new_entry_points.get(file)?;
        points.iter().find(|(t, ..)| t == table).map(|(_, at, digest)| (*at, *digest))
    }

    /// The stored values in `file` of the entries that [`Config::all_secrets`]
    /// leaves out (loaded for one secret, `set`), each with its provider when
    /// the entry names one (else [`Config::default_provider`] is its own).
    pub fn left_out_values(
        &self,
        file: &std::path::Path,
    ) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.left_out.iter().filter(move |(f, _)| f == file).flat_map(|(_, l)| l.values())
    }

    /// The `max_key_age` of provider `name`: its own, else the profile's,
    /// else the top level's; `None`: no policy.
    pub fn max_key_age_of(&self, name: &str) -> Option<&MaxKeyAge> {
        let own = match &self.providers.get(name)?.config {
            ProviderConfig::Local(c) => c.max_key_age.as_ref(),
            #[cfg(feature = "aws-kms")]
            ProviderConfig::AwsKms(c) => c.max_key_age.as_ref(),
            _ => return None,
        };
        own.or(self.max_key_age.as_ref())
    }

    /// The `[data_keys]` text of provider `provider` in file `file`.
    pub fn data_key(&self, file: &std::path::Path, provider: &str) -> Option<&str> {
        self.data_keys.get(file)?.get(provider).map(String::as_str)
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
