//! Parsing one config file into a [`ParsedFile`], with every problem located.

use std::path::Path;

use toml_edit::Document;

use super::{ConfigError, ProviderConfig};
use super::{
    fields::{Fields, Lines},
    jdx::{self, IgnoredKey},
    model::{EnvMode, IfMissing, Layer, ParsedFile, ProviderDef, SecretDef},
    tree::TableRef,
};

const TOP_KEYS: &[&str] = &[
    "root",
    "import",
    "default_provider",
    "if_missing",
    "providers",
    "secrets",
    "profiles",
    super::TRUSTED_DIRS_KEY,
    "env", // T5
    "scan",
    "data_keys",
    "max_key_age",
];
const PROFILE_KEYS: &[&str] = &[
    "default_provider",
    "if_missing",
    "providers",
    "secrets",
    "env", // T5
    "max_key_age",
];
const SECRET_KEYS: &[&str] = &[
    "provider",
    "value",
    "default",
    "sensitive",
    "description",
    "if_missing",
    "allow_exec_control",
    // T5
    "env",
    "as_file",
    // T6
    "json_path",
    "line",
];

/// True for names of the form `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Parses `text`, the contents of `path`, with the fast reader. A file it
/// refuses is read again with `toml_edit`, whose message (and line) the
/// error gives; were `toml_edit` to read it, its reading is used.
pub fn parse_file(path: &Path, text: &str) -> Result<ParsedFile, ConfigError> {
    let lines = Lines::new(path, text);
    if let Some(parsed) = super::simple::parse(path, text, &lines) {
        return Ok(parsed);
    }
    parse_plain(path, text, &lines)
}

/// [`parse_file`] without the simple reading (`simple.rs`).
pub(crate) fn parse_plain(
    path: &Path,
    text: &str,
    lines: &Lines,
) -> Result<ParsedFile, ConfigError> {
    parse_fast(path, text, lines).unwrap_or_else(|| parse_with_edit(path, text, lines))
}

/// Parses `text` for a command that reads secret `only` alone, when given:
/// the entries of other secrets are left out (see `lite.rs`); value spans
/// are kept when it asks for them (`set`), else left out (they need a
/// digest of the whole file), and then the values of the entries left out
/// and where new entries go are found too (see `left_out.rs`). Any problem
/// with what is left reads the whole file, which reports it.
pub fn parse_for(
    path: &Path,
    text: String,
    only: Option<&super::OnlyOne>,
) -> Result<ParsedFile, ConfigError> {
    // Shared with what the scan keeps of the entries left out (their
    // values' spans are of this text), instead of a copy of the file.
    let shared = std::sync::Arc::new(text);
    let text = shared.as_str();
    let mut scan =
        only.filter(|o| o.in_place).map(|o| super::left_out::Scan::new(&shared, &o.name));
    if let Some(only) = only
        && let Some(subset) = super::lite::subset(text, &only.name, scan.as_mut())
    {
        let lines = Lines::new(path, &subset.text);
        if let Some(Ok(mut parsed)) = parse_fast(path, &subset.text, &lines) {
            // Offsets of the subset's text: the scan's are the file's.
            parsed.new_entry_at.clear();
            let file_digest = only.in_place.then(|| super::model::digest(text));
            if let (Some(scan), Some(digest)) = (scan, file_digest) {
                let (left_out, points) = scan.finish();
                parsed.left_out = Some(left_out);
                parsed.new_entry_at =
                    points.into_iter().map(|(table, at)| (table, at, digest)).collect();
            }
            let layers = std::iter::once(&mut parsed.base).chain(parsed.profiles.values_mut());
            for secret in layers.flat_map(|l| &mut l.secrets) {
                secret.value_span = match (secret.value_span.take(), file_digest) {
                    (Some((span, _)), Some(digest)) => {
                        let start = subset.file_offset(span.start);
                        Some((start..start + span.len(), digest))
                    }
                    _ => None,
                };
            }
            return Ok(parsed);
        }
    }
    parse_file(path, text)
}

