//! The fast path of [`super::set_secrets`]: the file's text is changed in
//! place, with no `toml_edit` document of the whole file. A new value for
//! an existing entry replaces the bytes of its old value token; a new entry
//! is a line put where `toml_edit` would put it (after the last line of its
//! table's own entries). Anything less plain (another provider on an
//! existing entry, a table without its own `[header]`, dotted keys, CRLF
//! line ends, ...) is left to `toml_edit`: `None`. A proptest checks the
//! result against `toml_edit`'s, byte for byte.

use std::ops::Range;

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

use super::{EditError, SecretUpdate};
use crate::config::tree::{TableRef, numbers_fit};

/// One change to the text: the bytes at a range replaced by a value
/// token, or the line of a new entry (its start, then its value) inserted
/// at an offset.
enum Edit<'u> {
    Replace(Range<usize>, &'u str),
    Insert(usize, String, &'u str),
}

impl Edit<'_> {
    fn start(&self) -> usize {
        match self {
            Edit::Replace(r, _) => r.start,
            Edit::Insert(at, ..) => *at,
        }
    }

    fn end(&self) -> usize {
        match self {
            Edit::Replace(r, _) => r.end,
            Edit::Insert(at, ..) => *at,
        }
    }
}

/// `text` with `updates` made, or `None` when one needs `toml_edit`.
pub(super) fn splice_updates(
    text: &str,
    updates: &[(&[String], &str, SecretUpdate<'_>)],
) -> Result<Option<String>, EditError> {
    // Found with the fast reader; a file it refuses (or that has a number
    // toml_edit refuses) takes the toml_edit path, which gives the error.
    let Ok(doc) = DeTable::parse(text) else { return Ok(None) };
    if !numbers_fit(doc.get_ref()) {
        return Ok(None);
    }
    let mut edits = Vec::with_capacity(updates.len());
    for (i, (path, name, update)) in updates.iter().enumerate() {
        let Some((table, t)) = table_at(&doc, path) else { return Ok(None) };
        let edit = match TableRef::Fast(t).get(name) {
            Some(entry) => {
                let Some(entry) = entry.as_table() else { return Ok(None) };
                if entry.get("sensitive").and_then(|v| v.as_bool()) == Some(false) {
                    return Ok(None);
                }
                match replacement(entry, update) {
                    Some(span) => Edit::Replace(span, update.value),
                    None => return Ok(None),
                }
            }
            None => {
                // The same new entry twice: the second write changes the first.
                let again = updates[..i].iter().any(|(p, n, _)| p == path && n == name);
                let at = if again { None } else { insertion_point(text, (table, t)) };
                match at {
                    Some(at) if is_bare_key(name) => {
                        Edit::Insert(at, new_entry_head(name, update), update.value)
                    }
                    _ => return Ok(None),
                }
            }
        };
        edits.push(edit);
    }
    drop(doc);
    // Stable: new entries of one table keep the order of `updates`.
    edits.sort_by_key(Edit::start);
    if edits.windows(2).any(|w| w[0].end() > w[1].start()) {
        return Ok(None);
    }
    Ok(Some(apply(text, &edits)))
}

/// The span of the value token that `update` replaces in `entry`, when the
/// value alone changes.
fn replacement(entry: TableRef<'_>, update: &SecretUpdate<'_>) -> Option<Range<usize>> {
    let provider_same =
        update.provider.is_none_or(|p| entry.get("provider").and_then(|v| v.as_str()) == Some(p));
    if !provider_same || update.description.is_some() || !update.settings.is_empty() {
        return None;
    }
    entry.get("value").filter(|v| v.is_str()).and_then(|v| v.span())
}

fn apply(text: &str, edits: &[Edit<'_>]) -> String {
    let added: usize = edits
        .iter()
        .map(|e| match e {
            Edit::Replace(_, v) => v.len() + 2,
            Edit::Insert(_, head, value) => head.len() + value.len() + NEW_ENTRY_TAIL.len() + 2,
        })
        .sum();
    let mut out = String::with_capacity(text.len() + added);
    let mut pos = 0;
    for edit in edits {
        out.push_str(&text[pos..edit.start()]);
        match edit {
            Edit::Replace(span, value) => {
                super::push_string(&mut out, value);
                pos = span.end;
            }
            Edit::Insert(at, head, value) => {
                out.push_str(head);
                super::push_string(&mut out, value);
                out.push_str(NEW_ENTRY_TAIL);
                pos = *at;
            }
        }
    }
    out.push_str(&text[pos..]);
    out
}

/// The table at `path`, spanned and as a table.
fn table_at<'a>(
    doc: &'a Spanned<DeTable<'a>>,
    path: &[String],
) -> Option<(&'a Spanned<DeValue<'a>>, &'a DeTable<'a>)> {
    let (first, rest) = path.split_first()?;
    let mut current = doc.get_ref().get(first.as_str())?;
    for key in rest {
        current = current.get_ref().as_table()?.get(key.as_str())?;
    }
    Some((current, current.get_ref().as_table()?))
}

/// Where `toml_edit` puts a new entry of `table`: at the start of the line
/// after the table's last own entry (or after its header when it has
/// none). `None` for a table without a `[header]` of its own, one with
/// dotted keys, and a file with CRLF line ends or without a final line
/// break.
fn insertion_point(
    text: &str,
    (table, own): (&Spanned<DeValue<'_>>, &DeTable<'_>),
) -> Option<usize> {
    // `toml_edit` ends a file that has no final line break with one.
    if text.contains('\r') || !text.ends_with('\n') {
        return None;
    }
    let header = table.span();
    // The fast reader spans a table by its `[header]`; an implicit or
    // dotted table by a key.
    let written = &text[header.clone()];
    if !written.starts_with('[') || written.starts_with("[[") {
        return None;
    }
    let mut end = header.end;
    for (_, value) in own {
        let span = value.span();
        match (value.get_ref(), text.as_bytes().get(span.start)) {
            // Inline tables are the table's own lines.
            (DeValue::Table(_), Some(b'{')) => end = end.max(span.end),
            // Tables of their own `[header]`: written after the table's lines.
            (DeValue::Table(_), Some(b'[')) if !text[span.start..].starts_with("[[") => {}
            // Dotted keys, implicit tables, arrays of tables.
            (DeValue::Table(_) | DeValue::Array(_), _) if text[span.start..].starts_with("[[") => {
                return None;
            }
            (DeValue::Table(_), _) => return None,
            _ => end = end.max(span.end),
        }
    }
    let rest = &text[end..];
    let newline = rest.find('\n')?;
    let tail = rest[..newline].trim_start_matches([' ', '\t']);
    (tail.is_empty() || tail.starts_with('#')).then_some(end + newline + 1)
}

/// True when `toml_edit` writes `name` as a bare key.
pub(crate) fn is_bare_key(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_bare_key_byte)
}

/// True for a byte a bare TOML key may hold: ASCII letters and digits,
/// `_` and `-`.
pub(crate) fn is_bare_key_byte(b: u8) -> bool {
    BARE_KEY_BYTES[usize::from(b)]
}

/// [`is_bare_key_byte`] as a table: one load per byte in the scans of
/// whole files.
static BARE_KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    table
};

