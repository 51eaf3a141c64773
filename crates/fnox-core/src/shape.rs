//! A part of a secret's value, as jdx/fnox takes it: `json_path` (a member
//! of a JSON object, in dot notation) or `line` (one line, counted from 1).
//! Errors say what is missing, never what the value holds.

use std::collections::BTreeMap;

use crate::secret::SecretBytes;
use serde_json::value::RawValue;

/// Which part of the value an entry uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// `json_path = "a.b"`.
    JsonPath(&'a str),
    /// `line = N`.
    Line(usize),
}

impl std::fmt::Display for Part<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::JsonPath(path) => write!(f, "json_path `{path}`"),
            Part::Line(n) => write!(f, "line {n}"),
        }
    }
}

/// Why the part cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// `json_path` on a value that is not UTF-8 text.
    #[error("the value is not UTF-8 text, so it is not JSON")]
    NotUtf8,
    /// `json_path` on a value that does not parse as JSON.
    #[error("the value is not valid JSON (error at line {line}, column {column})")]
    NotJson {
        /// Where the parser stopped, in the value.
        line: usize,
        /// Where the parser stopped, in that line.
        column: usize,
    },
    /// A step of the path that is not there.
    #[error("the value has no key `{key}`{}", within.as_ref().map(|w| format!(" in `{w}`")).unwrap_or_default())]
    NoKey {
        /// The key looked for.
        key: String,
        /// The path to the object it was looked for in (`None`: the top).
        within: Option<String>,
    },
    /// A step of the path into something that is not an object.
    #[error("{} is not a JSON object", within.as_ref().map_or_else(|| "the value".to_string(), |w| format!("`{w}` in the value")))]
    NotObject {
        /// The path to it (`None`: the whole value).
        within: Option<String>,
    },
    /// `line = N` past the last line.
    #[error("the value has {}", crate::words::count(*lines, "line", "lines"))]
    NoSuchLine {
        /// The number of lines the value has.
        lines: usize,
    },
}

/// `part` of `value`.
pub fn take(value: &SecretBytes, part: Part<'_>) -> Result<SecretBytes, ShapeError> {
    match part {
        Part::JsonPath(path) => json_member(value.expose(), path),
        Part::Line(n) => line(value.expose(), n),
    }
}

/// The steps of a `json_path`: split on `.`; a backslash makes the next
/// character literal (`\.` is a dot in a key, `\\` a backslash); a
/// backslash at the very end stands for itself.
pub fn path_steps(path: &str) -> Vec<String> {
    let mut steps = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        let current = steps.last_mut().expect("never empty");
        match c {
            '\\' => current.push(chars.next().unwrap_or('\\')),
            '.' => steps.push(String::new()),
            c => current.push(c),
        }
    }
    steps
}

/// The member at `path` of the JSON in `bytes`: a string member as its
/// text, `null` as `null`, anything else as the JSON it is written as.
fn json_member(bytes: &[u8], path: &str) -> Result<SecretBytes, ShapeError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ShapeError::NotUtf8)?;
    let mut current: &RawValue = serde_json::from_str(text).map_err(|e| not_json(&e))?;
    let steps = path_steps(path);
    for (i, key) in steps.iter().enumerate() {
        let within = (i > 0).then(|| steps[..i].join("."));
        if !current.get().starts_with('{') {
            return Err(ShapeError::NotObject { within });
        }
        // Keys are copied; members stay slices of the value.
        let object: BTreeMap<String, &RawValue> =
            serde_json::from_str(current.get()).map_err(|e| not_json(&e))?;
        current = object
            .get(key.as_str())
            .copied()
            .ok_or_else(|| ShapeError::NoKey { key: key.clone(), within })?;
    }
    let raw = current.get();
    if raw.starts_with('"') {
        let text: String = serde_json::from_str(raw).map_err(|e| not_json(&e))?;
        return Ok(SecretBytes::new(text.into_bytes()));
    }
    Ok(SecretBytes::from_slice(raw.as_bytes()))
}

/// Only where the parser stopped: serde_json's own message may quote the
/// value.
fn not_json(e: &serde_json::Error) -> ShapeError {
    ShapeError::NotJson { line: e.line(), column: e.column() }
}

