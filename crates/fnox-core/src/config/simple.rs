//! The reading of a whole file whose `[secrets]` tables hold one-line
//! entries only (what `fnox set` writes: `NAME = { provider = "p", value =
//! "..." }`), for the commands that read every secret (`exec`, `export`,
//! `list`): a scan of the file checks each entry against that simple form
//! and builds its model directly, and the rest of the file (the entries'
//! lines left out but their line breaks, so every line keeps its number;
//! offsets are mapped back) is parsed as usual. A file with anything else
//! in a `[secrets]` table (a table under an entry, a dotted key, a key
//! other than `provider`, `value`, `default` and `description`, an escape
//! in a string, ...) or with a problem anywhere is read as before, which
//! reports the problem; a proptest (`parse_equivalence.rs`) shows that both
//! readings give the same model.

use std::{ops::Range, path::Path, sync::Arc};

use super::{
    fields::Lines,
    lite::{EntryLine, Subset, entry_line, has_control, header_path, statement_end},
    model::{ParsedFile, SecretDef},
    parse::{is_valid_name, parse_fast_with},
};

/// A field of a simple entry: the string and where its token (quotes
/// included) is.
type Field<'t> = Option<(&'t str, Range<usize>)>;

/// One simple entry.
struct Entry<'t> {
    /// Its `[secrets]` table: the top level (`None`) or a profile's.
    profile: Option<&'t str>,
    name: &'t str,
    /// Where its name starts.
    at: usize,
    /// After its closing brace.
    end: usize,
    provider: Field<'t>,
    value: Field<'t>,
    default: Field<'t>,
    description: Field<'t>,
}

/// Where the statements being read belong.
#[derive(Clone, Copy)]
enum Table<'t> {
    Secrets(Option<&'t str>),
    Other,
}

/// The model of `text` (the contents of `path`) read the simple way;
/// `None` when the file is not of that form or has a problem anywhere
/// (the usual reading then reports it).
pub(super) fn parse(path: &Path, text: &str, lines: &Lines) -> Option<ParsedFile> {
    let bytes = text.as_bytes();
    let mut entries: Vec<Entry<'_>> = Vec::with_capacity(text.len() / 100);
    let mut blanks: Vec<Range<usize>> = Vec::with_capacity(text.len() / 100);
    let (mut pos, mut table) = (0, Table::Other);
    while pos < bytes.len() {
        let Some(indent) = bytes[pos..].iter().position(|b| !matches!(b, b' ' | b'\t')) else {
            break;
        };
        let start = pos + indent;
        pos = match (bytes[start], table) {
            (b'[', _) => {
                let (end, _) = statement_end(bytes, start)?;
                table = header(&text[start..end])?;
                end
            }
            (b'\n' | b'\r' | b'#', _) | (_, Table::Other) => statement_end(bytes, start)?.0,
            (_, Table::Secrets(profile)) => {
                let (entry, line) = entry(text, start, profile)?;
                blanks.push(start..line.content_end);
                entries.push(entry);
                line.end
            }
        };
    }
    if entries.is_empty() {
        return None;
    }
    // A name twice in one table: the usual reading reports it.
    let mut names: Vec<(Option<&str>, &str)> =
        entries.iter().map(|e| (e.profile, e.name)).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    // The rest of the file: each entry's line keeps its indentation and
    // line break only, so that every line keeps its number.
    let rest = Subset::leaving_out(text, &blanks);
    let digest = super::model::digest(text);
    let mut parsed =
        parse_fast_with(path, &rest.text, &Lines::new(path, &rest.text), digest)?.ok()?;
    // Entries from elsewhere (dotted keys, inline tables): the usual
    // reading orders and checks them (and their spans are the rest's).
    if !parsed.base.secrets.is_empty() || parsed.profiles.values().any(|l| !l.secrets.is_empty()) {
        return None;
    }
    if !text.ends_with('\n') {
        // `toml_edit` would end the file with a line break first: no new
        // entry goes in without it (the rest may end with one).
        parsed.new_entry_at.clear();
    }
    for (_, at, _) in &mut parsed.new_entry_at {
        *at = rest.file_offset(*at);
    }
    fix_new_entry_points(&mut parsed, bytes, &entries);
    add_entries(&mut parsed, entries, lines, digest)?;
    Some(parsed)
}

