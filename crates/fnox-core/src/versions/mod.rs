//! Versions of one config file compared secret by secret: what `fnox git
//! diff` says about a change (never a value unless asked), and the stored
//! values the merge driver aligns so that a re-encryption on one branch, or
//! the same value under two ciphertexts, merges without a conflict.

use std::{ops::Range, path::Path};

use crate::{
    Project, SecretBytes,
    config::{ConfigError, Layer, SecretDef, parse_file},
    value,
};

/// One secret of one version of a file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its name, as `diff` shows it: `NAME`, or `NAME (profile P)`.
    pub label: String,
    /// The secret's name.
    pub name: String,
    /// The provider that sealed it: its own, else its layer's (or the top
    /// level's) `default_provider`, else the project's.
    pub provider: Option<String>,
    /// The stored value.
    pub value: Option<String>,
    /// Where the stored value's string token is in the text.
    pub span: Option<Range<usize>>,
    /// The other settings (provider, default, description...), to tell a
    /// change of them.
    pub settings: String,
}

/// The secrets of `text`, a version of the file `path`, in file order
/// (top level first, then each profile).
pub fn entries(path: &Path, text: &str) -> Result<Vec<Entry>, ConfigError> {
    let parsed = parse_file(path, text)?;
    let top_default = parsed.base.default_provider.as_ref().map(|(p, _)| p.clone());
    let mut out = layer_entries(&parsed.base, None, top_default.as_ref());
    for (profile, layer) in &parsed.profiles {
        out.extend(layer_entries(layer, Some(profile), top_default.as_ref()));
    }
    Ok(out)
}

fn layer_entries(layer: &Layer, profile: Option<&String>, top: Option<&String>) -> Vec<Entry> {
    let default = layer.default_provider.as_ref().map(|(p, _)| p).or(top);
    layer.secrets.iter().map(|def| entry(def, profile, default)).collect()
}

fn entry(def: &SecretDef, profile: Option<&String>, default: Option<&String>) -> Entry {
    let label = match profile {
        Some(p) => format!("{} (profile {p})", def.name),
        None => def.name.clone(),
    };
    let settings = format!(
        "{:?} {:?} {:?} {:?} {:?} {} {:?} {} {:?} {:?}",
        def.provider,
        def.default,
        def.sensitive,
        def.description,
        def.if_missing,
        def.allow_exec_control,
        def.env,
        def.as_file,
        def.json_path,
        def.line
    );
    Entry {
        label,
        name: def.name.clone(),
        provider: def.provider.clone().or_else(|| default.cloned()),
        value: def.value.as_deref().map(str::to_string),
        span: def.value_span.as_ref().map(|(s, _)| s.clone()),
        settings,
    }
}

/// What happened to one secret between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only in the new version.
    Added,
    /// Only in the old version.
    Removed,
    /// Both values decrypt, to different plaintexts.
    ValueChanged,
    /// Both values decrypt, to the same plaintext: only the ciphertext
    /// changed (a rotation).
    SameValue,
    /// The stored value changed and one side does not decrypt here.
    CannotDecrypt,
    /// The value is the same; other settings of the entry changed.
    Settings,
}

/// One secret's change, with both plaintexts when they were decrypted.
#[derive(Debug)]
pub struct Changed {
    /// The secret, as [`Entry::label`].
    pub label: String,
    /// What happened.
    pub change: Change,
    /// The old and the new plaintext, when they were decrypted (for
    /// `--values`); an added or removed secret's one value too.
    pub values: (Option<SecretBytes>, Option<SecretBytes>),
}

/// The changes from `old` to `new`, in the new version's order (removed
/// secrets last); `project` decrypts (none: nothing is decrypted), and
/// `open_one` asks that an added or removed secret's value be decrypted too.
pub fn compare(
    project: Option<&Project>,
    old: &[Entry],
    new: &[Entry],
    open_one: bool,
) -> Vec<Changed> {
    let mut out = Vec::new();
    for n in new {
        let o = old.iter().find(|o| o.label == n.label);
        let (change, values) = match o {
            None => (Change::Added, (None, opened(project, n, open_one))),
            Some(o) if o.value == n.value && o.settings == n.settings => continue,
            Some(o) if o.value == n.value => (Change::Settings, (None, None)),
            Some(o) => {
                let values = (opened(project, o, true), opened(project, n, true));
                let change = match &values {
                    (Some(a), Some(b)) if a.expose() == b.expose() => Change::SameValue,
                    (Some(_), Some(_)) => Change::ValueChanged,
                    _ => Change::CannotDecrypt,
                };
                (change, values)
            }
        };
        out.push(Changed { label: n.label.clone(), change, values });
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| n.label == o.label)) {
        let values = (opened(project, o, open_one), None);
        out.push(Changed { label: o.label.clone(), change: Change::Removed, values });
    }
    out
}