/// Line `n` (from 1) of `bytes`: lines end at `\n` or `\r\n`; a final line
/// ending does not start another line.
fn line(bytes: &[u8], n: usize) -> Result<SecretBytes, ShapeError> {
    let lines: Vec<&[u8]> = bytes
        .split_inclusive(|b| *b == b'\n')
        .map(|l| match l.strip_suffix(b"\n") {
            Some(l) => l.strip_suffix(b"\r").unwrap_or(l),
            None => l,
        })
        .collect();
    match n.checked_sub(1).and_then(|i| lines.get(i)) {
        Some(l) => Ok(SecretBytes::from_slice(l)),
        None => Err(ShapeError::NoSuchLine { lines: lines.len() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: &str, path: &str) -> Result<String, ShapeError> {
        let v = SecretBytes::from_slice(value.as_bytes());
        take(&v, Part::JsonPath(path)).map(|b| String::from_utf8(b.expose().to_vec()).unwrap())
    }

    fn nth(value: &str, n: usize) -> Result<String, ShapeError> {
        let v = SecretBytes::from_slice(value.as_bytes());
        take(&v, Part::Line(n)).map(|b| String::from_utf8(b.expose().to_vec()).unwrap())
    }

    #[test]
    fn steps_split_on_unescaped_dots() {
        assert_eq!(path_steps("a.b"), ["a", "b"]);
        assert_eq!(path_steps(r"a\.b"), ["a.b"]);
        assert_eq!(path_steps(r"a.b\.c.d"), ["a", "b.c", "d"]);
        assert_eq!(path_steps(r"a\\.b"), [r"a\", "b"]);
        assert_eq!(path_steps(r"a\"), [r"a\"]);
        assert_eq!(path_steps("a..b"), ["a", "", "b"]);
    }

    #[test]
    fn members_strings_raw_others_as_written() {
        let v = r#"{"db": {"user": "app", "pass": "p\"w\u00e9", "port": 5432, "tls": true,
                    "opts": {"a": [1, 2]}, "none": null}, "a.b": "dotted"}"#;
        assert_eq!(json(v, "db.user").unwrap(), "app");
        assert_eq!(json(v, "db.pass").unwrap(), "p\"w\u{e9}");
        assert_eq!(json(v, "db.port").unwrap(), "5432");
        assert_eq!(json(v, "db.tls").unwrap(), "true");
        assert_eq!(json(v, "db.none").unwrap(), "null");
        assert_eq!(json(v, "db.opts").unwrap(), r#"{"a": [1, 2]}"#);
        assert_eq!(json(v, r"a\.b").unwrap(), "dotted");
    }

    #[test]
    fn json_errors_say_what_is_missing_never_the_value() {
        let v = r#"{"db": {"user": "app"}, "list": ["hunter2"]}"#;
        let err = json(v, "db.pass").unwrap_err();
        assert_eq!(err.to_string(), "the value has no key `pass` in `db`");
        assert_eq!(json(v, "nope").unwrap_err().to_string(), "the value has no key `nope`");
        let err = json(v, "db.user.x").unwrap_err();
        assert_eq!(err.to_string(), "`db.user` in the value is not a JSON object");
        // Arrays are not indexed (jdx/fnox: object keys only).
        let err = json(v, "list.0").unwrap_err();
        assert_eq!(err.to_string(), "`list` in the value is not a JSON object");
        let err = json(r#""hunter2""#, "a").unwrap_err();
        assert_eq!(err.to_string(), "the value is not a JSON object");
        let err = json("hunter2", "a").unwrap_err();
        assert_eq!(err.to_string(), "the value is not valid JSON (error at line 1, column 1)");
        let err = json("{\"a\": \"hunter2\"", "a").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let v = SecretBytes::from_slice(b"{\"a\": \"\xff\"}");
        assert_eq!(take(&v, Part::JsonPath("a")).unwrap_err(), ShapeError::NotUtf8);
    }

    #[test]
    fn lines_count_from_one_and_a_final_newline_adds_none() {
        assert_eq!(nth("one\ntwo\r\nthree\n", 1).unwrap(), "one");
        assert_eq!(nth("one\ntwo\r\nthree\n", 2).unwrap(), "two");
        assert_eq!(nth("one\ntwo\r\nthree\n", 3).unwrap(), "three");
        assert_eq!(nth("one\n\nthree", 2).unwrap(), "");
        assert_eq!(nth("one\ntwo\n", 3).unwrap_err().to_string(), "the value has 2 lines");
        assert_eq!(nth("one", 2).unwrap_err().to_string(), "the value has 1 line");
        assert_eq!(nth("", 1).unwrap_err().to_string(), "the value has 0 lines");
        assert_eq!(nth("\n", 1).unwrap(), "");
    }
}
