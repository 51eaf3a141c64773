//! The structured inputs of `fnox import json|toml|yaml`: one object of
//! `NAME: value` at the top, or the `secrets` object of an export document
//! (`{"secrets": {...}, "metadata": {...}}`, the shape jdx/fnox's `export`
//! writes). A string is taken as it is, a boolean or an integer as its
//! text (`true`, `5432`). Anything else (null, a number with a fraction, a
//! date, a list, a nested object) is refused with the key's name: nothing
//! is skipped without a word, and nothing is stored as text the file did
//! not hold (`1.50` read as a float would come back as `1.5`).
//!
//! Errors name the source, a line when the parser gives one, and a key,
//! never a value.

use zeroize::Zeroizing;

use fnox_core::SecretBytes;

use super::CommandError;

/// A structured input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structured {
    Json,
    Toml,
    Yaml,
}

/// One top-level key of the input: its value, or what it is when it is
/// not text (`"null"`, `"an array"`), for the caller to refuse once the
/// filter has chosen the keys it wants.
pub type Item = (String, Result<SecretBytes, &'static str>);

/// A value of the input, as far as `import` cares.
enum Node {
    Text(Zeroizing<String>),
    /// A map, with the format's word for one (`an object`, `a table`).
    Map(&'static str, Vec<(String, Node)>),
    /// Anything else: what it is.
    Other(&'static str),
}

/// Maps nested deeper than this are not looked into: only the top level
/// and an export document's `secrets` can hold entries.
const MAX_DEPTH: usize = 2;

/// The entries of `text`, a document in `format`, read from `source`.
pub fn parse(format: Structured, text: &str, source: &str) -> Result<Vec<Item>, CommandError> {
    let top = match format {
        Structured::Json => json(text, source)?,
        Structured::Toml => toml(text, source)?,
        Structured::Yaml => yaml(text, source)?,
    };
    let map = match top {
        Node::Map(_, map) => map,
        Node::Text(_) => return Err(not_a_map(source, format, "text")),
        Node::Other(what) => return Err(not_a_map(source, format, what)),
    };
    let map = if is_export_document(&map) {
        map.into_iter()
            .find_map(|(k, v)| match v {
                Node::Map(_, secrets) if k == "secrets" => Some(secrets),
                _ => None,
            })
            .unwrap_or_default()
    } else {
        map
    };
    Ok(map
        .into_iter()
        .map(|(name, node)| {
            let value = match node {
                Node::Text(text) => Ok(SecretBytes::from_slice(text.as_bytes())),
                Node::Map(what, _) | Node::Other(what) => Err(what),
            };
            (name, value)
        })
        .collect())
}

/// `{"secrets": {...}}`, with at most a `metadata` object beside it.
fn is_export_document(map: &[(String, Node)]) -> bool {
    let is_map = |k: &str| map.iter().any(|(n, v)| n == k && matches!(v, Node::Map(..)));
    is_map("secrets")
        && map
            .iter()
            .all(|(n, v)| matches!(v, Node::Map(..)) && (n == "secrets" || n == "metadata"))
}

fn not_a_map(source: &str, format: Structured, what: &str) -> CommandError {
    let map = match format {
        Structured::Json => "object",
        Structured::Toml => "table",
        Structured::Yaml => "mapping",
    };
    CommandError::user(format!(
        "{source}: the top level is {what}; fnox imports one {map} of NAME and value"
    ))
}

fn json(text: &str, source: &str) -> Result<Node, CommandError> {
    // serde_json's messages say what it expected and where, never the text.
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| CommandError::user(format!("{source}: not valid JSON: {e}")))?;
    Ok(json_node(value, 0))
}

fn json_node(value: serde_json::Value, depth: usize) -> Node {
    use serde_json::Value;
    match value {
        Value::String(s) => Node::Text(Zeroizing::new(s)),
        Value::Bool(b) => Node::Text(Zeroizing::new(b.to_string())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Node::Text(Zeroizing::new(n.to_string())),
        Value::Number(_) => Node::Other("a number with a fraction or an exponent"),
        Value::Null => Node::Other("null"),
        Value::Array(_) => Node::Other("an array"),
        Value::Object(map) if depth < MAX_DEPTH => Node::Map(
            "an object",
            map.into_iter().map(|(k, v)| (k, json_node(v, depth + 1))).collect(),
        ),
        Value::Object(_) => Node::Other("an object"),
    }
}

fn toml(text: &str, source: &str) -> Result<Node, CommandError> {
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        // The message only: the error's own display quotes the line, which
        // may hold a value.
        let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let at = line.map(|l| format!(":{l}")).unwrap_or_default();
        CommandError::user(format!("{source}{at}: not valid TOML: {}", e.message().trim_end()))
    })?;
    Ok(toml_table(doc.as_table().iter(), 0))
}

/// A table at `depth` (0: the document).
fn toml_table<'a>(
    items: impl Iterator<Item = (&'a str, &'a toml_edit::Item)>,
    depth: usize,
) -> Node {
    let entries = items.filter_map(|(k, item)| {
        let node = match item {
            toml_edit::Item::None => return None,
            toml_edit::Item::Value(v) => toml_value(v, depth + 1),
            toml_edit::Item::Table(t) if depth + 1 < MAX_DEPTH => toml_table(t.iter(), depth + 1),
            toml_edit::Item::Table(_) => Node::Other("a table"),
            toml_edit::Item::ArrayOfTables(_) => Node::Other("an array of tables"),
        };
        Some((k.to_string(), node))
    });
    Node::Map("a table", entries.collect())
}

