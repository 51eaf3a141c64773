//! `export --format yaml|toml`: one `NAME: "value"` (YAML) or
//! `NAME = "value"` (TOML) line per secret, each value a double-quoted
//! string with every character that could change its meaning escaped, so
//! that any reader (YAML 1.1 or 1.2, TOML 1.0) gets every character back
//! and nothing is read as a number, a boolean or a line break.

use zeroize::Zeroizing;

use fnox_core::Plaintext;

use super::CommandError;

/// The YAML document: a mapping of name to value (`{}` when empty).
pub fn yaml(values: &[(String, Plaintext)]) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    yaml_of(&bytes_of(values))
}

/// The TOML document: one key per secret (empty when there is none).
pub fn toml(values: &[(String, Plaintext)]) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    toml_of(&bytes_of(values))
}

type Named<'a> = (&'a str, &'a [u8]);

fn bytes_of(values: &[(String, Plaintext)]) -> Vec<Named<'_>> {
    values.iter().map(|(n, v)| (n.as_str(), v.expose())).collect()
}

fn yaml_of(values: &[Named<'_>]) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    let mut out = Zeroizing::new(Vec::new());
    if values.is_empty() {
        out.extend_from_slice(b"{}\n");
    }
    for &(name, value) in values {
        let text = utf8(name, value, "YAML")?;
        // A name such as `ON` or `NULL` is a boolean or null in YAML 1.1.
        if is_yaml11_word(name) {
            out.extend_from_slice(format!("\"{name}\": ").as_bytes());
        } else {
            out.extend_from_slice(format!("{name}: ").as_bytes());
        }
        quote(&mut out, text, yaml_escape);
        out.push(b'\n');
    }
    Ok(out)
}

fn toml_of(values: &[Named<'_>]) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    let mut out = Zeroizing::new(Vec::new());
    for &(name, value) in values {
        let text = utf8(name, value, "TOML")?;
        // A secret name is a bare key: letters, digits, `_`.
        out.extend_from_slice(format!("{name} = ").as_bytes());
        quote(&mut out, text, toml_escape);
        out.push(b'\n');
    }
    Ok(out)
}

fn utf8<'a>(name: &str, value: &'a [u8], format: &str) -> Result<&'a str, CommandError> {
    std::str::from_utf8(value).map_err(|_| {
        CommandError::user(format!(
            "secret `{name}` is not UTF-8 text, so it cannot be exported as {format}"
        ))
    })
}

/// `text` in double quotes, each character through `escape` (which
/// returns the escape for a character that needs one).
fn quote(out: &mut Vec<u8>, text: &str, escape: fn(char) -> Option<String>) {
    out.push(b'"');
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match escape(c) {
            Some(e) => out.extend_from_slice(e.as_bytes()),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    out.push(b'"');
}

/// In a YAML double-quoted scalar: `"` and `\`, every line break (a raw one
/// would be folded into a space), tab, and every character outside YAML's
/// printable set (C0, DEL, C1, surrogates, U+FFFE/U+FFFF), plus NEL,
/// U+2028/U+2029 (line breaks in YAML 1.1) and the byte order mark.
fn yaml_escape(c: char) -> Option<String> {
    quote_escape(c).or_else(|| match c {
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{feff}'
        | '\u{fffe}'
        | '\u{ffff}' => Some(format!("\\u{:04X}", u32::from(c))),
        _ => None,
    })
}

/// In a TOML basic string: `"`, `\` and every control character (TOML
/// allows tab, but an escape reads the same everywhere).
fn toml_escape(c: char) -> Option<String> {
    quote_escape(c).or_else(|| match c {
        '\u{0}'..='\u{1f}' | '\u{7f}' => Some(format!("\\u{:04X}", u32::from(c))),
        _ => None,
    })
}

/// The escapes YAML's and TOML's double-quoted strings share: the quote,
/// the backslash, line feed, carriage return and tab.
fn quote_escape(c: char) -> Option<String> {
    Some(
        match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ => return None,
        }
        .into(),
    )
}

/// Names that a YAML 1.1 reader (PyYAML, older libraries) takes as a
/// boolean or null when written bare.
fn is_yaml11_word(name: &str) -> bool {
    const WORDS: [&str; 12] =
        ["y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf", "_"];
    WORDS.iter().any(|w| name.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<Named<'a>> {
        pairs.iter().map(|&(n, v)| (n, v.as_bytes())).collect()
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn yaml_escapes_what_a_reader_would_change() {
        let v = values(&[
            ("A", "plain"),
            ("ON", "yes"),
            ("B", "say \"hi\" \\ \n\r\t\u{85}\u{2028}\u{7}é🔑"),
        ]);
        assert_eq!(
            text(&yaml_of(&v).expect("yaml")),
            "A: \"plain\"\n\"ON\": \"yes\"\nB: \"say \\\"hi\\\" \\\\ \\n\\r\\t\\u0085\\u2028\\u0007é🔑\"\n"
        );
        assert_eq!(text(&yaml_of(&[]).expect("yaml")), "{}\n");
    }

    #[test]
    fn toml_escapes_controls_and_quotes() {
        let v = values(&[("A", "it's \"x\" \\ \n\u{7f}\u{85}é")]);
        assert_eq!(
            text(&toml_of(&v).expect("toml")),
            "A = \"it's \\\"x\\\" \\\\ \\n\\u007F\u{85}é\"\n"
        );
        assert_eq!(text(&toml_of(&[]).expect("toml")), "");
    }
}
