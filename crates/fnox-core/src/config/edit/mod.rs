//! In-place edits of a config file's text with `toml_edit`: the one entry
//! changes, every other byte stays as it was (comments, spacing, order,
//! inline-vs-table style).

mod data_keys;
mod default_provider;
mod remove;
mod settings;
mod splice;
#[cfg(test)]
mod splice_tests;

pub use self::data_keys::{data_key_entry, set_data_key};
pub use self::default_provider::set_default_provider;
pub use self::remove::{Removed, remove_secret};
pub use self::settings::set_settings;
pub(crate) use self::splice::{
    NEW_ENTRY_TAIL, is_bare_key, is_bare_key_byte, new_entry_head, new_entry_point,
};
pub use toml_edit::{Array, Value};
use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike};

/// What `set` writes into a secret entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecretUpdate<'a> {
    /// `provider = ...` (written when given and different).
    pub provider: Option<&'a str>,
    /// The new stored value.
    pub value: &'a str,
    /// `description = ...` (written when given).
    pub description: Option<&'a str>,
    /// Other string fields written with the value (`default`,
    /// `if_missing`: `set --default`, `set --if-missing`).
    pub settings: &'a [(&'a str, &'a str)],
}

/// An edit that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file no longer parses.
    #[error("invalid TOML: {0}")]
    Syntax(#[from] toml_edit::TomlError),
    /// Something in the way has another type than expected.
    #[error("`{0}` is not a table")]
    NotATable(String),
    /// The placeholder of a large value was not found in the rendered file.
    #[error("the new value of `{0}` could not be placed in the file")]
    PlaceholderLost(String),
    /// The entry says `sensitive = false`, and an encrypted value is
    /// always secret.
    #[error("secret `{0}` says `sensitive = false`, and a value fnox encrypts is always secret")]
    NotSensitive(String),
}

