//! Finding the config files and merging them for the active profiles.
//!
//! Files, lowest precedence first: the global file; then, for each directory
//! from the topmost one (the nearest `root = true`) down to the current one,
//! `fnox.toml`, `.fnox.toml`, each active profile's `fnox.<profile>.toml` and
//! `.fnox.<profile>.toml` (in profile order), `fnox.local.toml` and
//! `.fnox.local.toml`. A file's `import`s sit just beneath it. Entries merge
//! whole, by name: first the top level of every file in that order, then
//! each active profile's `[profiles.NAME]` entries of every file, profile
//! after profile; a later one wins.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use indexmap::IndexMap;

use super::{ConfigError, LoadOptions, OnlyOne, options::DEFAULT_PROFILE};
use super::{
    model::{Config, Layer, ParsedFile},
    parse::parse_for,
    trust::{Trust, present},
};
use crate::env::Environment;

/// How a file takes part in the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Its top level is the defaults, `[profiles.X]` is profile X.
    Normal,
    /// `fnox.<profile>.toml` (or an import of one): its top level belongs to
    /// that active profile (kept by `--no-defaults`), at its place among the
    /// top levels of the other files.
    ProfileFile,
}

/// How deep `import`s may nest.
pub const MAX_IMPORT_DEPTH: usize = 64;

/// The names of the config files of one directory, lowest precedence
/// first, for the active `profiles`, with their roles.
fn file_names(profiles: &[String]) -> Vec<(String, Role)> {
    let mut names =
        vec![("fnox.toml".to_string(), Role::Normal), (".fnox.toml".into(), Role::Normal)];
    // `fnox.local.toml` is the local file, whatever the profile.
    for p in profiles.iter().filter(|p| *p != DEFAULT_PROFILE && *p != "local") {
        names.push((format!("fnox.{p}.toml"), Role::ProfileFile));
        names.push((format!(".fnox.{p}.toml"), Role::ProfileFile));
    }
    names.push(("fnox.local.toml".into(), Role::Normal));
    names.push((".fnox.local.toml".into(), Role::Normal));
    names
}

/// Loads and merges every config file that applies to `opts`, searching
/// from the working directory of `env` (unless `opts` names a file); the
/// global file is `config.toml` in `config_dir`. Every file must pass the
/// trust check (see `trust.rs`): the walk stops at the first that does not.
pub fn load(
    env: &Environment,
    config_dir: &Path,
    opts: &LoadOptions,
) -> Result<Config, ConfigError> {
    let cwd = env.cwd();
    let global = config_dir.join("config.toml");
    let only = opts.only.as_ref();
    let mut loader =
        Loader { trust: Trust::from_env(env), files: Vec::new(), depths: Vec::new(), global, only };
    loader.push_global(env, config_dir)?;
    let mut profile_names = BTreeSet::new();
    let mut targets = (None, None);
    if let Some(explicit) = &opts.config_file {
        let explicit = &cwd.join(explicit);
        loader.push_with_imports(explicit, Role::Normal, &mut Vec::new())?;
        targets.0 = Some(explicit.clone());
    } else {
        let dirs = project_dirs(cwd, &opts.profiles, &loader.trust, only)?;
        targets =
            write_targets(&dirs, opts.profiles.last().map_or(DEFAULT_PROFILE, String::as_str));
        for dir in dirs {
            profile_names.extend(profile_files_in(&dir.dir));
            for (path, parsed, role) in dir.files {
                loader.push_parsed(parsed, path, role, &mut Vec::new())?;
            }
        }
    }
    let Loader { files, global, depths, .. } = loader;
    for (file, _) in &files {
        profile_names.extend(file.profiles.keys().cloned());
    }
    let mut config = merge(files, opts)?;

    (config.write_target, config.profile_write_target) = targets;
    config.global_file = global;
    config.file_depths = depths;
    config.known_profiles = profile_names;
    Ok(config)
}

/// Profiles named by `fnox.<profile>.toml` (or `.fnox.<profile>.toml`)
/// files in `dir`.
fn profile_files_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| {
            let n = n.strip_prefix('.').unwrap_or(&n);
            n.strip_prefix("fnox.")?.strip_suffix(".toml").map(str::to_string)
        })
        .filter(|p| p != "local" && super::is_valid_profile(p))
        .collect()
}

