//! Typed, located reads of one TOML table: every problem names the file,
//! the line and the entry.

use std::path::Path;

use super::{ConfigError, Location, model::MaxKeyAge, tree::TableRef};

/// Maps byte offsets of one file to 1-based line numbers.
#[derive(Debug)]
pub struct Lines {
    /// The file, shared by every location made here.
    file: std::sync::Arc<Path>,
    starts: Vec<usize>,
}

impl Lines {
    /// Indexes `text`, the contents of `path`.
    pub fn new(path: &Path, text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Self { file: path.into(), starts }
    }

    /// The location of byte `offset` (line 0 when there is no span).
    pub fn at(&self, offset: Option<usize>) -> Location {
        let line = offset.map_or(0, |o| self.starts.partition_point(|&s| s <= o));
        Location { file: self.file.clone(), line }
    }

    /// The 1-based column of byte `offset`.
    pub fn column(&self, offset: usize) -> usize {
        let line_start = self.starts[self.starts.partition_point(|&s| s <= offset) - 1];
        offset - line_start + 1
    }
}

/// A table being read, with the name of the entry for messages.
pub struct Fields<'a> {
    /// The table.
    pub table: TableRef<'a>,
    /// How messages name it, e.g. "secret `API_KEY`".
    pub entry: String,
    /// Where the table itself starts.
    pub at: Location,
    lines: &'a Lines,
    /// jdx/fnox keys accepted here with no effect (see `super::jdx`).
    no_effect: &'static [&'static str],
}

impl std::fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields").field("entry", &self.entry).field("at", &self.at).finish()
    }
}

impl<'a> Fields<'a> {
    /// Starts reading `table`, which is defined at `at`.
    pub fn new(table: TableRef<'a>, entry: String, at: Location, lines: &'a Lines) -> Self {
        Self { table, entry, at, lines, no_effect: &[] }
    }

    /// The same reader, accepting `keys` (jdx/fnox keys that have no
    /// effect here) besides the ones [`Fields::only`] allows.
    pub fn with_no_effect(mut self, keys: &'static [&'static str]) -> Self {
        self.no_effect = keys;
        self
    }

    /// The line index of the file, for reading a sub-table.
    pub fn lines(&self) -> &'a Lines {
        self.lines
    }

    /// The no-effect keys present in the table, with where each is.
    pub fn no_effect_present(&self) -> Vec<(&'static str, Location)> {
        self.no_effect
            .iter()
            .filter(|k| self.table.contains_key(k))
            .map(|k| (*k, self.key_at(k)))
            .collect()
    }

    /// Where `key` is, or where the table is when the key has no span.
    pub fn key_at(&self, key: &str) -> Location {
        match self.table.key_span(key) {
            Some(span) => self.lines.at(Some(span.start)),
            None => self.at.clone(),
        }
    }

    /// Fails on any key not in `allowed` (nor among the no-effect keys),
    /// with the known keys nearest to it.
    pub fn only(&self, allowed: &'static [&'static str]) -> Result<(), ConfigError> {
        for (key, _) in self.table.entries() {
            if !allowed.contains(&key) && !self.no_effect.contains(&key) {
                let known = allowed.iter().chain(self.no_effect).copied();
                return Err(ConfigError::UnknownKey {
                    at: self.key_at(key),
                    key: key.to_string(),
                    entry: self.entry.clone(),
                    allowed,
                    near: crate::suggest::nearest(key, known),
                });
            }
        }
        Ok(())
    }

    /// `key` does not hold what it should (`expected`, in words).
    pub(crate) fn invalid(&self, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::Invalid {
            at: self.key_at(key),
            entry: self.entry.clone(),
            key: key.to_string(),
            expected,
        }
    }

    /// An optional string.
    pub fn str(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| self.invalid(key, "a string")),
        }
    }

    /// An optional string as a shared buffer (one copy, for large values).
    pub fn shared_str(&self, key: &str) -> Result<Option<std::sync::Arc<str>>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => {
                item.as_str().map(|s| Some(s.into())).ok_or_else(|| self.invalid(key, "a string"))
            }
        }
    }

    /// A required string.
    pub fn required_str(&self, key: &'static str) -> Result<String, ConfigError> {
        self.str(key)?.ok_or_else(|| ConfigError::Missing {
            at: self.at.clone(),
            entry: self.entry.clone(),
            key,
        })
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => {
                item.as_bool().map(Some).ok_or_else(|| self.invalid(key, "true or false"))
            }
        }
    }

    /// An optional `max_key_age` style duration (`"90d"`), with where it is.
    pub fn max_key_age(&self, key: &str) -> Result<Option<MaxKeyAge>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_str()
                .and_then(crate::key_age::parse_age)
                .map(|age| Some(MaxKeyAge { age, at: self.key_at(key) }))
                .ok_or_else(|| self.invalid(key, crate::key_age::AGE_FORMAT)),
        }
    }

    // T6: `line = N`.
    /// An optional whole number of 1 or more.
    pub fn positive_int(&self, key: &str) -> Result<Option<usize>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_integer()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n >= 1)
                .map(Some)
                .ok_or_else(|| self.invalid(key, "a whole number, 1 or more")),
        }
    }

    /// An optional list of strings.
    pub fn str_list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(item) = self.table.get(key) else {
            return Ok(None);
        };
        let array = item.as_array().ok_or_else(|| self.invalid(key, "a list of strings"))?;
        array
            .into_iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| self.invalid(key, "a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    #[cfg(feature = "aws-kms")]
    /// An optional table of string pairs (`context = { k = "v" }`).
    pub fn str_map(&self, key: &str) -> Result<Option<Vec<(String, String)>>, ConfigError> {
        let Some(item) = self.table.get(key) else {
            return Ok(None);
        };
        let t = item.as_table().ok_or_else(|| self.invalid(key, "a table of strings"))?;
        t.entries()
            .into_iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|s| (k.to_string(), s.to_string()))
                    .ok_or_else(|| self.invalid(key, "a table of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A sub-table (`[secrets]`, `[providers]`, ...), if present.
    pub fn sub_table(&self, key: &str) -> Result<Option<(TableRef<'a>, Location)>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_table()
                .map(|t| Some((t, self.key_at(key))))
                .ok_or_else(|| self.invalid(key, "a table")),
        }
    }
}