/// Sets several secrets in one parse and one rendering of the file (see
/// [`set_secret`]).
pub(crate) fn set_secrets(
    text: &str,
    updates: &[(&[String], &str, SecretUpdate<'_>)],
) -> Result<String, EditError> {
    if let Some(spliced) = splice::splice_updates(text, updates)? {
        return Ok(spliced);
    }
    set_secrets_with_edit(text, updates)
}

/// [`set_secrets`] through a `toml_edit` document of the whole file.
fn set_secrets_with_edit(
    text: &str,
    updates: &[(&[String], &str, SecretUpdate<'_>)],
) -> Result<String, EditError> {
    // Large values go in as short placeholders, then replace them in the
    // rendered text: toml_edit never holds a copy of a large value.
    let tag = crate::codec::random_hex(8);
    let placeholders: Vec<Option<String>> = updates
        .iter()
        .enumerate()
        .map(|(i, (_, _, u))| (u.value.len() > 4096).then(|| format!("fnox-placeholder-{tag}-{i}")))
        .collect();
    let mut doc: DocumentMut = text.parse()?;
    for ((path, name, update), placeholder) in updates.iter().zip(&placeholders) {
        let mut update = *update;
        if let Some(p) = placeholder {
            update.value = p;
        }
        set_in_doc(&mut doc, path, name, update)?;
    }
    let mut out = render(&doc, text);
    drop(doc);
    for ((_, name, update), placeholder) in updates.iter().zip(&placeholders) {
        if let Some(p) = placeholder {
            let token = format!("\"{p}\"");
            let start =
                out.find(&token).ok_or_else(|| EditError::PlaceholderLost(name.to_string()))?;
            out = splice(&out, start..start + token.len(), update.value);
        }
    }
    Ok(out)
}

/// Replaces the string token at `span` of `text` with `value`.
pub(crate) fn splice(text: &str, span: std::ops::Range<usize>, value: &str) -> String {
    let mut out = String::with_capacity(text.len() - span.len() + value.len() + 2);
    out.push_str(&text[..span.start]);
    push_string(&mut out, value);
    out.push_str(&text[span.end..]);
    out
}

/// The TOML string token of `value`, in parts: `"`, `value`, `"` when it
/// needs no escapes (nothing is copied), else the escaped token.
pub(crate) fn string_token(value: &str) -> Vec<std::borrow::Cow<'_, str>> {
    if is_plain(value) {
        vec!["\"".into(), value.into(), "\"".into()]
    } else {
        vec![toml_edit::Value::from(value).to_string().into()]
    }
}

/// True for base64 or a transit token: a basic string needs no escapes.
fn is_plain(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=:._-".contains(&b))
}

fn push_string(out: &mut String, value: &str) {
    if is_plain(value) {
        out.push('"');
        out.push_str(value);
        out.push('"');
    } else {
        out.push_str(&toml_edit::Value::from(value).to_string());
    }
}

/// The stored `value` of each secret `(table path, name)` of `entries` in
/// `text`, read with one parse.
pub(crate) fn stored_values(
    text: &str,
    entries: &[(&[String], &str)],
) -> Result<Vec<Option<String>>, EditError> {
    let doc = toml_edit::Document::parse(text)?;
    Ok(entries
        .iter()
        .map(|(path, name)| {
            get_table(doc.as_table(), path)
                .and_then(|t| t.get(name))
                .and_then(|e| e.as_table_like())
                .and_then(|e| e.get("value"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect())
}

fn set_in_doc(
    doc: &mut DocumentMut,
    path: &[String],
    name: &str,
    update: SecretUpdate<'_>,
) -> Result<(), EditError> {
    let exists = get_table(doc.as_table(), path).is_some_and(|t| t.contains_key(name));
    let table = table_at(doc, path, !exists)?;
    match table.get_mut(name) {
        Some(item) => {
            let last_key = item.as_inline_table().and_then(last_key);
            let entry =
                item.as_table_like_mut().ok_or_else(|| EditError::NotATable(name.to_string()))?;
            if says_not_sensitive(entry) {
                return Err(EditError::NotSensitive(name.to_string()));
            }
            if let Some(p) = update.provider {
                put_str(entry, "provider", p);
            }
            if let Some(d) = update.description {
                put_str(entry, "description", d);
            }
            for (key, v) in update.settings {
                put_str(entry, key, v);
            }
            put_str(entry, "value", update.value);
            if let (Some(t), Some(old_last)) = (item.as_inline_table_mut(), last_key) {
                move_closing_space(t, &old_last);
            }
        }
        None => {
            let mut entry = InlineTable::new();
            if let Some(p) = update.provider {
                entry.insert("provider", p.into());
            }
            if let Some(d) = update.description {
                entry.insert("description", d.into());
            }
            for (key, v) in update.settings {
                entry.insert(*key, (*v).into());
            }
            entry.insert("value", update.value.into());
            table.insert(name, Item::Value(Value::InlineTable(entry)));
        }
    }
    Ok(())
}

/// True when a secret entry says `sensitive = false`: it must not get an
/// encrypted value.
fn says_not_sensitive(entry: &dyn TableLike) -> bool {
    entry.get("sensitive").and_then(Item::as_bool) == Some(false)
}

fn last_key(t: &InlineTable) -> Option<String> {
    t.iter().last().map(|(k, _)| k.to_string())
}

/// After keys were appended to an inline table, moves the space before its
/// closing brace from the formerly last value to the new last one, so
/// `{ default = "a" }` becomes `{ default = "a", value = "..." }`, not
/// `{ default = "a" , value = "..." }`.
fn move_closing_space(t: &mut InlineTable, old_last: &str) {
    let Some(new_last) = last_key(t).filter(|k| k != old_last) else {
        return;
    };
    let Some(old) = t.get_mut(old_last) else {
        return;
    };
    let closing = old.decor().suffix().cloned();
    old.decor_mut().set_suffix("");
    if let (Some(closing), Some(new)) = (closing, t.get_mut(&new_last)) {
        new.decor_mut().set_suffix(closing);
    }
}

/// The document as text, with the line endings of `original`: toml_edit
/// writes `\n` everywhere, which would turn every line of a CRLF file into
/// a change.
fn render(doc: &DocumentMut, original: &str) -> String {
    let out = doc.to_string();
    let lines = original.matches('\n').count();
    let crlf = original.matches("\r\n").count();
    if crlf == 0 || crlf * 2 < lines {
        return out;
    }
    out.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Replaces (keeping its spacing) or appends a string field.
fn put_str(entry: &mut dyn TableLike, key: &str, new: &str) {
    match entry.get_mut(key) {
        Some(Item::Value(old)) => {
            if old.as_str() == Some(new) {
                return;
            }
            let decor = old.decor().clone();
            *old = Value::from(new);
            *old.decor_mut() = decor;
        }
        Some(item) => *item = toml_edit::value(new),
        None => {
            entry.insert(key, toml_edit::value(new));
        }
    }
}

/// Walks to (creating as needed) the table at `path`.
fn table_at<'d>(
    doc: &'d mut DocumentMut,
    path: &[String],
    explicit: bool,
) -> Result<&'d mut dyn TableLike, EditError> {
    let mut current: &mut dyn TableLike = doc.as_table_mut();
    for (i, key) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        if current.get(key).is_none() {
            let mut t = Table::new();
            t.set_implicit(!last);
            current.insert(key, Item::Table(t));
        }
        let item = current.get_mut(key).ok_or_else(|| EditError::NotATable(key.clone()))?;
        if let Item::Table(t) = item
            && last
            && explicit
        {
            // An implicit `secrets` table (only `[secrets.X]` headers) gets
            // its own header once it holds an inline entry.
            t.set_implicit(false);
        }
        current = item.as_table_like_mut().ok_or_else(|| EditError::NotATable(key.clone()))?;
    }
    Ok(current)
}

fn get_table<'d>(mut t: &'d dyn TableLike, path: &[String]) -> Option<&'d dyn TableLike> {
    for key in path {
        t = t.get(key)?.as_table_like()?;
    }
    Some(t)
}

fn get_table_mut<'d>(
    mut t: &'d mut dyn TableLike,
    path: &[String],
) -> Option<&'d mut dyn TableLike> {
    for key in path {
        t = t.get_mut(key)?.as_table_like_mut()?;
    }
    Some(t)
}

/// Adds `[providers.NAME]` with `fields` unless a provider of that name
/// exists. Returns the new text, or `None` when it was already there.
pub fn add_provider(
    text: &str,
    name: &str,
    fields: &[(&str, Value)],
) -> Result<Option<String>, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    let providers = table_at(&mut doc, &["providers".to_string()], false)?;
    if providers.contains_key(name) {
        return Ok(None);
    }
    let mut t = Table::new();
    for (k, v) in fields {
        t.insert(k, Item::Value(v.clone()));
    }
    providers.insert(name, Item::Table(t));
    if let Some(Item::Table(p)) = doc.get_mut("providers") {
        p.set_implicit(true);
    }
    Ok(Some(render(&doc, text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets secret `name` in the table at `path` (e.g. `["secrets"]` or
    /// `["profiles", "ci", "secrets"]`), creating the entry (inline) and the
    /// tables as needed. Returns the new text.
    fn set_secret(
        text: &str,
        path: &[String],
        name: &str,
        update: SecretUpdate<'_>,
    ) -> Result<String, EditError> {
        set_secrets(text, &[(path, name, update)])
    }

    fn secrets() -> Vec<String> {
        vec!["secrets".into()]
    }

    fn upd(value: &str) -> SecretUpdate<'_> {
        SecretUpdate { provider: None, value, description: None, settings: &[] }
    }

    #[test]
    fn set_keeps_odd_spacing_of_inline_entry() {
        let text = "[secrets]\nA = {provider=\"l\",   value = \"old\"   }  # keep\nB = { default = \"x\" }\n";
        let out = set_secret(text, &secrets(), "A", upd("new")).unwrap();
        assert_eq!(
            out,
            "[secrets]\nA = {provider=\"l\",   value = \"new\"   }  # keep\nB = { default = \"x\" }\n"
        );
    }

    #[test]
    fn an_entry_that_says_not_sensitive_gets_no_value() {
        let text = "[secrets]\nA = { default = \"x\", sensitive = false }\n";
        let err = set_secret(text, &secrets(), "A", upd("v")).unwrap_err();
        assert!(matches!(&err, EditError::NotSensitive(n) if n == "A"), "{err:?}");
        // Also when the file holds a value already (the fast path).
        let text = "[secrets.A]\nvalue = \"old\"\nsensitive = false\n";
        let err = set_secret(text, &secrets(), "A", upd("v")).unwrap_err();
        assert!(matches!(&err, EditError::NotSensitive(n) if n == "A"), "{err:?}");
        let text = "[secrets]\nA = { default = \"x\", sensitive = true }\n";
        let out = set_secret(text, &secrets(), "A", upd("v")).unwrap();
        assert_eq!(out, "[secrets]\nA = { default = \"x\", sensitive = true, value = \"v\" }\n");
    }

    #[test]
    fn set_updates_table_form_entry() {
        let text = "[secrets.A]\nprovider = \"l\"   # p\nvalue    = \"old\" # v\n\n[secrets.B]\ndefault = \"x\"\n";
        let out = set_secret(text, &secrets(), "A", upd("new")).unwrap();
        assert_eq!(out, text.replace("\"old\"", "\"new\""));
    }

    #[test]
    fn new_entry_is_appended_inline() {
        let text = "# top\n[secrets]\nA = { default = \"x\" }\n\n[providers.l]\ntype = \"local\"\n";
        let u = SecretUpdate {
            provider: Some("l"),
            value: "c2VjcmV0",
            description: None,
            settings: &[],
        };
        let out = set_secret(text, &secrets(), "B", u).unwrap();
        assert_eq!(
            out,
            "# top\n[secrets]\nA = { default = \"x\" }\nB = { provider = \"l\", value = \"c2VjcmV0\" }\n\n[providers.l]\ntype = \"local\"\n"
        );
    }

    #[test]
    fn new_profile_entry_creates_one_header() {
        let text = "[secrets]\nA = { default = \"x\" }\n";
        let path: Vec<String> = ["profiles", "prod", "secrets"].map(String::from).to_vec();
        let out = set_secret(text, &path, "A", upd("v")).unwrap();
        assert_eq!(
            out,
            "[secrets]\nA = { default = \"x\" }\n\n[profiles.prod.secrets]\nA = { value = \"v\" }\n"
        );
    }

    #[test]
    fn remove_inline_entry_with_its_comment_keeps_blank_line() {
        let text = "[secrets]\nA = { default = \"a\" }\n\n# about B\nB = { default = \"b\" }\nC = { default = \"c\" }\n";
        let out = remove_secret(text, &secrets(), "B").unwrap().unwrap().text;
        assert_eq!(out, "[secrets]\nA = { default = \"a\" }\n\nC = { default = \"c\" }\n");
    }

    #[test]
    fn remove_last_inline_entry_leaves_one_blank_line() {
        let text = "[secrets]\nA = { default = \"a\" }\n\nB = { default = \"b\" }\n\n[providers.l]\ntype = \"local\"\n";
        let out = remove_secret(text, &secrets(), "B").unwrap().unwrap().text;
        assert_eq!(out, "[secrets]\nA = { default = \"a\" }\n\n[providers.l]\ntype = \"local\"\n");
    }

    #[test]
    fn remove_table_entry() {
        let text = "[secrets.A]\ndefault = \"a\"\n\n# about B\n[secrets.B]\ndefault = \"b\"\n\n[secrets.C]\ndefault = \"c\"\n";
        let out = remove_secret(text, &secrets(), "B").unwrap().unwrap().text;
        assert_eq!(out, "[secrets.A]\ndefault = \"a\"\n\n[secrets.C]\ndefault = \"c\"\n");
    }

    #[test]
    fn fields_added_to_an_inline_entry_keep_its_closing_spacing() {
        let text = "[secrets]\nA = { default = \"a\" }  # c\nB = {default=\"b\"}\n";
        let u =
            SecretUpdate { provider: Some("l"), value: "dg==", description: None, settings: &[] };
        let out = set_secret(text, &secrets(), "A", u).unwrap();
        let out = set_secret(&out, &secrets(), "B", u).unwrap();
        assert_eq!(
            out,
            "[secrets]\nA = { default = \"a\", provider = \"l\", value = \"dg==\" }  # c\n\
             B = {default=\"b\", provider = \"l\", value = \"dg==\"}\n"
        );
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let text =
            "# top\r\n[secrets]\r\nA = { value = \"old\" }\r\n\r\n[secrets.B]\r\nvalue = \"b\"\r\n";
        let out = set_secret(text, &secrets(), "A", upd("new")).unwrap();
        assert_eq!(out, text.replace("old", "new"));
        let out = set_secret(text, &secrets(), "C", upd("c")).unwrap();
        assert_eq!(out, text.replace("\r\n\r\n", "\r\nC = { value = \"c\" }\r\n\r\n"));
        let out = remove_secret(text, &secrets(), "B").unwrap().unwrap().text;
        assert_eq!(out, "# top\r\n[secrets]\r\nA = { value = \"old\" }\r\n");
        // One blank line stays between the neighbours of a removed table.
        let three = "[secrets.A]\r\nvalue = \"a\"\r\n\r\n[secrets.B]\r\nvalue = \"b\"\r\n\r\n[secrets.C]\r\n";
        let out = remove_secret(three, &secrets(), "B").unwrap().unwrap().text;
        assert_eq!(out, "[secrets.A]\r\nvalue = \"a\"\r\n\r\n[secrets.C]\r\n");
        // A file with LF endings stays LF, whatever its values contain.
        let lf = "[secrets]\nA = { value = \"old\" }\n";
        assert_eq!(set_secret(lf, &secrets(), "A", upd("new")).unwrap(), lf.replace("old", "new"));
    }

    #[test]
    fn remove_missing_is_none() {
        assert!(remove_secret("[secrets]\n", &secrets(), "X").unwrap().is_none());
        assert!(remove_secret("", &secrets(), "X").unwrap().is_none());
    }
}
