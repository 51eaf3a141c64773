//! The `.env` format that `fnox import` reads, without the process
//! environment.
//!
//! An entry is `[export ]NAME=VALUE`; blank lines and `#` comments are
//! skipped. A value is a run of pieces, each unquoted, `'single'` (every
//! character literal, may span lines) or `"double"` (escapes, may span
//! lines); whitespace outside quotes ends it, and only a `# comment` may
//! follow. In unquoted and double-quoted pieces `\\ \" \' \$ \` \n` and an
//! escaped space are escapes, and `$NAME` / `${NAME}` stand for the value
//! of an entry defined EARLIER in the same input. Anything else, a name
//! that is not defined earlier in particular, stays as written, byte for
//! byte: the importer's own environment (`$HOME`, a token in CI) never
//! reaches the stored value.

use std::collections::HashMap;

use zeroize::Zeroizing;

use fnox_core::SecretBytes;

/// One entry of the input.
#[derive(Debug)]
pub struct Entry {
    /// The name as written (checked as a secret name by the caller).
    pub name: String,
    /// The value, after quotes, escapes and expansion.
    pub value: SecretBytes,
    /// The line the entry starts on (1-based; 0 for an entry of a format
    /// read without lines: JSON, TOML, YAML).
    pub line: usize,
    /// The earlier entries its value refers to and took the value of.
    pub expanded: Vec<String>,
    /// How many `$NAME` / `${NAME}` references were kept as written.
    pub literal: usize,
}

/// Why the input could not be read. Never holds any part of a value.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The input is not UTF-8 text.
    NotUtf8,
    /// Line `line` does not start with `NAME=`.
    NotAnEntry { line: usize },
    /// The value of the entry `name` (starting on `line`) has an unclosed
    /// quote, a bad escape or text after its end.
    BadValue { line: usize, name: String },
}

/// Reads every entry of `text` in order. With `expand` false every `$` is
/// literal too.
pub fn parse(text: &[u8], expand: bool) -> Result<Vec<Entry>, ParseError> {
    let text = std::str::from_utf8(text).map_err(|_| ParseError::NotUtf8)?;
    let mut p = Parser { rest: text, line: 1, defined: HashMap::new(), expand };
    let mut entries = Vec::new();
    while let Some(entry) = p.entry()? {
        entries.push(entry);
    }
    Ok(entries)
}

struct Parser<'a> {
    rest: &'a str,
    line: usize,
    /// The entries read so far (a later one replaces an earlier one).
    defined: HashMap<String, Zeroizing<String>>,
    expand: bool,
}

