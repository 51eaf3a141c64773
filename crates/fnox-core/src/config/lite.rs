//! The reading of a command that needs one secret (`get NAME`): a cheap
//! scan of the file finds its statements (without lexing the values), and
//! the entries of other secrets in `[secrets]` tables are left out before
//! the file is parsed. What is left has the same lines, so the model keeps
//! its locations. Anything the scan does not understand (multi-line
//! strings, a string or bracket left open, a jdx/fnox no-effect key of a
//! secret) gives `None`: the whole file is read as usual.
//!
//! What is left out is not checked: a mistake in another secret's entry
//! is reported by the commands that read that entry, not by `get NAME`.

use std::ops::Range;

use memchr::{memchr, memchr3, memmem};

use super::jdx::SECRET_NO_EFFECT;

/// A file's text with some statements left out (their line breaks kept).
#[derive(Debug)]
pub(crate) struct Subset {
    /// The text.
    pub text: String,
    /// Where each run copied from the file starts: (in `text`, in the file).
    runs: Vec<(usize, usize)>,
}

impl Subset {
    /// `text` without the bytes of `left_out` (ranges in order, none holding
    /// a line break, so every line keeps its number).
    pub fn leaving_out(text: &str, left_out: &[std::ops::Range<usize>]) -> Self {
        let len = left_out.iter().map(std::ops::Range::len).sum::<usize>();
        let mut out = String::with_capacity(text.len() - len);
        let mut runs = Vec::with_capacity(left_out.len() + 1);
        let mut copied = 0;
        for range in left_out {
            runs.push((out.len(), copied));
            out.push_str(&text[copied..range.start]);
            copied = range.end;
        }
        runs.push((out.len(), copied));
        out.push_str(&text[copied..]);
        Self { text: out, runs }
    }

    /// Where byte `at` of [`Subset::text`], which is in a copied run, is in
    /// the file.
    pub fn file_offset(&self, at: usize) -> usize {
        let i = self.runs.partition_point(|(start, _)| *start <= at).saturating_sub(1);
        let (start, file) = self.runs[i];
        file + (at - start)
    }
}

/// `text` with the entries of secrets other than `name` in its `[secrets]`
/// tables (top level and profiles) replaced by their line breaks; `None`
/// when the scan cannot tell the file's statements apart, or there is
/// nothing to leave out. With `scan` (`set`), each statement is also shown
/// to it (see `left_out.rs`), and what it cannot follow gives `None` too.
pub(crate) fn subset(
    text: &str,
    name: &str,
    mut scan: Option<&mut super::left_out::Scan<'_>>,
) -> Option<Subset> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() / 8);
    let mut runs = Vec::new();
    let (mut copied, mut pos) = (0, 0);
    let mut table = Table::Other;
    while pos < bytes.len() {
        let Some(indent) = bytes[pos..].iter().position(|b| !matches!(b, b' ' | b'\t')) else {
            break;
        };
        let start = pos + indent;
        let (end, newlines, skip) = match one_line_entry(bytes, start, table) {
            // What `fnox set` writes: read in one pass.
            Some((line, provider, value)) => {
                let skip = bytes[line.name.clone()] != *name.as_bytes();
                if let Some(scan) = scan.as_deref_mut() {
                    scan.entry_line(&line, provider, value, skip)?;
                }
                (line.end, line.newlines(), skip)
            }
            None => {
                let (end, newlines) = statement_end(bytes, start)?;
                // Keys that the model notes (jdx/fnox keys with no effect)
                // wherever they may be: such a file is read whole.
                if SECRET_NO_EFFECT.iter().any(|k| may_be_key(&bytes[start..end], k)) {
                    return None;
                }
                let skip = match bytes[start] {
                    b'\n' | b'\r' | b'#' => false,
                    b'[' => {
                        table = Table::of_header(&text[start..end], name);
                        if let Some(scan) = scan.as_deref_mut() {
                            scan.header(start, end)?;
                        }
                        false
                    }
                    _ => {
                        let skip = match table {
                            Table::Other => false,
                            Table::OtherEntry => true,
                            Table::Secrets => {
                                bare_key(&bytes[start..end]).is_some_and(|k| k != name.as_bytes())
                            }
                        };
                        if let Some(scan) = scan.as_deref_mut() {
                            scan.statement(start, end, skip)?;
                        }
                        skip
                    }
                };
                (end, newlines, skip)
            }
        };
        if skip {
            runs.push((out.len(), copied));
            out.push_str(&text[copied..start]);
            out.extend(std::iter::repeat_n('\n', newlines));
            copied = end;
        }
        pos = end;
    }
    if copied == 0 {
        // Nothing to leave out: the file is read as it is (no copy of it).
        return None;
    }
    runs.push((out.len(), copied));
    out.push_str(&text[copied..]);
    Some(Subset { text: out, runs })
}