fn toml_value(value: &toml_edit::Value, depth: usize) -> Node {
    use toml_edit::Value;
    match value {
        Value::String(s) => Node::Text(Zeroizing::new(s.value().clone())),
        Value::Integer(i) => Node::Text(Zeroizing::new(i.value().to_string())),
        Value::Boolean(b) => Node::Text(Zeroizing::new(b.value().to_string())),
        Value::Float(_) => Node::Other("a floating-point number"),
        Value::Datetime(_) => Node::Other("a date-time"),
        Value::Array(_) => Node::Other("an array"),
        Value::InlineTable(t) if depth < MAX_DEPTH => Node::Map(
            "a table",
            t.iter().map(|(k, v)| (k.to_string(), toml_value(v, depth + 1))).collect(),
        ),
        Value::InlineTable(_) => Node::Other("a table"),
    }
}

fn yaml(text: &str, source: &str) -> Result<Node, CommandError> {
    // Only where: the parser's messages may quote a key or a character of
    // the input.
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| {
        let m = e.marker();
        CommandError::user(format!(
            "{source}:{}: not valid YAML (column {})",
            m.line(),
            m.col() + 1
        ))
    })?;
    let mut docs = docs.into_iter();
    let first = docs.next();
    if docs.next().is_some() {
        return Err(CommandError::user(format!(
            "{source} holds more than one YAML document; fnox imports one"
        )));
    }
    match first {
        None => Ok(Node::Map("a mapping", Vec::new())),
        Some(doc) => yaml_node(doc, 0, source),
    }
}

fn yaml_node(value: yaml_rust2::Yaml, depth: usize, source: &str) -> Result<Node, CommandError> {
    use yaml_rust2::Yaml;
    Ok(match value {
        Yaml::String(s) => Node::Text(Zeroizing::new(s)),
        Yaml::Boolean(b) => Node::Text(Zeroizing::new(b.to_string())),
        Yaml::Integer(i) => Node::Text(Zeroizing::new(i.to_string())),
        Yaml::Real(_) => Node::Other("a floating-point number"),
        Yaml::Null => Node::Other("null"),
        Yaml::Array(_) => Node::Other("a list"),
        Yaml::Hash(map) if depth < MAX_DEPTH => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                let Yaml::String(name) = k else {
                    return Err(CommandError::user(format!(
                        "{source}: a key is not text; fnox imports names such as API_TOKEN"
                    )));
                };
                entries.push((name, yaml_node(v, depth + 1, source)?));
            }
            Node::Map("a mapping", entries)
        }
        Yaml::Hash(_) => Node::Other("a mapping"),
        Yaml::Alias(_) | Yaml::BadValue => Node::Other("an alias"),
    })
}

#[cfg(test)]
#[path = "structured_tests.rs"]
mod tests;
