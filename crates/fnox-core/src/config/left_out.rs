//! What `set NAME` needs of the entries that the reading of one secret
//! (`lite.rs`) leaves out: the value of each, with its provider as written,
//! so that `set` can tell which keys the file's other `local` values are
//! under (`keys::missing_keys`); and where a new entry of each `[secrets]`
//! table goes (where `toml_edit` would put it, as `edit::new_entry_point`
//! finds it in a parsed file). Found by a scan of the left-out statements:
//! one it does not follow (a quoted key, an escape in a value or provider,
//! a table under an entry, ...) makes the file read whole.

use std::{ops::Range, sync::Arc};

use memchr::memchr;

use super::lite::{skip_blank, string_end};

/// The values of the entries of one file that were left out unread, each
/// of a layer: the top level (`None`) or a profile's own entries.
#[derive(Clone)]
pub struct LeftOut {
    /// The file's text, shared with the load that read it (not a copy).
    text: Arc<String>,
    layers: Vec<Option<String>>,
    values: Vec<Stored>,
}

/// A left-out entry's layer (in [`LeftOut::layers`]), value and provider
/// (when it is written), as spans of the file's text.
#[derive(Clone)]
struct Stored {
    layer: usize,
    provider: Option<Range<usize>>,
    value: Range<usize>,
}

impl std::fmt::Debug for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: Vec<_> = (0..self.layers.len())
            .map(|l| (&self.layers[l], self.values.iter().filter(|v| v.layer == l).count()))
            .collect();
        f.debug_struct("LeftOut").field("values", &counts).finish()
    }
}

impl LeftOut {
    /// Only the values of the layers that `keep` keeps (by profile;
    /// `None`: the top level).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(Option<&str>) -> bool) {
        let kept: Vec<bool> = self.layers.iter().map(|l| keep(l.as_deref())).collect();
        if kept.iter().any(|k| !k) {
            self.values.retain(|v| kept[v.layer]);
        }
    }

    /// The values, each with its provider when the entry names one.
    pub fn values(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.values
            .iter()
            .map(|s| (s.provider.clone().map(|p| &self.text[p]), &self.text[s.value.clone()]))
    }
}

/// Where the statements now read belong.
#[derive(Clone, Copy)]
enum Context {
    /// A `[secrets]` table (of layer `layer`); `point` indexes
    /// [`Scan::points`].
    Secrets { layer: usize, point: usize },
    /// The `[secrets.X]` table of a left-out entry.
    Entry(usize),
    /// Anything else.
    Other,
}

/// A left-out entry as far as the scan has read it.
struct Entry {
    layer: usize,
    name: Range<usize>,
    provider: Option<Range<usize>>,
    value: Option<Range<usize>>,
}

/// The scan of one file, fed by `lite::subset` statement by statement.
pub(crate) struct Scan<'t> {
    /// The file's text, which the left-out values keep (shared, not copied).
    shared: &'t Arc<String>,
    text: &'t str,
    name: &'t str,
    context: Context,
    layers: Vec<Option<&'t str>>,
    entries: Vec<Entry>,
    /// The entries made by dotted keys (`X.value = ...`), which later
    /// statements may add to.
    dotted: Vec<usize>,
    /// Each `[secrets]` table with a header: where a new entry goes, while
    /// it is known.
    points: Vec<(Vec<String>, Option<usize>)>,
    /// No new-entry point is known (an array of tables, a table under an
    /// entry).
    no_points: bool,
}

/// A field of an entry that the scan keeps.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Provider,
    Value,
    Other,
}

impl<'t> Scan<'t> {
    pub(crate) fn new(shared: &'t Arc<String>, name: &'t str) -> Self {
        let text = shared.as_str();
        Self {
            shared,
            text,
            name,
            context: Context::Other,
            layers: Vec::new(),
            // About one entry a line of 100 bytes: grown seldom.
            entries: Vec::with_capacity(text.len() / 100),
            dotted: Vec::new(),
            points: Vec::new(),
            no_points: false,
        }
    }

    fn layer(&mut self, profile: Option<&'t str>) -> usize {
        match self.layers.iter().position(|l| *l == profile) {
            Some(i) => i,
            None => {
                self.layers.push(profile);
                self.layers.len() - 1
            }
        }
    }

