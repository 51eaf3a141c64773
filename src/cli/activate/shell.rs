//! The shell code that activation prints, per shell: exact quoting of
//! every value, and the statements that load, unload and restore.
//!
//! bash and zsh get single-quoted strings: every byte between `'...'` is
//! literal; a `'` is written `\'` outside the quotes, and no two quotes
//! ever touch (zsh's RC_QUOTES reads `''` inside a string as a quote).
//! fish gets single-quoted strings with `\\` and `\'`, its only escapes
//! there. A value that is not UTF-8, or that holds a NUL byte, is refused:
//! a shell variable cannot hold it as it is.

use std::fmt::Write as _;

/// A shell that activation supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// `text` as one word of this shell that means exactly `text`.
    pub fn quote(self, text: &str) -> String {
        match self {
            Self::Bash | Self::Zsh => posix_quote(text),
            Self::Fish => fish_quote(text),
        }
    }

    /// Sets and exports `name` to `value`; when `name` was set before and
    /// `keep_old` (it was not fnox's), its value is kept first, to be
    /// given back by [`Shell::unset`].
    pub fn set(self, out: &mut String, name: &str, value: &str, keep_old: bool) {
        let prev = prev_var(name);
        let v = self.quote(value);
        let _ = match self {
            Self::Bash | Self::Zsh => {
                let assign = if self == Self::Zsh { "typeset -g " } else { "" };
                if keep_old {
                    let _ = writeln!(
                        out,
                        "if [ -n \"${{{name}+x}}\" ]; then {assign}{prev}=\"${name}\"; fi"
                    );
                }
                writeln!(out, "export {name}={v}")
            }
            Self::Fish => {
                if keep_old {
                    let _ = writeln!(out, "if set -q {name}; set -g {prev} ${name}; end");
                }
                writeln!(out, "set -gx -- {name} {v}")
            }
        };
    }

    /// Unsets `name`, or gives it back the value it had before fnox set it.
    pub fn unset(self, out: &mut String, name: &str) {
        let prev = prev_var(name);
        let _ = match self {
            Self::Bash | Self::Zsh => writeln!(
                out,
                "if [ -n \"${{{prev}+x}}\" ]; then export {name}=\"${prev}\"; unset {prev}; else unset {name}; fi"
            ),
            Self::Fish => writeln!(
                out,
                "if set -q {prev}; set -gx -- {name} ${prev}; set -e -g {prev}; else; set -e -g {name}; end"
            ),
        };
    }

    /// Sets (exported) or unsets fnox's own variable `name`.
    pub fn own(self, out: &mut String, name: &str, value: Option<&str>) {
        let _ = match (self, value) {
            (Self::Bash | Self::Zsh, Some(v)) => writeln!(out, "export {name}={}", self.quote(v)),
            (Self::Bash | Self::Zsh, None) => writeln!(out, "unset {name}"),
            (Self::Fish, Some(v)) => writeln!(out, "set -gx -- {name} {}", self.quote(v)),
            (Self::Fish, None) => writeln!(out, "set -e -g {name}"),
        };
    }
}

/// The shell variable that keeps the value `name` had before fnox set it.
fn prev_var(name: &str) -> String {
    format!("__fnox_prev_{name}")
}

/// POSIX single quoting of text (see [`crate::cli::export::posix_quote`]).
fn posix_quote(text: &str) -> String {
    // Only ASCII quotes and backslashes are added around the text's bytes.
    String::from_utf8_lossy(&crate::cli::export::posix_quote(text.as_bytes())).into_owned()
}

/// fish single quoting: `\` and `'` escaped with a backslash.
fn fish_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The value as text a shell can hold, or why not.
pub fn shell_text(value: &[u8]) -> Result<&str, &'static str> {
    if value.contains(&0) {
        return Err("contains a NUL byte");
    }
    std::str::from_utf8(value).map_err(|_| "is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_quoting_never_lets_two_quotes_touch() {
        assert_eq!(posix_quote(""), "''");
        assert_eq!(posix_quote("a b"), "'a b'");
        assert_eq!(posix_quote("'"), "\\'");
        assert_eq!(posix_quote("it's"), "'it'\\''s'");
        assert_eq!(posix_quote("''"), "\\'\\'");
        assert_eq!(posix_quote("$$ `x`\n-"), "'$$ `x`\n-'");
    }

    #[test]
    fn fish_quoting_escapes_backslash_and_quote() {
        assert_eq!(fish_quote(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(fish_quote("$x\n"), "'$x\n'");
    }

    #[test]
    fn nul_and_non_utf8_are_refused() {
        assert!(shell_text(b"a\0b").is_err());
        assert!(shell_text(b"\xff").is_err());
        assert_eq!(shell_text(b"ok"), Ok("ok"));
    }
}
