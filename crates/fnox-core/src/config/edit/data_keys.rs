//! A file's `[data_keys]` table (one line per provider with `data_key =
//! true`): read one entry, set or remove it, every other byte kept.

use toml_edit::DocumentMut;

use super::{EditError, get_table, put_str, render, table_at};

const TABLE: &str = "data_keys";

/// The text of the `[data_keys]` entry of `provider` in `text`.
pub fn data_key_entry(text: &str, provider: &str) -> Result<Option<String>, EditError> {
    let doc: DocumentMut = text.parse()?;
    let table = get_table(doc.as_table(), &[TABLE.to_string()]);
    Ok(table.and_then(|t| t.get(provider)).and_then(|i| i.as_str()).map(str::to_string))
}

/// `text` with the `[data_keys]` entry of `provider` set to `line`
/// (`None`: removed, and the table with it when it ends up empty).
pub fn set_data_key(text: &str, provider: &str, line: Option<&str>) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    let path = [TABLE.to_string()];
    match line {
        Some(line) => put_str(table_at(&mut doc, &path, true)?, provider, line),
        None => {
            if let Some(t) = doc.get_mut(TABLE).and_then(|t| t.as_table_like_mut()) {
                t.remove(provider);
                if t.is_empty() {
                    doc.remove(TABLE);
                }
            }
        }
    }
    Ok(render(&doc, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_added_replaced_and_removed_alone() {
        let text = "# top\n[secrets]\nA = { value = \"x\" } # keep\n";
        let added = set_data_key(text, "kms", Some("v1:ab:cd")).unwrap();
        assert_eq!(added, format!("{text}\n[data_keys]\nkms = \"v1:ab:cd\"\n"));
        assert_eq!(data_key_entry(&added, "kms").unwrap().as_deref(), Some("v1:ab:cd"));
        assert_eq!(data_key_entry(&added, "other").unwrap(), None);
        let replaced = set_data_key(&added, "kms", Some("v1:ab:ef")).unwrap();
        assert_eq!(replaced, format!("{text}\n[data_keys]\nkms = \"v1:ab:ef\"\n"));
        assert_eq!(set_data_key(&replaced, "kms", None).unwrap(), text);
    }
}