    /// The header statement `start..end`; `None`: the scan cannot follow it.
    pub(crate) fn header(&mut self, start: usize, end: usize) -> Option<()> {
        self.context = Context::Other;
        let text = self.text;
        let line = &text[start..end];
        if line.starts_with("[[") {
            self.no_points = true;
            return Some(());
        }
        let Some(keys) = super::lite::header_path(line) else { return Some(()) };
        let (profile, rest) = match keys.as_slice() {
            ["secrets", rest @ ..] => (None, rest),
            ["profiles", p, "secrets", rest @ ..] => (Some(*p), rest),
            _ => return Some(()),
        };
        let layer = self.layer(profile);
        match rest {
            [] => {
                let table = keys.iter().map(|k| k.to_string()).collect();
                self.points.push((table, Some(end)));
                self.context = Context::Secrets { layer, point: self.points.len() - 1 };
            }
            [entry] if *entry != self.name => {
                let at = entry.as_ptr() as usize - text.as_ptr() as usize;
                let name = at..at + entry.len();
                self.entries.push(Entry { layer, name, provider: None, value: None });
                self.context = Context::Entry(self.entries.len() - 1);
            }
            [_] => {}
            // A table under an entry: the one read is parsed; another's
            // would need a reading this scan does not do.
            [entry, ..] => {
                self.no_points = true;
                if *entry != self.name {
                    return None;
                }
            }
        }
        Some(())
    }

    /// The key/value statement `start..end`, left out when `skipped`;
    /// `None`: the scan cannot follow it.
    pub(crate) fn statement(&mut self, start: usize, end: usize, skipped: bool) -> Option<()> {
        let bytes = self.text.as_bytes();
        match self.context {
            Context::Other => Some(()),
            Context::Entry(entry) => {
                let (key, at) = bare_key(bytes, start)?;
                let at = self.field(entry, field_of(&bytes[key]), after_equals(bytes, at)?)?;
                line_end(bytes, at, end)
            }
            Context::Secrets { layer, point } => {
                let (key, at) = any_key(bytes, start)?;
                let at = skip_blank(bytes, at);
                let dotted = bytes.get(at) == Some(&b'.');
                // A dotted key anywhere in the table: no point is known.
                let known = &mut self.points[point].1;
                *known = known.and(if dotted { None } else { Some(end) });
                if !skipped {
                    return Some(());
                }
                if dotted {
                    let (field, at) = bare_key(bytes, skip_blank(bytes, at + 1))?;
                    let at = after_equals(bytes, at)?;
                    let entry = self.dotted_entry(layer, key);
                    let at = self.field(entry, field_of(&bytes[field]), at)?;
                    return line_end(bytes, at, end);
                }
                let at = skip_blank(bytes, after_equals(bytes, at)?);
                self.entries.push(Entry { layer, name: key, provider: None, value: None });
                let entry = self.entries.len() - 1;
                let at = self.inline_table(entry, at)?;
                line_end(bytes, at, end)
            }
        }
    }

    /// A one-line entry of a `[secrets]` table (`lite::entry_line`), left
    /// out when `skipped`, with the spans of its provider and value.
    pub(crate) fn entry_line(
        &mut self,
        line: &super::lite::EntryLine,
        provider: Option<Range<usize>>,
        value: Option<Range<usize>>,
        skipped: bool,
    ) -> Option<()> {
        let Context::Secrets { layer, point } = self.context else { return None };
        let known = &mut self.points[point].1;
        *known = known.and(Some(line.end));
        if skipped {
            self.entries.push(Entry { layer, name: line.name.clone(), provider, value });
        }
        Some(())
    }

    /// The entry of `layer` named `name` that dotted keys make.
    fn dotted_entry(&mut self, layer: usize, name: Range<usize>) -> usize {
        let text = self.text;
        let same = |e: &Entry| e.layer == layer && text[e.name.clone()] == text[name.clone()];
        if let Some(&i) = self.dotted.iter().find(|&&i| same(&self.entries[i])) {
            return i;
        }
        self.entries.push(Entry { layer, name, provider: None, value: None });
        self.dotted.push(self.entries.len() - 1);
        self.entries.len() - 1
    }

    /// The value of `field` of `entry`, after its `=` (at `at`): kept when
    /// it is the provider or the value (a string without escapes, given
    /// once), else skipped. The index after it.
    fn field(&mut self, entry: usize, field: Field, at: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let at = skip_blank(bytes, at);
        if field == Field::Other {
            return skip_value(bytes, at);
        }
        let (span, after) = plain_string(bytes, at)?;
        let slot = match field {
            Field::Provider => &mut self.entries[entry].provider,
            _ => &mut self.entries[entry].value,
        };
        slot.replace(span).is_none().then_some(after)
    }