/// Parses `text` with the fast reader; `None` when it is not TOML to it
/// (or holds a number that `toml_edit` refuses).
pub(crate) fn parse_fast(
    path: &Path,
    text: &str,
    lines: &Lines,
) -> Option<Result<ParsedFile, ConfigError>> {
    parse_fast_with(path, text, lines, super::model::digest(text))
}

/// [`parse_fast`], with `digest` as the digest of the file's text (the
/// simple reading parses a copy with its entries blanked out).
pub(super) fn parse_fast_with(
    path: &Path,
    text: &str,
    lines: &Lines,
    digest: u64,
) -> Option<Result<ParsedFile, ConfigError>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    if !super::tree::numbers_fit(doc.get_ref()) {
        return None;
    }
    let parsed = build(path, lines, TableRef::Fast(doc.get_ref()), digest);
    Some(parsed.map(|mut parsed| {
        let profiles =
            parsed.profiles.keys().map(|p| vec!["profiles".into(), p.clone(), "secrets".into()]);
        let tables = std::iter::once(vec!["secrets".to_string()]).chain(profiles);
        let points: Vec<_> = tables
            .filter_map(|table| Some((super::edit::new_entry_point(text, &doc, &table)?, table)))
            .collect();
        parsed.new_entry_at = points.into_iter().map(|(at, t)| (t, at, digest)).collect();
        parsed
    }))
}

/// Parses `text` with `toml_edit` (the editing front end).
pub(crate) fn parse_with_edit(
    path: &Path,
    text: &str,
    lines: &Lines,
) -> Result<ParsedFile, ConfigError> {
    let doc = Document::parse(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        let mut at = lines.at(offset);
        if at.line == 0 {
            at.line = 1;
        }
        let column = offset.map_or(1, |o| lines.column(o.min(text.len())));
        ConfigError::Syntax { at, message: format!("{} (column {column})", e.message().trim_end()) }
    })?;
    build(path, lines, TableRef::Edit(doc.as_table()), super::model::digest(text))
}

/// The model of one file from its parsed top-level table (`file_digest`:
/// the digest of its text).
fn build(
    path: &Path,
    lines: &Lines,
    doc: TableRef<'_>,
    file_digest: u64,
) -> Result<ParsedFile, ConfigError> {
    let top = Fields::new(doc, "the top level".into(), lines.at(Some(0)), lines)
        .with_no_effect(jdx::TOP_NO_EFFECT);
    top.only(TOP_KEYS)?;
    let mut ignored = jdx::ignored_in(&top, &[]);
    let root = top.bool("root")?.unwrap_or(false);
    let imports = top
        .str_list("import")?
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i, top.key_at("import")))
        .collect();
    let key = super::TRUSTED_DIRS_KEY;
    let trusted_dirs = top.str_list(key)?.map(|dirs| (dirs, top.key_at(key)));
    check_scan(&top, lines)?;
    let data_keys = data_keys(&top, lines)?;
    let base = parse_layer(&top, &[], lines, file_digest, &mut ignored)?;
    let mut profiles = std::collections::BTreeMap::new();
    if let Some((table, at)) = top.sub_table("profiles")? {
        for (name, item) in table.entries() {
            let pt = item.as_table().ok_or_else(|| ConfigError::Invalid {
                at: at.clone(),
                entry: format!("profile `{name}`"),
                key: name.to_string(),
                expected: "a table",
            })?;
            let pf =
                Fields::new(pt, format!("profile `{name}`"), item_at(table, name, lines), lines)
                    .with_no_effect(jdx::PROFILE_NO_EFFECT);
            pf.only(PROFILE_KEYS)?;
            ignored.extend(jdx::ignored_in(&pf, &["profiles", name]));
            let layer = parse_layer(&pf, &["profiles", name], lines, file_digest, &mut ignored)?;
            profiles.insert(name.to_string(), layer);
        }
    }
    // In the order of the file.
    ignored.sort_by_key(|k| k.at.line);
    Ok(ParsedFile {
        path: path.to_path_buf(),
        root,
        imports,
        trusted_dirs,
        base,
        profiles,
        ignored,
        data_keys,
        new_entry_at: Vec::new(),
        left_out: None,
    })
}

