//! Adding a top-level `default_provider` where a reader looks for it: with
//! the file's other top-level settings, or just above its first table,
//! below the comment block that opens the file.

use toml_edit::{DocumentMut, Item, Value};

use super::{EditError, render};

/// Sets the top-level `default_provider` to `name` unless the file has one.
/// Returns the new text, or `None` when `default_provider` is there already.
pub fn set_default_provider(text: &str, name: &str) -> Result<Option<String>, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    if doc.contains_key("default_provider") {
        return Ok(None);
    }
    let has_settings = doc
        .as_table()
        .iter()
        .any(|(_, item)| !matches!(item, Item::Table(_) | Item::ArrayOfTables(_)));
    if has_settings {
        // After the other top-level settings (toml_edit puts new keys last).
        doc.insert("default_provider", toml_edit::value(name));
        return Ok(Some(render(&doc, text)));
    }
    // Only comments and tables: the new line goes after the last blank line
    // before the first table header, so that the opening comment block
    // stays first and a comment that sits on a table stays on it.
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut at = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            break;
        }
        offset += line.len();
        if trimmed.is_empty() {
            at = offset;
        }
    }
    let mut out = String::with_capacity(text.len() + 40);
    out.push_str(&text[..at]);
    if at > 0 && !text[..at].ends_with('\n') {
        out.push_str(nl);
    }
    out.push_str(&format!("default_provider = {}{nl}", Value::from(name)));
    if at < text.len() {
        out.push_str(nl);
    }
    out.push_str(&text[at..]);
    out.parse::<DocumentMut>()?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::set_default_provider;

    fn set(text: &str) -> String {
        set_default_provider(text, "local").unwrap().unwrap()
    }

    #[test]
    fn goes_below_the_opening_comment_block() {
        let text = "# header\n# more\n\n[providers.local]\ntype = \"local\"\n\n[providers.age]\ntype = \"age\"\n\n[secrets]\n";
        assert_eq!(
            set(text),
            "# header\n# more\n\ndefault_provider = \"local\"\n\n[providers.local]\ntype = \"local\"\n\n[providers.age]\ntype = \"age\"\n\n[secrets]\n"
        );
    }

    #[test]
    fn a_comment_on_the_first_table_stays_on_it() {
        assert_eq!(
            set("# the team's key\n[providers.local]\ntype = \"local\"\n"),
            "default_provider = \"local\"\n\n# the team's key\n[providers.local]\ntype = \"local\"\n"
        );
        assert_eq!(
            set("# top\n\n# on local\n[providers.local]\ntype = \"local\"\n"),
            "# top\n\ndefault_provider = \"local\"\n\n# on local\n[providers.local]\ntype = \"local\"\n"
        );
    }

    #[test]
    fn joins_other_top_level_settings_and_keeps_crlf() {
        assert_eq!(
            set("if_missing = \"warn\"  # why\n\n[providers.local]\ntype = \"local\"\n"),
            "if_missing = \"warn\"  # why\ndefault_provider = \"local\"\n\n[providers.local]\ntype = \"local\"\n"
        );
        assert_eq!(
            set("# h\r\n\r\n[providers.local]\r\ntype = \"local\"\r\n"),
            "# h\r\n\r\ndefault_provider = \"local\"\r\n\r\n[providers.local]\r\ntype = \"local\"\r\n"
        );
    }

    #[test]
    fn an_existing_default_is_left_alone() {
        let text = "default_provider = \"age\"\n[providers.local]\ntype = \"local\"\n";
        assert_eq!(set_default_provider(text, "local").unwrap(), None);
    }
}