/// Adds the simple entries to their layers of `parsed`, in their order.
fn add_entries(
    parsed: &mut ParsedFile,
    entries: Vec<Entry<'_>>,
    lines: &Lines,
    digest: u64,
) -> Option<()> {
    parsed.base.secrets.reserve(entries.iter().filter(|e| e.profile.is_none()).count());
    // One copy of each table's path, shared by its entries.
    let top: Arc<[String]> = Arc::new(["secrets".to_string()]);
    let mut profile_table: Option<(&str, Arc<[String]>)> = None;
    for e in entries {
        let (layer, table) = match e.profile {
            None => (&mut parsed.base, top.clone()),
            Some(p) => {
                let table = match &profile_table {
                    Some((name, table)) if *name == p => table.clone(),
                    _ => {
                        let path = ["profiles".to_string(), p.to_string(), "secrets".to_string()];
                        let table: Arc<[String]> = Arc::new(path);
                        profile_table = Some((p, table.clone()));
                        table
                    }
                };
                (parsed.profiles.get_mut(p)?, table)
            }
        };
        let owned = |f: &Field<'_>| f.as_ref().map(|(s, _)| s.to_string());
        layer.secrets.push(SecretDef {
            name: e.name.to_string(),
            provider: owned(&e.provider),
            value: e.value.as_ref().map(|(s, _)| (*s).into()),
            default: owned(&e.default),
            sensitive: None,
            description: owned(&e.description),
            if_missing: None,
            allow_exec_control: false,
            env: None,
            as_file: false,
            at: lines.at(Some(e.at)),
            table,
            value_span: e.value.map(|(_, span)| (span, digest)),
            in_profile: false,
            json_path: None,
            line: None,
        });
    }
    Some(())
}

/// The table that header line `line` opens; `None` for a table under a
/// secret's entry.
fn header(line: &str) -> Option<Table<'_>> {
    // A quoted key or an array of tables: not a `[secrets]` table the scan
    // knows (the usual reading tells whether it is one).
    let Some(path) = header_path(line) else { return Some(Table::Other) };
    match path.as_slice() {
        ["secrets"] => Some(Table::Secrets(None)),
        ["profiles", profile, "secrets"] => Some(Table::Secrets(Some(profile))),
        ["secrets", ..] | ["profiles", _, "secrets", ..] => None,
        _ => Some(Table::Other),
    }
}

/// The entry at `start` as a simple entry, and its line.
fn entry<'t>(
    text: &'t str,
    start: usize,
    profile: Option<&'t str>,
) -> Option<(Entry<'t>, EntryLine)> {
    let mut e = Entry {
        profile,
        name: "",
        at: start,
        end: 0,
        provider: None,
        value: None,
        default: None,
        description: None,
    };
    let line = entry_line(text.as_bytes(), start, |key, content| {
        let slot = match key {
            b"provider" => &mut e.provider,
            b"value" => &mut e.value,
            b"default" => &mut e.default,
            b"description" => &mut e.description,
            _ => return None,
        };
        if has_control(&text.as_bytes()[content.clone()]) {
            return None;
        }
        let token = content.start - 1..content.end + 1;
        slot.replace((&text[content], token)).is_none().then_some(())
    })?;
    e.name = &text[line.name.clone()];
    e.end = line.close;
    is_valid_name(e.name).then_some((e, line))
}

/// The new-entry points of the `[secrets]` tables that held simple
/// entries: after the last of them, as the usual reading finds it (the
/// rest of its line blank or a comment), else none.
fn fix_new_entry_points(parsed: &mut ParsedFile, bytes: &[u8], entries: &[Entry<'_>]) {
    parsed.new_entry_at.retain_mut(|(table, at, _)| {
        let profile = match table.as_slice() {
            [t] if t == "secrets" => None,
            [p, name, t] if p == "profiles" && t == "secrets" => Some(name.as_str()),
            _ => return true,
        };
        let Some(last) = entries.iter().filter(|e| e.profile == profile).map(|e| e.end).max()
        else {
            return true;
        };
        let end = last.max(*at);
        let Some(newline) = memchr::memchr(b'\n', &bytes[end..]) else { return false };
        let tail = &bytes[end..end + newline];
        let tail =
            &tail[tail.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(tail.len())..];
        if tail.is_empty() || tail.starts_with(b"#") {
            *at = end + newline + 1;
            true
        } else {
            false
        }
    });
}