/// What follows the value token in the line of a new entry.
pub(crate) const NEW_ENTRY_TAIL: &str = " }\n";

/// The line of a new entry up to its value token (which is last, followed
/// by [`NEW_ENTRY_TAIL`]), as `toml_edit` writes an inline table it made;
/// `update.value` is not used. `name` must be a
/// bare key.
pub(crate) fn new_entry_head(name: &str, update: &SecretUpdate<'_>) -> String {
    let mut line = String::with_capacity(name.len() + 64);
    line.push_str(name);
    line.push_str(" = { ");
    let fields = update
        .provider
        .map(|p| ("provider", p))
        .into_iter()
        .chain(update.description.map(|d| ("description", d)))
        .chain(update.settings.iter().copied());
    for (key, value) in fields {
        line.push_str(key);
        line.push_str(" = ");
        super::push_string(&mut line, value);
        line.push_str(", ");
    }
    line.push_str("value = ");
    line
}

/// Where `toml_edit` puts a new entry of the table at `path` of `doc`
/// (the fast reader's reading of `text`), when it is plain enough to put
/// it there without `toml_edit` (see [`insertion_point`]).
pub(crate) fn new_entry_point(
    text: &str,
    doc: &Spanned<DeTable<'_>>,
    path: &[String],
) -> Option<usize> {
    insertion_point(text, table_at(doc, path)?)
}
