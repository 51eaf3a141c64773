//! `fnox scan`: plaintext that should not be committed. Given a file's
//! path and bytes, [`Scanner::scan`] finds the decrypted values of the
//! project's secrets (compared in memory), files that must never be
//! committed, and common credential shapes. A finding says where and
//! which rule, never the text it matched.
//!
//! Which files to read (the working tree, the git index) is the caller's
//! business; this module reads nothing and prints nothing.

mod allow;
mod rules;

use crate::secret::SecretBytes;

pub use allow::{allowed, glob_match};
pub use rules::Rule;

/// Values shorter than this are not looked for: too many false matches.
pub const MIN_VALUE_LEN: usize = 8;

/// The text that silences the findings of its line.
pub const ALLOW_MARK: &str = "fnox:allow";

/// One thing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The 1-based line (of the match's start).
    pub line: usize,
    /// The rule that matched.
    pub rule: Rule,
    /// What was found, in words that quote nothing of it.
    pub detail: String,
}

/// The values to look for, and the compiled rules.
pub struct Scanner {
    values: Vec<(String, SecretBytes)>,
    shapes: rules::Shapes,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner").field("values", &self.values.len()).finish_non_exhaustive()
    }
}

impl Scanner {
    /// A scanner looking for `values` (secret name, plaintext); values
    /// shorter than [`MIN_VALUE_LEN`] bytes (after a trailing newline is
    /// dropped) are left out.
    pub fn new(values: Vec<(String, SecretBytes)>) -> Self {
        let values = values
            .into_iter()
            .filter_map(|(name, v)| {
                let bytes = v.expose();
                let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
                (trimmed.len() >= MIN_VALUE_LEN).then(|| (name, SecretBytes::from_slice(trimmed)))
            })
            .collect();
        Self { values, shapes: rules::Shapes::new() }
    }

    /// How many values it looks for.
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    /// The findings in `content`, the bytes of the file at `path` (a path
    /// with `/` separators; only its name matters to the file rules), in
    /// line order. Lines with [`ALLOW_MARK`] are skipped.
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<Finding> {
        let lines = LineIndex::new(content);
        let mut found = Vec::new();
        if let Some(f) = rules::file_rule(path, content) {
            found.push(f);
        }
        for (name, value) in &self.values {
            for offset in find_all(content, value.expose()) {
                found.push(Finding {
                    line: lines.line_of(offset),
                    rule: Rule::SecretValue,
                    detail: format!("the value of secret `{name}`"),
                });
            }
        }
        if !is_binary(content) {
            for (i, line) in content.split(|&b| b == b'\n').enumerate() {
                self.shapes.scan_line(&String::from_utf8_lossy(line), i + 1, &mut found);
            }
        }
        // A secret's value is reported as such, not also as a random-looking one.
        let value_lines: Vec<usize> =
            found.iter().filter(|f| f.rule == Rule::SecretValue).map(|f| f.line).collect();
        found.retain(|f| f.rule != Rule::HighEntropy || !value_lines.contains(&f.line));
        found.retain(|f| !lines.allowed(content, f.line));
        found.sort_by(|a, b| a.line.cmp(&b.line).then(a.rule.cmp(&b.rule)));
        found.dedup();
        found
    }
}

/// True when `content` looks like a binary file (a NUL in its first 8 KiB).
pub fn is_binary(content: &[u8]) -> bool {
    content.iter().take(8192).any(|&b| b == 0)
}

/// Every offset where `needle` starts in `hay` (non-overlapping).
fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    if needle.is_empty() || hay.len() < needle.len() {
        return out;
    }
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if hay[i] == needle[0] && &hay[i..i + needle.len()] == needle {
            out.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out
}

/// Where the lines of a file start.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(content: &[u8]) -> Self {
        let starts = std::iter::once(0)
            .chain(content.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// True when line `n` (1-based) of `content` holds [`ALLOW_MARK`].
    fn allowed(&self, content: &[u8], n: usize) -> bool {
        let Some(&start) = self.starts.get(n.saturating_sub(1)) else { return false };
        let end = self.starts.get(n).map_or(content.len(), |&e| e);
        let mark = ALLOW_MARK.as_bytes();
        content[start..end].windows(mark.len()).any(|w| w == mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(values: &[(&str, &str)], path: &str, text: &str) -> Vec<(usize, &'static str)> {
        let values =
            values.iter().map(|(n, v)| (n.to_string(), SecretBytes::from_slice(v.as_bytes())));
        Scanner::new(values.collect())
            .scan(path, text.as_bytes())
            .into_iter()
            .map(|f| (f.line, f.rule.name()))
            .collect()
    }

    #[test]
    fn finds_a_value_on_its_line_unless_allowed() {
        let v = [("API_TOKEN", "s3cr3t-token-value\n")];
        assert_eq!(scan(&v, "a.py", "x = 1\ntok = 's3cr3t-token-value'\n"), [(2, "secret-value")]);
        assert_eq!(scan(&v, "a.py", "x = 's3cr3t-token-value' # fnox:allow\n"), []);
        assert_eq!(scan(&[("SHORT", "1234567")], "a.py", "1234567\n"), []);
    }

    #[test]
    fn finds_credential_shapes() {
        let aws = format!("key = \"AKIA{}\"\n", "ABCDEFGHIJKLMNOP");
        assert_eq!(scan(&[], "a.txt", &aws), [(1, "aws-access-key")]);
        let gh = format!("ghp_{}\n", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
        assert_eq!(scan(&[], "a.txt", &gh), [(1, "github-token")]);
        let pem = "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n";
        assert_eq!(scan(&[], "a.txt", pem), [(2, "private-key")]);
        let high = "db_password = \"Zq8xV2mT9kLp4RwB7nYc\"\n";
        assert_eq!(scan(&[], "a.txt", high), [(1, "high-entropy")]);
        assert_eq!(scan(&[], "a.txt", "password = \"changeme_please_now\"\n"), []);
    }

    #[test]
    fn flags_files_never_to_commit() {
        assert_eq!(scan(&[], "fnox.local.toml", ""), [(1, "local-config")]);
        assert_eq!(scan(&[], "sub/.env", "# c\nA=1\n"), [(2, "dotenv-file")]);
        assert_eq!(scan(&[], ".env.example", "A=1\n"), []);
        assert_eq!(scan(&[], ".env", "# only comments\nA=\n"), []);
        assert_eq!(scan(&[], ".fnox/local.key", "k"), [(1, "key-file")]);
    }
}
