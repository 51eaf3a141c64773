//! Counted nouns in messages: `1 secret`, `2 secrets`, never `secret(s)`.

/// `n` followed by `one` or `many`: `count(1, "file", "files")` is
/// `1 file`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `one` or `many` for `n` things, without the number.
pub fn noun<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_and_many() {
        assert_eq!(super::count(1, "file", "files"), "1 file");
        assert_eq!(super::count(0, "file", "files"), "0 files");
        assert_eq!(super::count(2, "value uses", "values use"), "2 values use");
        assert_eq!(super::noun(1, "key", "keys"), "key");
    }
}