/// `[data_keys]`: one string per provider (`data_key = true`), read as
/// written; [`crate::file_key`] knows their format.
fn data_keys(top: &Fields<'_>, lines: &Lines) -> Result<Vec<(String, String)>, ConfigError> {
    let Some((table, at)) = top.sub_table("data_keys")? else { return Ok(Vec::new()) };
    let f = Fields::new(table, "[data_keys]".into(), at, lines);
    let mut out = Vec::new();
    for (provider, _) in table.entries() {
        if let Some(text) = f.str(provider)? {
            out.push((provider.to_string(), text));
        }
    }
    Ok(out)
}

/// `[scan]`: only `allow`, a list of strings (`fnox scan` reads it).
fn check_scan(top: &Fields<'_>, lines: &Lines) -> Result<(), ConfigError> {
    if let Some((table, at)) = top.sub_table("scan")? {
        let f = Fields::new(table, "[scan]".into(), at, lines);
        f.only(&["allow"])?;
        f.str_list("allow")?;
    }
    Ok(())
}

fn item_at(table: TableRef<'_>, key: &str, lines: &Lines) -> super::Location {
    let offset =
        table.key_span(key).or_else(|| table.get(key).and_then(|i| i.span())).map(|s| s.start);
    lines.at(offset)
}

fn if_missing(f: &Fields<'_>) -> Result<Option<IfMissing>, ConfigError> {
    match f.str("if_missing")? {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|()| ConfigError::Invalid {
            at: f.key_at("if_missing"),
            entry: f.entry.clone(),
            key: "if_missing".into(),
            expected: "one of \"error\", \"warn\", \"ignore\"",
        }),
    }
}

// T5: `env = true | "exec" | false`.
fn env_mode(f: &Fields<'_>) -> Result<Option<EnvMode>, ConfigError> {
    let Some(item) = f.table.get("env") else {
        return Ok(None);
    };
    match (item.as_bool(), item.as_str()) {
        (Some(true), _) => Ok(Some(EnvMode::Always)),
        (Some(false), _) => Ok(Some(EnvMode::Never)),
        (_, Some("exec")) => Ok(Some(EnvMode::Exec)),
        _ => Err(ConfigError::Invalid {
            at: f.key_at("env"),
            entry: f.entry.clone(),
            key: "env".into(),
            expected: "true, false or \"exec\"",
        }),
    }
}

// T6: `json_path` and `line`, one or the other.
fn json_path(f: &Fields<'_>) -> Result<Option<String>, ConfigError> {
    if f.table.contains_key("json_path") && f.table.contains_key("line") {
        let (path_at, line_at) = (f.key_at("json_path"), f.key_at("line"));
        let at = if line_at.line > path_at.line { line_at } else { path_at };
        return Err(ConfigError::JsonPathAndLine { at, entry: f.entry.clone() });
    }
    match f.str("json_path")? {
        Some(path) if path.is_empty() => Err(ConfigError::Invalid {
            at: f.key_at("json_path"),
            entry: f.entry.clone(),
            key: "json_path".into(),
            expected: "a path such as \"db.password\" (not empty)",
        }),
        path => Ok(path),
    }
}

