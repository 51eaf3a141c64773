//! Finding the config files and merging them for the active profile.
//!
//! Precedence, lowest first: the global file; then, for each directory from
//! the topmost one (or the nearest `root = true`) down to the current one,
//! its `fnox.toml` / `.fnox.toml`, then `fnox.<profile>.toml`, then
//! `fnox.local.toml`. A file's `import`s sit just beneath it. Entries merge
//! whole, by name; `[profiles.NAME]` entries win over top-level ones.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::{ConfigError, LoadOptions, options::DEFAULT_PROFILE};
use super::{
    model::{Config, Layer, ParsedFile},
    parse::parse_file,
    trust::{Trust, present},
};
use crate::env::Environment;

/// How a file takes part in the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Top level = defaults, `[profiles.X]` = profile X.
    Normal,
    /// `fnox.<profile>.toml`: its top level belongs to the active profile.
    ProfileFile,
}

/// How deep `import`s may nest.
pub const MAX_IMPORT_DEPTH: usize = 64;

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
    let mut loader = Loader { trust: Trust::from_env(env), files: Vec::new(), global };
    loader.push_global(env, config_dir)?;
    let mut profile_names = std::collections::BTreeSet::new();
    let write_target;
    if let Some(explicit) = &opts.config_file {
        let explicit = &cwd.join(explicit);
        loader.push_with_imports(explicit, Role::Normal, &mut Vec::new())?;
        write_target = Some(explicit.clone());
    } else {
        let dirs = project_dirs(cwd, &opts.profile, &loader.trust)?;
        // The nearest directory that has a fnox.toml: a nearer directory
        // may hold only fnox.local.toml or fnox.<profile>.toml.
        write_target = dirs.iter().rev().find_map(|d| d.main.last().map(|(p, _)| p.clone()));
        for dir in dirs {
            profile_names.extend(profile_files_in(&dir.dir));
            for (path, parsed) in dir.main {
                loader.push_parsed(parsed, path, Role::Normal, &mut Vec::new())?;
            }
            if let Some(p) = dir.profile_file {
                loader.push_with_imports(&p, Role::ProfileFile, &mut Vec::new())?;
            }
            if let Some(p) = dir.local_file {
                loader.push_with_imports(&p, Role::Normal, &mut Vec::new())?;
            }
        }
    }
    let Loader { files, global, .. } = loader;
    for (file, _) in &files {
        profile_names.extend(file.profiles.keys().cloned());
    }
    let mut config = merge(files, opts, write_target)?;
    config.global_file = global;
    config.known_profiles = profile_names;
    Ok(config)
}

/// Profiles named by `fnox.<profile>.toml` files in `dir`.
fn profile_files_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_prefix("fnox.")?.strip_suffix(".toml").map(str::to_string))
        .filter(|p| p != "local" && super::is_valid_profile(p))
        .collect()
}

struct ProjectDir {
    dir: PathBuf,
    main: Vec<(PathBuf, ParsedFile)>,
    profile_file: Option<PathBuf>,
    local_file: Option<PathBuf>,
}

/// The directories that take part, topmost first.
fn project_dirs(cwd: &Path, profile: &str, trust: &Trust) -> Result<Vec<ProjectDir>, ConfigError> {
    let mut found = Vec::new();
    for dir in cwd.ancestors() {
        let mut main = Vec::new();
        let mut root = false;
        for name in [".fnox.toml", "fnox.toml"] {
            let path = dir.join(name);
            if present(&path) {
                let parsed = parse_file(&path, &trust.read(&path)?)?;
                root |= parsed.root;
                main.push((path, parsed));
            }
        }
        let profile_file = (profile != DEFAULT_PROFILE)
            .then(|| dir.join(format!("fnox.{profile}.toml")))
            .filter(|p| present(p));
        let local_file = Some(dir.join("fnox.local.toml")).filter(|p| present(p));
        if !main.is_empty() || profile_file.is_some() || local_file.is_some() {
            found.push(ProjectDir { dir: dir.to_path_buf(), main, profile_file, local_file });
        }
        if root {
            break;
        }
    }
    found.reverse();
    Ok(found)
}

/// The files read so far, in merge order, and what may be read.
struct Loader {
    trust: Trust,
    files: Vec<(ParsedFile, Role)>,
    /// The global config file (the only one that may set `trusted_dirs`).
    global: PathBuf,
}

impl Loader {
    /// The global file, when there is one; its `trusted_dirs` count from
    /// then on (it passed the check itself first).
    fn push_global(&mut self, env: &Environment, config_dir: &Path) -> Result<(), ConfigError> {
        let global = self.global.clone();
        if present(&global) {
            let parsed = parse_file(&global, &self.trust.read(&global)?)?;
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
        let parsed = parse_file(path, &self.trust.read(path)?)?;
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
    target.providers.append(&mut layer.providers);
    target.secrets.append(&mut layer.secrets);
}

fn merge(
    files: Vec<(ParsedFile, Role)>,
    settings: &LoadOptions,
    write_target: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let mut defaults = Layer::default();
    let mut profile = Layer::default();
    let mut paths = Vec::new();
    let mut ignored = Vec::new();
    for (mut file, role) in files {
        paths.push(file.path.clone());
        ignored.append(&mut file.ignored);
        let own = file.profiles.remove(&settings.profile);
        match role {
            Role::ProfileFile => overlay(&mut profile, file.base, true),
            Role::Normal => overlay(&mut defaults, file.base, false),
        }
        if let Some(layer) = own {
            overlay(&mut profile, layer, true);
        }
    }
    let mut providers = BTreeMap::new();
    for p in defaults.providers.into_iter().chain(profile.providers) {
        providers.insert(p.name.clone(), p);
    }
    let mut secrets = BTreeMap::new();
    let top =
        if settings.no_defaults && settings.in_profile() { Vec::new() } else { defaults.secrets };
    let all_secrets: Vec<_> = top.iter().chain(&profile.secrets).cloned().collect();
    for s in top.into_iter().chain(profile.secrets) {
        secrets.insert(s.name.clone(), s);
    }
    let explicit_default = profile.default_provider.or(defaults.default_provider);
    let default_provider = match explicit_default {
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
    Ok(Config {
        profile: settings.profile.clone(),
        files: paths,
        providers,
        secrets,
        default_provider,
        if_missing: profile.if_missing.or(defaults.if_missing),
        write_target,
        all_secrets,
        known_profiles: Default::default(),
        global_file: PathBuf::new(),
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_in(cwd: &Path) -> Config {
        let env = Environment::new(cwd);
        load(&env, &cwd.join("no-such-config-dir"), &LoadOptions::default()).unwrap()
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