struct ProjectDir {
    dir: PathBuf,
    /// Its config files, lowest precedence first.
    files: Vec<(PathBuf, ParsedFile, Role)>,
}

impl ProjectDir {
    /// The first of `names` that this directory has.
    fn first_of(&self, names: &[String]) -> Option<PathBuf> {
        names.iter().map(|n| self.dir.join(n)).find(|p| self.files.iter().any(|(f, ..)| f == p))
    }
}

/// The directories that take part, topmost first. `root = true` in any of
/// a directory's files stops the walk there.
fn project_dirs(
    cwd: &Path,
    profiles: &[String],
    trust: &Trust,
    only: Option<&OnlyOne>,
) -> Result<Vec<ProjectDir>, ConfigError> {
    let names = file_names(profiles);
    let mut found = Vec::new();
    for dir in cwd.ancestors() {
        let mut files = Vec::new();
        let mut root = false;
        for (name, role) in &names {
            let path = dir.join(name);
            if present(&path) {
                let parsed = parse_for(&path, trust.read(&path)?, only)?;
                root |= parsed.root;
                files.push((path, parsed, *role));
            }
        }
        if !files.is_empty() {
            found.push(ProjectDir { dir: dir.to_path_buf(), files });
        }
        if root {
            break;
        }
    }
    found.reverse();
    Ok(found)
}

/// Where new entries go: the nearest `fnox.toml` (or `.fnox.toml`; a nearer
/// directory may hold only `fnox.local.toml`), and, for a write profile
/// other than `default`, its `fnox.<profile>.toml` (or `.fnox.<profile>.toml`)
/// when the nearest directory that has either kind of file has one.
fn write_targets(dirs: &[ProjectDir], profile: &str) -> (Option<PathBuf>, Option<PathBuf>) {
    let main = ["fnox.toml".to_string(), ".fnox.toml".to_string()];
    let target = dirs.iter().rev().find_map(|d| d.first_of(&main));
    if profile == DEFAULT_PROFILE || profile == "local" {
        return (target, None);
    }
    let own = [format!("fnox.{profile}.toml"), format!(".fnox.{profile}.toml")];
    let profile_target = dirs
        .iter()
        .rev()
        .find(|d| d.first_of(&main).is_some() || d.first_of(&own).is_some())
        .and_then(|d| d.first_of(&own));
    (target, profile_target)
}

/// The files read so far, in merge order, and what may be read.
struct Loader<'o> {
    trust: Trust,
    files: Vec<(ParsedFile, Role)>,
    /// For each of `files`, how deep an import it is (0: not an import).
    depths: Vec<usize>,
    /// The global config file (the only one that may set `trusted_dirs`).
    global: PathBuf,
    /// The one secret read ([`LoadOptions::only`]).
    only: Option<&'o OnlyOne>,
}

impl Loader<'_> {
    /// The global file, when there is one; its `trusted_dirs` count from
    /// then on (it passed the check itself first).
    fn push_global(&mut self, env: &Environment, config_dir: &Path) -> Result<(), ConfigError> {
        let global = self.global.clone();
        if present(&global) {
            let parsed = parse_for(&global, self.trust.read(&global)?, self.only)?;
            if let Some((dirs, _)) = &parsed.trusted_dirs {
                self.trust.add(dirs.iter().map(|d| env.resolve_path(config_dir, d)));
            }
            self.trust.set_global(global.clone());
            self.push_parsed(parsed, global, Role::Normal, &mut Vec::new())
        } else {
            self.trust.set_global(global);
            Ok(())
        }
    }

    fn push_with_imports(
        &mut self,
        path: &Path,
        role: Role,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), ConfigError> {
        let parsed = parse_for(path, self.trust.read(path)?, self.only)?;
        self.push_parsed(parsed, path.to_path_buf(), role, stack)
    }

    fn push_parsed(
        &mut self,
        parsed: ParsedFile,
        path: PathBuf,
        role: Role,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), ConfigError> {
        if let Some((_, at)) = &parsed.trusted_dirs
            && (path != self.global || !stack.is_empty())
        {
            let global = self.global.clone();
            return Err(ConfigError::TrustedDirsOutsideGlobal { at: at.clone(), global });
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        stack.push(canonical);
        let base = path.parent().unwrap_or(Path::new("."));
        for (import, at) in &parsed.imports {
            let (at, import) = (at.clone(), import.clone());
            if stack.len() > MAX_IMPORT_DEPTH {
                return Err(ConfigError::ImportTooDeep { at, import, limit: MAX_IMPORT_DEPTH });
            }
            let target = base.join(&import);
            let canonical = target.canonicalize().unwrap_or_else(|_| target.clone());
            if stack.contains(&canonical) {
                return Err(ConfigError::ImportCycle { at, import });
            }
            self.push_with_imports(&target, role, stack).map_err(|e| match e {
                e @ (ConfigError::ImportCycle { .. } | ConfigError::ImportTooDeep { .. }) => e,
                e => ConfigError::Import { at, import, source: Box::new(e) },
            })?;
        }
        stack.pop();
        self.depths.push(stack.len());
        self.files.push((parsed, role));
        Ok(())
    }
}

