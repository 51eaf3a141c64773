//! `[scan] allow = [...]`: path patterns whose findings are silenced.

/// True when `path` (relative, `/`-separated) matches one of `patterns`.
pub fn allowed(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| glob_match(p.trim_start_matches("./"), path))
}

/// `*` matches within one path segment, `**` any number of segments
/// (`dir/**` everything under `dir`), `?` one character; a pattern
/// without `/` matches the file name at any depth (as in `.gitignore`).
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').map_or_else(
        || if pattern.contains('/') { pattern.to_string() } else { format!("**/{pattern}") },
        str::to_string,
    );
    let pattern = pattern.strip_suffix('/').map_or(pattern.clone(), |p| format!("{p}/**"));
    matches(pattern.as_bytes(), path.as_bytes())
}

fn matches(p: &[u8], s: &[u8]) -> bool {
    match p {
        [] => s.is_empty(),
        [b'*', b'*', b'/', rest @ ..] => {
            matches(rest, s)
                || s.iter().enumerate().any(|(i, &c)| c == b'/' && matches(rest, &s[i + 1..]))
        }
        [b'*', b'*'] => true,
        [b'*', rest @ ..] => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != b'/')
            .any(|i| matches(rest, &s[i..])),
        [b'?', rest @ ..] => matches!(s, [c, tail @ ..] if *c != b'/' && matches(rest, tail)),
        [c, rest @ ..] => matches!(s, [d, tail @ ..] if d == c && matches(rest, tail)),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("tests/fixtures/**", "tests/fixtures/a/b.env"));
        assert!(glob_match("*.pem", "certs/ca.pem"));
        assert!(glob_match("/docs/*.md", "docs/x.md"));
        assert!(!glob_match("/docs/*.md", "docs/sub/x.md"));
        assert!(glob_match("docs/", "docs/sub/x.md"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("fixtures/*", "src/fixtures/a"));
    }
}
