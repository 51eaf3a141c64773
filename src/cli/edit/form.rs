//! The text form `fnox edit` shows: one `NAME=value` line per secret.
//!
//! A value that is printable UTF-8 on one line, with no space at either
//! end and not starting with `"`, is written as it is; any other is
//! written in double quotes with escapes: `\n`, `\r`, `\t`, `\\`, `\"`,
//! and `\xHH` for any other control byte or a byte that is not UTF-8.
//! Lines starting with `#` and blank lines are ignored.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

/// The marker of an error line that `edit` puts at the top of the text;
/// such lines are dropped when the text is shown again.
pub const ERROR_MARK: &str = "# fnox: error: ";

/// One `NAME=value` line for `name` and `value` (with its newline).
pub fn line(name: &str, value: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(name.len() + value.len() + 2));
    out.push_str(name);
    out.push('=');
    match std::str::from_utf8(value) {
        Ok(text) if plain(text) => out.push_str(text),
        _ => quote(&mut out, value),
    }
    out.push('\n');
    out
}

/// True when `text` can be written without quotes.
fn plain(text: &str) -> bool {
    !text.starts_with('"')
        && text.trim() == text
        && !text.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

fn quote(out: &mut String, value: &[u8]) {
    out.push('"');
    for chunk in value.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                c if c.is_control() => {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
}

/// What is wrong with a line of the edited text (line numbers from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The secrets of an edited text, by name.
pub type Values = BTreeMap<String, Zeroizing<Vec<u8>>>;

/// Reads the edited `text`: every error, or the values.
pub fn parse(text: &str) -> Result<Values, Vec<ParseError>> {
    let mut values = Values::new();
    let mut errors = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fail = |message: String| errors.push(ParseError { line: i + 1, message });
        let Some((name, rest)) = line.split_once('=') else {
            fail("expected NAME=value".into());
            continue;
        };
        let name = name.trim_end();
        if !fnox_core::config::is_valid_name(name) {
            fail(format!(
                "`{}` is not a valid secret name: use letters, digits and `_`, not starting with a digit",
                super::super::ui::printable(name)
            ));
            continue;
        }
        let value = match rest.strip_prefix('"') {
            Some(quoted) => match unquote(quoted) {
                Ok(v) => v,
                Err(message) => {
                    fail(format!("{name}: {message}"));
                    continue;
                }
            },
            None => Zeroizing::new(rest.as_bytes().to_vec()),
        };
        if values.insert(name.to_string(), value).is_some() {
            fail(format!("{name} is given twice"));
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(errors) }
}

/// The bytes of a quoted value (`text` is what follows the opening quote).
fn unquote(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                let after = &text[at + 1..];
                if !after.trim().is_empty() && !after.trim_start().starts_with('#') {
                    return Err("unexpected text after the closing quote".into());
                }
                return Ok(out);
            }
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push(b'\n'),
                Some('r') => out.push(b'\r'),
                Some('t') => out.push(b'\t'),
                Some('\\') => out.push(b'\\'),
                Some('"') => out.push(b'"'),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                    let byte = (hex.len() == 2)
                        .then(|| u8::from_str_radix(&hex, 16).ok())
                        .flatten()
                        .ok_or("`\\x` needs two hex digits")?;
                    out.push(byte);
                }
                Some(other) => {
                    return Err(format!(
                        "unknown escape `\\{}` (use \\n \\r \\t \\\\ \\\" \\xHH)",
                        other.escape_default()
                    ));
                }
                None => return Err("no closing quote".into()),
            },
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Err("no closing quote".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: &[u8]) {
        let text = line("X", value);
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed["X"].as_slice(), value, "{}", text.as_str());
    }

    #[test]
    fn every_value_comes_back_byte_for_byte() {
        for v in [
            &b"plain value"[..],
            b"",
            b" leading",
            b"trailing ",
            b"\"quoted\"",
            b"a\nb\r\n",
            b"tab\there",
            b"back\\slash",
            b"\x00\x1b[31m\x7f",
            b"\xff\xfe not utf-8",
            "caf\u{e9} \u{2028}".as_bytes(),
            b"a=b=c # not a comment",
        ] {
            round_trip(v);
        }
    }

    #[test]
    fn plain_and_quoted_lines() {
        assert_eq!(line("A", b"x y").as_str(), "A=x y\n");
        assert_eq!(line("A", b"x\ny").as_str(), "A=\"x\\ny\"\n");
        assert_eq!(line("A", b"\xff").as_str(), "A=\"\\xff\"\n");
    }

    #[test]
    fn errors_name_their_lines() {
        let text = "# c\nA=1\nnot a line\n1X=2\nB=\"open\nA=3\nC=\"x\\q\"\n";
        let errors = parse(text).unwrap_err();
        let lines: Vec<_> = errors.iter().map(|e| (e.line, e.message.as_str())).collect();
        assert_eq!(
            lines,
            [
                (3, "expected NAME=value"),
                (
                    4,
                    "`1X` is not a valid secret name: use letters, digits and `_`, not starting with a digit"
                ),
                (5, "B: no closing quote"),
                (6, "A is given twice"),
                (7, "C: unknown escape `\\q` (use \\n \\r \\t \\\\ \\\" \\xHH)"),
            ]
        );
    }
}