fn overlay(target: &mut Layer, mut layer: Layer, in_profile: bool) {
    for s in &mut layer.secrets {
        s.in_profile = in_profile;
    }
    if layer.default_provider.is_some() {
        target.default_provider = layer.default_provider.take();
    }
    if layer.if_missing.is_some() {
        target.if_missing = layer.if_missing;
    }
    if layer.env.is_some() {
        target.env = layer.env; // T5
    }
    if layer.max_key_age.is_some() {
        target.max_key_age = layer.max_key_age.take();
    }
    target.providers.append(&mut layer.providers);
    target.secrets.append(&mut layer.secrets);
}

fn merge(files: Vec<(ParsedFile, Role)>, opts: &LoadOptions) -> Result<Config, ConfigError> {
    // `--no-defaults` in a profile: the top level of the profile files only.
    let own_only = opts.no_defaults && opts.in_profile();
    let mut top = Layer::default();
    let mut own = vec![Layer::default(); opts.profiles.len()];
    let mut paths = Vec::new();
    let mut ignored = Vec::new();
    let mut data_keys = BTreeMap::new();
    let mut new_entry_points = BTreeMap::new();
    let mut left_out_values = Vec::new();
    for (mut file, role) in files {
        paths.push(file.path.clone());
        if !file.data_keys.is_empty() {
            let keys: BTreeMap<_, _> = std::mem::take(&mut file.data_keys).into_iter().collect();
            data_keys.insert(file.path.clone(), keys);
        }
        ignored.append(&mut file.ignored);
        if !file.new_entry_at.is_empty() {
            new_entry_points.insert(file.path.clone(), std::mem::take(&mut file.new_entry_at));
        }
        if let Some(mut left_out) = file.left_out.take() {
            // The layers that `all_secrets` takes its entries from.
            left_out.retain(|layer| match layer {
                None => !(own_only && role == Role::Normal),
                Some(p) => opts.profiles.iter().any(|a| a == p),
            });
            left_out_values.push((file.path.clone(), left_out));
        }
        if own_only && role == Role::Normal {
            file.base.secrets.clear();
        }
        overlay(&mut top, file.base, role == Role::ProfileFile);
        for (layer, profile) in own.iter_mut().zip(&opts.profiles) {
            if let Some(entries) = file.profiles.remove(profile) {
                overlay(layer, entries, true);
            }
        }
    }
    // Every entry, moved out of the layers (one copy is kept by name below).
    let all_secrets: Vec<_> = std::iter::once(&mut top)
        .chain(&mut own)
        .flat_map(|l| std::mem::take(&mut l.secrets))
        .collect();
    let layers = || std::iter::once(&top).chain(&own);
    let mut providers = BTreeMap::new();
    for p in layers().flat_map(|l| &l.providers) {
        providers.insert(p.name.clone(), p.clone());
    }
    // A later entry replaces an earlier one in its place.
    let mut secrets = IndexMap::with_capacity(all_secrets.len());
    for s in &all_secrets {
        secrets.insert(s.name.clone(), s.clone());
    }
    let explicit_default = layers().rev().find_map(|l| l.default_provider.clone());
    let default_provider = checked_providers(&providers, &secrets, explicit_default)?;
    Ok(Config {
        profile: opts.profile_label(),
        profiles: opts.profiles.clone(),
        files: paths,
        providers,
        secrets,
        default_provider,
        if_missing: layers().rev().find_map(|l| l.if_missing),
        env: layers().rev().find_map(|l| l.env), // T5
        max_key_age: layers().rev().find_map(|l| l.max_key_age.clone()),
        write_target: None,
        profile_write_target: None,
        all_secrets,
        known_profiles: BTreeSet::new(),
        global_file: PathBuf::new(),
        file_depths: Vec::new(),
        ignored,
        data_keys,
        new_entry_points,
        left_out: left_out_values,
    })
}