    /// The inline table `{ k = v, ... }` at `at`, on one line: the index
    /// after its `}`.
    fn inline_table(&mut self, entry: usize, at: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        if bytes.get(at) != Some(&b'{') {
            return None;
        }
        let mut at = skip_blank(bytes, at + 1);
        if bytes.get(at) == Some(&b'}') {
            return Some(at + 1);
        }
        loop {
            let (key, after) = bare_key(bytes, at)?;
            let after = self.field(entry, field_of(&bytes[key]), after_equals(bytes, after)?)?;
            at = skip_blank(bytes, after);
            match bytes.get(at) {
                Some(b',') => at = skip_blank(bytes, at + 1),
                Some(b'}') => return Some(at + 1),
                _ => return None,
            }
        }
    }

    /// What the scan found: the left-out values, and where new entries go
    /// (none in a file with CRLF line ends or without a final line break,
    /// which `toml_edit` writes otherwise).
    pub(crate) fn finish(self) -> (LeftOut, Vec<(Vec<String>, usize)>) {
        let text = self.text;
        let values = self
            .entries
            .into_iter()
            .filter_map(|e| Some(Stored { layer: e.layer, provider: e.provider, value: e.value? }))
            .collect();
        let layers = self.layers.iter().map(|l| l.map(str::to_string)).collect();
        let plain =
            !self.no_points && memchr(b'\r', text.as_bytes()).is_none() && text.ends_with('\n');
        let points = match plain {
            true => self.points.into_iter().filter_map(|(t, at)| Some((t, at?))).collect(),
            false => Vec::new(),
        };
        (LeftOut { text: Arc::clone(self.shared), layers, values }, points)
    }
}

fn field_of(key: &[u8]) -> Field {
    match key {
        b"provider" => Field::Provider,
        b"value" => Field::Value,
        _ => Field::Other,
    }
}

/// The bare key at `at` and the index after it.
fn bare_key(bytes: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    let len = super::lite::bare_key(&bytes[at..])?.len();
    Some((at..at + len, at + len))
}

/// The index after the `=` that follows `at` (after spaces).
fn after_equals(bytes: &[u8], at: usize) -> Option<usize> {
    let at = skip_blank(bytes, at);
    (bytes.get(at) == Some(&b'=')).then_some(at + 1)
}

/// The key at `at`, bare or quoted (its span, quotes included), and the
/// index after it.
fn any_key(bytes: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    match bytes.get(at)? {
        b'"' | b'\'' => {
            let (content, after) = string_at(bytes, at)?;
            Some((content.start - 1..after, after))
        }
        _ => bare_key(bytes, at),
    }
}

/// The one-line string at `at` (basic or literal): its content's span and
/// the index after its closing quote.
fn string_at(bytes: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    let close = match bytes[at] {
        b'"' => super::lite::basic_string_end(bytes, at)?,
        b'\'' if !bytes[at + 1..].starts_with(b"''") => {
            let close = at + 1 + memchr(b'\'', &bytes[at + 1..])?;
            if memchr(b'\n', &bytes[at + 1..close]).is_some() {
                return None;
            }
            close
        }
        _ => return None,
    };
    Some((at + 1..close, close + 1))
}

/// The string at `at` when its text is its content (a literal string, or a
/// basic one without escapes).
fn plain_string(bytes: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    if bytes.get(at)? != &b'"' {
        return string_at(bytes, at);
    }
    let close = string_end(bytes, at)?;
    Some((at + 1..close, close + 1))
}

/// The index after the value at `at` that the scan does not keep: a
/// one-line string, or a scalar (a number, boolean, date) up to a `,`,
/// `}`, comment or line end. Arrays and tables are not followed.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' | b'\'' => string_at(bytes, at).map(|(_, after)| after),
        b'[' | b'{' | b'\n' | b'\r' | b',' | b'}' | b'#' => None,
        _ => {
            let len = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b'\n' | b'\r' | b'#'))
                .unwrap_or(bytes.len() - at);
            let mut end = at + len;
            while matches!(bytes[end - 1], b' ' | b'\t') {
                end -= 1;
            }
            Some(end)
        }
    }
}

/// `Some` when only spaces, a comment and the line break follow `at` in
/// the statement that ends at `end`.
fn line_end(bytes: &[u8], at: usize, end: usize) -> Option<()> {
    let at = skip_blank(bytes, at);
    match bytes[at..end].first() {
        None | Some(b'\n' | b'#') => Some(()),
        Some(b'\r') if bytes.get(at + 1) == Some(&b'\n') => Some(()),
        _ => None,
    }
}