/// The statement at `start` of a `[secrets]` table as an [`EntryLine`],
/// with the spans of its provider and value (the contents of their
/// strings); `None` when it is not of that form, or has a key with no
/// effect (the caller's general path looks at it).
fn one_line_entry(bytes: &[u8], start: usize, table: Table) -> Option<(EntryLine, Span, Span)> {
    if table != Table::Secrets {
        return None;
    }
    let (mut provider, mut value) = (None, None);
    let line = entry_line(bytes, start, |key, content| {
        let slot = match key {
            b"provider" => &mut provider,
            b"value" => &mut value,
            _ if SECRET_NO_EFFECT.iter().any(|k| k.as_bytes() == key) => return None,
            _ => return Some(()),
        };
        slot.replace(content).is_none().then_some(())
    })?;
    Some((line, provider, value))
}

/// A span of the text, when there is one.
type Span = Option<Range<usize>>;

/// A one-line entry of a `[secrets]` table, `NAME = { key = "string", ...
/// }`: bare keys, basic strings without escapes, then blanks, a comment
/// (without control characters) and the line break. What `fnox set` writes, read
/// in one pass without finding the statement's end first.
pub(super) struct EntryLine {
    /// The name.
    pub name: Range<usize>,
    /// After the closing brace.
    pub close: usize,
    /// Where the line's content ends: before its `\n` or `\r\n`.
    pub content_end: usize,
    /// After the line break (the end of the file when there is none).
    pub end: usize,
}

impl EntryLine {
    /// The line breaks in it: none on the last line of a file without one.
    pub fn newlines(&self) -> usize {
        usize::from(self.end > self.content_end)
    }
}