/// The default provider (`explicit`, which must be defined, else the only
/// provider), after checking that every secret's provider is defined.
fn checked_providers(
    providers: &BTreeMap<String, super::ProviderDef>,
    secrets: &IndexMap<String, super::SecretDef>,
    explicit: Option<(String, super::Location)>,
) -> Result<Option<String>, ConfigError> {
    let default_provider = match explicit {
        Some((name, at)) => {
            if !providers.contains_key(&name) {
                return Err(ConfigError::UndefinedProvider {
                    at,
                    entry: "`default_provider`".into(),
                    provider: name,
                    defined: providers.keys().cloned().collect(),
                });
            }
            Some(name)
        }
        None if providers.len() == 1 => providers.keys().next().cloned(),
        None => None,
    };
    for secret in secrets.values() {
        if let Some(p) = &secret.provider
            && !providers.contains_key(p)
        {
            return Err(ConfigError::UndefinedProvider {
                at: secret.at.clone(),
                entry: format!("secret `{}`", secret.name),
                provider: p.clone(),
                defined: providers.keys().cloned().collect(),
            });
        }
    }
    Ok(default_provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_in(cwd: &Path) -> Config {
        load_as(cwd, &LoadOptions::default())
    }

    fn load_as(cwd: &Path, opts: &LoadOptions) -> Config {
        let env = Environment::new(cwd);
        load(&env, &cwd.join("no-such-config-dir"), opts).unwrap()
    }

    #[test]
    fn new_profile_entries_go_to_the_profile_file_of_the_nearest_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("parent");
        let child = parent.join("child");
        std::fs::create_dir_all(&child).unwrap();
        std::fs::write(parent.join("fnox.toml"), "root = true\n").unwrap();
        std::fs::write(parent.join("fnox.ci.toml"), "").unwrap();
        let ci = LoadOptions::default().with_profiles(["staging", "ci"]).unwrap();
        let config = load_as(&parent, &ci);
        assert_eq!(config.profile_write_target, Some(parent.join("fnox.ci.toml")));
        assert_eq!(
            config.new_entry_place("X"),
            Some((parent.join("fnox.ci.toml"), vec!["secrets".into()]))
        );
        // A nearer fnox.toml without a profile file: [profiles.ci.secrets] there.
        std::fs::write(child.join("fnox.toml"), "").unwrap();
        let config = load_as(&child, &ci);
        assert_eq!(config.profile_write_target, None);
        let table = vec!["profiles".into(), "ci".into(), "secrets".into()];
        assert_eq!(config.new_entry_place("X"), Some((child.join("fnox.toml"), table)));
        // A nearer profile file alone is nearest too.
        std::fs::remove_file(child.join("fnox.toml")).unwrap();
        std::fs::write(child.join(".fnox.ci.toml"), "").unwrap();
        let config = load_as(&child, &ci);
        assert_eq!(config.profile_write_target, Some(child.join(".fnox.ci.toml")));
        assert_eq!(config.write_target, Some(parent.join("fnox.toml")));
        assert_eq!(config.profile, "staging,ci");
    }

    #[test]
    fn new_entries_go_to_the_nearest_fnox_toml_even_past_a_local_only_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("parent");
        let child = parent.join("child");
        std::fs::create_dir_all(&child).unwrap();
        std::fs::write(parent.join("fnox.toml"), "[secrets]\nA = { default = \"a\" }\n").unwrap();
        std::fs::write(child.join("fnox.local.toml"), "[secrets]\nB = { default = \"b\" }\n")
            .unwrap();
        let config = load_in(&child);
        assert_eq!(config.write_target, Some(parent.join("fnox.toml")));
        std::fs::write(child.join("fnox.toml"), "").unwrap();
        let config = load_in(&child);
        assert_eq!(config.write_target, Some(child.join("fnox.toml")));
    }
}