/// The plaintext of `entry`'s value, when `want` it, it has one, and the
/// project's provider opens it; `None` otherwise (a failure is not an
/// error here: `diff` says the value cannot be decrypted).
pub fn opened(project: Option<&Project>, entry: &Entry, want: bool) -> Option<SecretBytes> {
    if !want {
        return None;
    }
    let (project, stored) = (project?, entry.value.clone()?);
    let provider = entry.provider.clone().or_else(|| project.config().default_provider.clone())?;
    let (registry, name) = (project.registry().clone(), entry.name.clone());
    let opened = project.fnox().block_on(async move {
        let built = registry.get(&provider).await.ok()?;
        value::open(built.as_ref(), &name, &stored).await.ok()
    });
    opened.ok().flatten()
}

mod merge;
mod textconv;
pub use merge::{Markers, MergePlan, Resolution, plan_merge};
pub use textconv::{ID_KEY_FILE, id_key, sealed_id, textconv, value_id};

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"
[secrets]
A = { provider = "p", value = "a1" }
B = { value = "b1" }
C = { value = "c1", description = "old" }
[profiles.prod.secrets]
A = { value = "pa1" }
"#;
    const NEW: &str = r#"
[secrets]
A = { provider = "p", value = "a2" }
C = { value = "c1", description = "new" }
D = { value = "d1" }
[profiles.prod.secrets]
A = { value = "pa1" }
"#;

    fn changes(old: &str, new: &str) -> Vec<(String, Change)> {
        let path = Path::new("fnox.toml");
        let (old, new) = (entries(path, old).unwrap(), entries(path, new).unwrap());
        compare(None, &old, &new, true).into_iter().map(|c| (c.label, c.change)).collect()
    }

    #[test]
    fn entries_name_profiles_and_default_providers() {
        let text = "default_provider = \"top\"\n[secrets]\nA = { value = \"x\" }\n\
                    [profiles.prod]\ndefault_provider = \"kms\"\n[profiles.prod.secrets]\nA = { value = \"y\" }\n";
        let e = entries(Path::new("fnox.toml"), text).unwrap();
        let got: Vec<_> = e.iter().map(|e| (e.label.as_str(), e.provider.as_deref())).collect();
        assert_eq!(got, [("A", Some("top")), ("A (profile prod)", Some("kms"))]);
        let span = e[0].span.clone().unwrap();
        assert_eq!(&text[span], "\"x\"");
    }

    #[test]
    fn without_keys_a_changed_value_cannot_be_decrypted() {
        assert_eq!(
            changes(OLD, NEW),
            [
                ("A".to_string(), Change::CannotDecrypt),
                ("C".to_string(), Change::Settings),
                ("D".to_string(), Change::Added),
                ("B".to_string(), Change::Removed),
            ]
        );
        assert_eq!(changes(OLD, OLD), []);
    }

    fn plan(texts: [&str; 3]) -> MergePlan {
        plan_merge(None, Path::new("fnox.toml"), texts).unwrap()
    }

    fn markers() -> Markers {
        Markers { size: 7, ours: "HEAD".into(), theirs: "other".into() }
    }

    #[test]
    fn neighbouring_secrets_changed_on_two_branches_merge() {
        let base = "[secrets]\nA = { value = \"a1\" }\nB = { value = \"b1\" }\n";
        let ours = "[secrets]\nA = { value = \"a2\" }\nB = { value = \"b1\" }\n";
        let theirs = "[secrets]\nA = { value = \"a1\" }\nB = { value = \"b2\" }\n";
        let plan = plan([base, ours, theirs]);
        assert_eq!(plan.masked[0], plan.masked[1]);
        assert_eq!(plan.masked[1], plan.masked[2]);
        let (text, conflicts) = plan.finish(&plan.masked[1], &markers()).unwrap();
        assert_eq!(text, "[secrets]\nA = { value = \"a2\" }\nB = { value = \"b2\" }\n");
        assert!(conflicts.is_empty() && plan.resolved.is_empty());
    }

    #[test]
    fn a_value_both_branches_changed_is_a_conflict_of_its_line_only() {
        let base = "[secrets]\nA = { value = \"a1\" }\nB = { value = \"b1\" }\n";
        let ours = "[secrets]\nA = { value = \"a2\" }\nB = { value = \"b1\" }\n";
        let theirs = "[secrets]\nA = { value = \"a3\" }\nB = { value = \"b1\" }\n";
        let plan = plan([base, ours, theirs]);
        let (text, conflicts) = plan.finish(&plan.masked[1], &markers()).unwrap();
        assert_eq!(
            text,
            "[secrets]\n<<<<<<< HEAD\nA = { value = \"a2\" }\n=======\nA = { value = \"a3\" }\n\
             >>>>>>> other\nB = { value = \"b1\" }\n"
        );
        assert_eq!(conflicts, ["A"]);
    }

    #[test]
    fn a_conflict_with_no_line_left_asks_for_a_line_merge() {
        let base = "[secrets]\nA = { value = \"a1\" }\n";
        let theirs = "[secrets]\nA = { value = \"a3\" }\n";
        let plan = plan([base, "[secrets]\n", theirs]);
        assert!(plan.finish("[secrets]\n", &markers()).is_none());
    }
}