/// A value being built, and what its expansion did.
struct Value {
    text: Zeroizing<String>,
    expanded: Vec<String>,
    literal: usize,
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.rest = &self.rest[c.len_utf8()..];
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    /// Skips to the start of the next line (past a comment, say).
    fn skip_line(&mut self) {
        match self.rest.find('\n') {
            Some(i) => {
                self.rest = &self.rest[i + 1..];
                self.line += 1;
            }
            None => self.rest = "",
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_.]*` (a dot is read, then refused by the caller
    /// with a clearer message), or None.
    fn key(&mut self) -> Option<String> {
        if !self.peek().is_some_and(is_name_start) {
            return None;
        }
        let end =
            self.rest.find(|c: char| !(is_name_char(c) || c == '.')).unwrap_or(self.rest.len());
        let key = self.rest[..end].to_string();
        self.rest = &self.rest[end..];
        Some(key)
    }

    /// The next entry, skipping blank and comment lines; None at the end.
    fn entry(&mut self) -> Result<Option<Entry>, ParseError> {
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Ok(None),
                Some('\n') => self.skip_line(),
                Some('\r') if self.rest.starts_with("\r\n") => self.skip_line(),
                Some('#') => self.skip_line(),
                Some(_) => break,
            }
        }
        let line = self.line;
        let not_entry = ParseError::NotAnEntry { line };
        let mut name = self.key().ok_or(ParseError::NotAnEntry { line })?;
        self.skip_blanks();
        if name == "export" && self.peek() != Some('=') {
            name = self.key().ok_or(ParseError::NotAnEntry { line })?;
            self.skip_blanks();
        }
        if self.bump() != Some('=') {
            return Err(not_entry);
        }
        self.skip_blanks();
        let value =
            self.value().ok_or_else(|| ParseError::BadValue { line, name: name.clone() })?;
        self.defined.insert(name.clone(), Zeroizing::new(value.text.as_str().to_string()));
        Ok(Some(Entry {
            name,
            value: SecretBytes::from_slice(value.text.as_bytes()),
            line,
            expanded: value.expanded,
            literal: value.literal,
        }))
    }

    /// The value up to the end of its line (or of its last quote); None
    /// when it is malformed.
    fn value(&mut self) -> Option<Value> {
        let mut v = Value { text: Zeroizing::new(String::new()), expanded: Vec::new(), literal: 0 };
        if self.peek() == Some('#') {
            self.skip_line();
            return Some(v);
        }
        loop {
            match self.peek() {
                None => return Some(v),
                Some('\n') => {
                    self.bump();
                    return Some(v);
                }
                Some(' ' | '\t' | '\r') => return self.end_of_value().then_some(v),
                Some('\'') => {
                    self.bump();
                    let end = self.rest.find('\'')?;
                    v.text.push_str(&self.rest[..end]);
                    self.line += self.rest[..end].matches('\n').count();
                    self.rest = &self.rest[end + 1..];
                }
                Some('"') => {
                    self.bump();
                    self.double_quoted(&mut v)?;
                }
                Some('\\') => self.escape(&mut v)?,
                Some('$') => self.dollar(&mut v),
                Some(c) => {
                    self.bump();
                    v.text.push(c);
                }
            }
        }
    }

    /// After an unquoted blank: only blanks and a comment to the end of the
    /// line.
    fn end_of_value(&mut self) -> bool {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\r']);
        match self.peek() {
            None => true,
            Some('\n' | '#') => {
                self.skip_line();
                true
            }
            Some(_) => false,
        }
    }

    /// The rest of a double-quoted piece, up to and past its closing quote.
    fn double_quoted(&mut self, v: &mut Value) -> Option<()> {
        loop {
            match self.peek()? {
                '"' => {
                    self.bump();
                    return Some(());
                }
                '\\' => self.escape(v)?,
                '$' => self.dollar(v),
                c => {
                    self.bump();
                    v.text.push(c);
                }
            }
        }
    }

    /// A backslash and the character it escapes.
    fn escape(&mut self, v: &mut Value) -> Option<()> {
        self.bump();
        let c = match self.bump()? {
            'n' => '\n',
            c @ ('\\' | '"' | '\'' | '$' | '`' | ' ') => c,
            _ => return None,
        };
        v.text.push(c);
        Some(())
    }

    /// `$NAME` or `${NAME}`: the value of an earlier entry NAME; otherwise
    /// the text as written (the characters after `$` are read on as usual).
    fn dollar(&mut self, v: &mut Value) {
        self.bump();
        v.text.push('$');
        let rest = self.rest;
        let braced = rest.starts_with('{');
        let body = if braced { &rest[1..] } else { rest };
        if !body.starts_with(is_name_start) {
            return; // a plain dollar sign
        }
        let len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
        let name = &body[..len];
        if braced && !body[len..].starts_with('}') {
            return; // `${` that does not close right after a name
        }
        let Some(value) = self.defined.get(name).filter(|_| self.expand) else {
            v.literal += 1;
            return;
        };
        v.text.pop();
        v.text.push_str(value);
        if !v.expanded.iter().any(|n| n == name) {
            v.expanded.push(name.to_string());
        }
        self.rest = &body[len + usize::from(braced)..];
    }
}

#[cfg(test)]
#[path = "dotenv_tests.rs"]
mod tests;