/// The statement at `start` as an [`EntryLine`]; `field` is shown each
/// field (the key, the span of the string's contents) and may refuse it.
/// `None` when the statement is not of that form.
pub(super) fn entry_line(
    bytes: &[u8],
    start: usize,
    mut field: impl FnMut(&[u8], Range<usize>) -> Option<()>,
) -> Option<EntryLine> {
    let name_len = bare_key(&bytes[start..])?.len();
    let mut i = expect(bytes, skip_blank(bytes, start + name_len), b'=')?;
    i = skip_blank(bytes, expect(bytes, skip_blank(bytes, i), b'{')?);
    if bytes.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let key_len = bare_key(&bytes[i..])?.len();
            let open = skip_blank(bytes, expect(bytes, skip_blank(bytes, i + key_len), b'=')?);
            let close = string_end(bytes, open)?;
            field(&bytes[i..i + key_len], open + 1..close)?;
            i = skip_blank(bytes, close + 1);
            match bytes.get(i) {
                Some(b',') => i = skip_blank(bytes, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    let close = i;
    i = skip_blank(bytes, i);
    if bytes.get(i) == Some(&b'#') {
        let newline = memchr(b'\n', &bytes[i..]).map(|n| i + n);
        let content_end = match newline {
            Some(n) if bytes[n - 1] == b'\r' => n - 1,
            Some(n) => n,
            None => bytes.len(),
        };
        if has_control(&bytes[i + 1..content_end]) {
            return None;
        }
        i = content_end;
    }
    let end = match bytes.get(i) {
        None => i,
        Some(b'\n') => i + 1,
        Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => i + 2,
        Some(_) => return None,
    };
    Some(EntryLine { name: start..start + name_len, close, content_end: i, end })
}

/// The index of the first byte at or after `i` that is not a space or tab.
pub(super) fn skip_blank(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

fn expect(bytes: &[u8], i: usize, byte: u8) -> Option<usize> {
    (bytes.get(i) == Some(&byte)).then_some(i + 1)
}

/// A control character that TOML does not allow in a comment or a basic
/// string (tab is allowed).
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// The closing quote of the one-line basic string without escapes that
/// opens at `open` (control characters in it are the caller's to refuse:
/// see [`has_control`]).
pub(super) fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    if bytes.get(open) != Some(&b'"') || bytes[open + 1..].starts_with(b"\"\"") {
        return None;
    }
    let close = open + 1 + memchr3(b'"', b'\\', b'\n', &bytes[open + 1..])?;
    (bytes[close] == b'"').then_some(close)
}

/// True when `text` holds a control character that a TOML basic string
/// may not (everything below space but tab, and DEL).
pub(super) fn has_control(text: &[u8]) -> bool {
    // Without an early exit, so that it runs on whole vectors.
    text.iter().fold(false, |seen, &b| seen | is_control(b))
}

/// True when `key` is in `text` where it may be a key: not right after a
/// character of a bare key or of base64 (in a value such as
/// `"...Async..."`, it is not).
fn may_be_key(text: &[u8], key: &str) -> bool {
    memmem::find_iter(text, key.as_bytes()).any(|at| {
        at.checked_sub(1).is_none_or(|b| {
            !super::edit::is_bare_key_byte(text[b]) && !matches!(text[b], b'+' | b'/')
        })
    })
}

/// What the statements under a header are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `[secrets]` or `[profiles.P.secrets]`: the entries of secrets.
    Secrets,
    /// `[secrets.X]` (or below it) of a secret X other than the one read.
    OtherEntry,
    /// Anything else: kept whole.
    Other,
}

impl Table {
    /// The table of header line `line` (`[a.b]  # comment\n`).
    fn of_header(line: &str, name: &str) -> Self {
        // A quoted key or an array of tables: kept whole.
        let Some(path) = header_path(line) else { return Self::Other };
        let entry = match path.as_slice() {
            ["secrets", rest @ ..] | ["profiles", _, "secrets", rest @ ..] => rest.first(),
            _ => return Self::Other,
        };
        match entry {
            None => Self::Secrets,
            Some(entry) if *entry != name => Self::OtherEntry,
            Some(_) => Self::Other,
        }
    }
}

/// The keys of table header line `line` (`[a.b]  # comment\n`), when all
/// are bare; `None` for an array of tables.
pub(super) fn header_path(line: &str) -> Option<Vec<&str>> {
    let inner = line.strip_prefix('[').filter(|l| !l.starts_with('['))?;
    let close = inner.find(']')?;
    let mut path = Vec::with_capacity(4);
    for key in inner[..close].split('.') {
        let key = key.trim_matches([' ', '\t']);
        match bare_key(key.as_bytes()) {
            Some(bare) if bare.len() == key.len() => path.push(key),
            _ => return None,
        }
    }
    Some(path)
}

/// The bare key that `statement` starts with; `None` when it starts with
/// a quoted key.
pub(super) fn bare_key(statement: &[u8]) -> Option<&[u8]> {
    let len = statement
        .iter()
        .position(|b| !super::edit::is_bare_key_byte(*b))
        .unwrap_or(statement.len());
    (len > 0).then(|| &statement[..len])
}

/// The end of the statement that starts at `start` (after its line break,
/// or the end of the file), and the number of line breaks in it: brackets
/// and braces may carry it over lines, strings may not. `None` for
/// multi-line strings, unclosed strings, and brackets that do not match.
pub(super) fn statement_end(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut newlines = 0;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' if depth == 0 => return Some((i + 1, newlines + 1)),
            b'\n' => newlines += 1,
            b'"' => i = basic_string_end(bytes, i)?,
            b'\'' => {
                if bytes[i + 1..].starts_with(b"''") {
                    return None;
                }
                let close = memchr(b'\'', &bytes[i + 1..])? + i + 1;
                if memchr(b'\n', &bytes[i + 1..close]).is_some() {
                    return None;
                }
                i = close;
            }
            b'#' => {
                let newline = memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                i = newline.checked_sub(1)?.max(i);
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    (depth == 0).then_some((bytes.len(), newlines))
}

/// The index of the quote that closes the basic string opened at `open`.
pub(super) fn basic_string_end(bytes: &[u8], open: usize) -> Option<usize> {
    if bytes[open + 1..].starts_with(b"\"\"") {
        return None;
    }
    let mut i = open + 1;
    loop {
        let at = i + memchr3(b'"', b'\\', b'\n', &bytes[i..])?;
        match bytes[at] {
            b'"' => return Some(at),
            b'\\' => i = at + 2,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subset;

    #[test]
    fn other_entries_become_line_breaks() {
        let text = "[providers.l]\ntype = \"local\"\n[secrets]\nA = { value = \"x\" }\n\
                    B = { value = \"y\" } # b\nB2 = [\n 1,\n]\nA.description = \"d\"\n\
                    [secrets.C]\nvalue = \"z\"\n[profiles.p.secrets]\nD = { default = \"#\" }\nA = {}\n";
        let sub = subset(text, "A", None).unwrap();
        let value = |t: &str| t.find("A = {}").unwrap();
        assert_eq!(sub.file_offset(value(&sub.text)), value(text));
        assert_eq!(
            sub.text,
            "[providers.l]\ntype = \"local\"\n[secrets]\nA = { value = \"x\" }\n\n\n\n\n\
             A.description = \"d\"\n[secrets.C]\n\n[profiles.p.secrets]\n\nA = {}\n"
        );
    }

    #[test]
    fn a_no_effect_key_inside_a_value_is_not_a_key() {
        let text = "[secrets]\nA = { default = \"x\" }\nB = { value = \"QWsync+/sync\" }\n";
        assert_eq!(subset(text, "A", None).unwrap().text, "[secrets]\nA = { default = \"x\" }\n\n");
    }

    #[test]
    fn a_one_line_entry_is_read_in_one_pass() {
        type Read<'t> = (&'t str, &'t str, usize, Vec<(String, String)>);
        fn read(text: &str) -> Option<Read<'_>> {
            let mut fields = Vec::new();
            let line = super::entry_line(text.as_bytes(), 0, |key, content| {
                fields.push((String::from_utf8(key.to_vec()).unwrap(), text[content].to_string()));
                Some(())
            });
            line.map(|l| (&text[l.name], &text[..l.close], l.end, fields))
        }
        let text = "A = { provider = \"p\", value = \"v\" } # c\nB = {}\n";
        let fields = vec![("provider".into(), "p".into()), ("value".into(), "v".into())];
        let next = text.find('B').unwrap();
        assert_eq!(
            read(text),
            Some(("A", "A = { provider = \"p\", value = \"v\" }", next, fields))
        );
        assert_eq!(read("A={}\r\n"), Some(("A", "A={}", 6, vec![])));
        assert_eq!(read("A = {}"), Some(("A", "A = {}", 6, vec![])));
        for text in [
            "A = { value = 'v' }\n",
            "A = { value = \"a\\\"b\" }\n",
            "A = { value = \"\"\"v\"\"\" }\n",
            "A = { value = \"v\" } x\n",
            "A = { value = \"v\" } # \u{7}\n",
            "A = { n = 1 }\n",
            "A.value = \"v\"\n",
            "\"A\" = {}\n",
            "A = {}\rB = {}\n",
            "A = { value = \"v\",\n}\n",
        ] {
            assert!(read(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn what_the_scan_cannot_follow_is_read_whole() {
        for text in [
            "[secrets]\nA = { default = \"\"\"\nx\"\"\" }\n",
            "[secrets]\nB = { default = '''\nx''' }\n",
            "[secrets]\nB = { default = \"x }\n",
            "[secrets]\nB = { default = 'x }\n",
            "[secrets]\nB = { default = \"x\" }}\n",
            "[secrets]\nB = { default = \"x\", sync = \"y\" }\n",
            "[secrets]\nB = { default = \"x\" }\nB.sync = \"y\"\n",
            "[secrets]\nB = { default = \"x\", \"daemon_cache\" = 1 }\n",
        ] {
            assert!(subset(text, "A", None).is_none(), "{text}");
        }
    }
}