fn parse_layer(
    f: &Fields<'_>,
    prefix: &[&str],
    lines: &Lines,
    file_digest: u64,
    ignored: &mut Vec<IgnoredKey>,
) -> Result<Layer, ConfigError> {
    let default_provider = f.str("default_provider")?.map(|p| (p, f.key_at("default_provider")));
    let mut layer = Layer {
        default_provider,
        if_missing: if_missing(f)?,
        env: env_mode(f)?,
        max_key_age: f.max_key_age("max_key_age")?,
        ..Layer::default()
    };
    if let Some((table, at)) = f.sub_table("providers")? {
        for (name, item) in table.entries() {
            let entry = format!("provider `{name}`");
            let pt = item.as_table().ok_or_else(|| ConfigError::Invalid {
                at: at.clone(),
                entry: entry.clone(),
                key: name.to_string(),
                expected: "a table",
            })?;
            let pf = Fields::new(pt, entry, item_at(table, name, lines), lines)
                .with_no_effect(jdx::PROVIDER_NO_EFFECT);
            let config = ProviderConfig::parse(name, &pf)?;
            ignored.extend(jdx::ignored_in(&pf, &[prefix, &["providers", name][..]].concat()));
            layer.providers.push(ProviderDef { name: name.to_string(), config, at: pf.at.clone() });
        }
    }
    if let Some((table, at)) = f.sub_table("secrets")? {
        let mut path: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        path.push("secrets".into());
        // One copy of the table's path, shared by its entries.
        let path: std::sync::Arc<[String]> = path.into();
        for (name, item) in table.entries() {
            let entry = format!("secret `{name}`");
            let loc = item_at(table, name, lines);
            if !is_valid_name(name) {
                return Err(ConfigError::BadName { at: loc, name: name.to_string() });
            }
            let st = item.as_table().ok_or_else(|| ConfigError::Invalid {
                at: if loc.line == 0 { at.clone() } else { loc.clone() },
                entry: entry.clone(),
                key: name.to_string(),
                expected: "a table such as { provider = \"...\", value = \"...\" }",
            })?;
            let sf = Fields::new(st, entry, loc, lines).with_no_effect(jdx::SECRET_NO_EFFECT);
            sf.only(SECRET_KEYS)?;
            ignored.extend(jdx::ignored_under(&sf, || [prefix, &["secrets", name][..]].concat()));
            let value = sf.shared_str("value")?;
            let sensitive = sf.bool("sensitive")?;
            if value.is_some() && sensitive == Some(false) {
                return Err(ConfigError::ValueNotSensitive {
                    at: sf.key_at("sensitive"),
                    name: name.to_string(),
                });
            }
            layer.secrets.push(SecretDef {
                name: name.to_string(),
                provider: sf.str("provider")?,
                value,
                default: sf.str("default")?,
                sensitive,
                description: sf.str("description")?,
                if_missing: if_missing(&sf)?,
                allow_exec_control: sf.bool("allow_exec_control")?.unwrap_or(false),
                env: env_mode(&sf)?,
                as_file: sf.bool("as_file")?.unwrap_or(false),
                at: sf.at.clone(),
                table: path.clone(),
                value_span: st
                    .get("value")
                    .filter(|v| v.is_str())
                    .and_then(|v| v.span())
                    .map(|s| (s, file_digest)),
                in_profile: false,
                json_path: json_path(&sf)?,
                line: sf.positive_int("line")?,
            });
        }
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParsedFile, ConfigError> {
        parse_file(Path::new("fnox.toml"), text)
    }

    #[test]
    fn names() {
        assert!(is_valid_name("A"));
        assert!(is_valid_name("_a9"));
        assert!(!is_valid_name("9A"));
        assert!(!is_valid_name("A-B"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn unknown_secret_key_is_located() {
        let err = parse("[secrets]\nA = { default = \"x\" }\nB = { valu = \"x\" }\n").unwrap_err();
        assert_eq!(err.to_string(), "fnox.toml:3: unknown key `valu` in secret `B`");
    }

    #[test]
    fn table_form_and_profiles() {
        let f = parse(
            "[providers.l]\ntype = \"local\"\n[secrets.A]\nprovider = \"l\"\nvalue = \"x\"\n\
             [profiles.prod.secrets]\nA = { default = \"p\" }\n",
        )
        .unwrap();
        assert_eq!(f.base.secrets[0].at.line, 3);
        assert_eq!(*f.base.secrets[0].table, ["secrets"]);
        let prod = &f.profiles["prod"].secrets[0];
        assert_eq!(prod.default.as_deref(), Some("p"));
        assert_eq!(*prod.table, ["profiles", "prod", "secrets"]);
        assert_eq!(prod.at.line, 7);
    }

    #[test]
    fn sensitive_is_read_and_refused_next_to_a_value_when_false() {
        let f = parse(
            "[secrets]\nA = { default = \"a\", sensitive = true }\nB = { default = \"b\", sensitive = false }\n\
             C = { default = \"c\" }\nD = { value = \"x\", sensitive = true }\n",
        )
        .unwrap();
        let sensitive: Vec<_> =
            f.base.secrets.iter().map(|d| (d.sensitive, d.is_secret())).collect();
        assert_eq!(
            sensitive,
            [(Some(true), true), (Some(false), false), (None, false), (Some(true), true)]
        );
        let err = parse("[secrets]\nA = { value = \"x\",\n  sensitive = false }\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "fnox.toml:3: secret `A` has an encrypted value, which is always secret: `sensitive = false` cannot apply to it"
        );
        assert_eq!(err.hints(), [crate::Hint::RemoveNotSensitive { secret: "A".into() }]);
    }

    // T6
    #[test]
    fn json_path_and_line_are_read_and_checked_where_they_are() {
        let f = parse(
            "[secrets]\nA = { default = \"{}\", json_path = \"a\\\\.b.c\" }\nB = { default = \"x\", line = 2 }\n",
        )
        .unwrap();
        assert_eq!(f.base.secrets[0].json_path.as_deref(), Some(r"a\.b.c"));
        assert_eq!(f.base.secrets[1].line, Some(2));
        let err = parse("[secrets]\nA = { default = \"x\",\n  json_path = \"a\",\n  line = 1 }\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "fnox.toml:4: secret `A` has both `json_path` and `line`: it can use one or the other"
        );
        for (entry, expected) in [
            ("line = 0", "fnox.toml:2: in secret `A`: `line` must be a whole number, 1 or more"),
            ("line = -1", "fnox.toml:2: in secret `A`: `line` must be a whole number, 1 or more"),
            (
                "line = \"2\"",
                "fnox.toml:2: in secret `A`: `line` must be a whole number, 1 or more",
            ),
            (
                "json_path = \"\"",
                "fnox.toml:2: in secret `A`: `json_path` must be a path such as \"db.password\" (not empty)",
            ),
        ] {
            let err = parse(&format!("[secrets]\nA = {{ {entry} }}\n")).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn syntax_error_has_line() {
        let err = parse("a = 1\n[secrets\n").unwrap_err();
        assert!(err.to_string().starts_with("fnox.toml:2: invalid TOML"), "{err}");
    }
}

#[cfg(test)]
mod example_file {
    use std::path::Path;

    use super::*;

    const EXAMPLE: &str = include_str!("../../../../fnox.example.toml");

    #[test]
    #[cfg(all(feature = "aws-kms", feature = "vault-transit"))]
    fn the_example_config_parses_with_every_provider() {
        let parsed = parse_file(Path::new("fnox.example.toml"), EXAMPLE).unwrap();
        let kinds: Vec<&str> = parsed.base.providers.iter().map(|p| p.config.kind()).collect();
        assert_eq!(kinds, ["local", "age", "aws-kms", "vault-transit", "plain"]);
        assert!(!parsed.base.secrets.is_empty());
        assert!(!parsed.profiles.is_empty());
    }

    #[test]
    #[cfg(not(feature = "aws-kms"))]
    fn a_provider_type_left_out_of_the_build_is_a_config_error_naming_its_feature() {
        let err = parse_file(Path::new("fnox.example.toml"), EXAMPLE).unwrap_err();
        assert!(
            matches!(&err, ConfigError::FeatureDisabled { feature: "aws-kms", kind, .. } if kind == "aws-kms"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "fnox.example.toml:69: provider `kms` has type `aws-kms`, which this build of fnox leaves out (cargo feature `aws-kms`)"
        );
    }
}
