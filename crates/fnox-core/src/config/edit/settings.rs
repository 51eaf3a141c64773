//! A secret entry's settings without its value: what `fnox set NAME
//! --default X` (or `--if-missing`, or `-d` alone) writes.

use toml_edit::{DocumentMut, InlineTable, Item, Value};

use super::{EditError, get_table, last_key, move_closing_space, put_str, render, table_at};

/// Sets the string fields `settings` (e.g. `("default", "debug")`) of secret
/// `name` in the table at `path`, creating the entry (inline, without a
/// `value`) and the tables as needed; its `value` and every other field stay
/// as they are. Returns the new text, or `None` when nothing changes.
pub fn set_settings(
    text: &str,
    path: &[String],
    name: &str,
    settings: &[(&str, &str)],
) -> Result<Option<String>, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    let exists = get_table(doc.as_table(), path).is_some_and(|t| t.contains_key(name));
    let table = table_at(&mut doc, path, !exists)?;
    match table.get_mut(name) {
        Some(item) => {
            let old_last = item.as_inline_table().and_then(last_key);
            let entry =
                item.as_table_like_mut().ok_or_else(|| EditError::NotATable(name.to_string()))?;
            for (key, v) in settings {
                put_str(entry, key, v);
            }
            if let (Some(t), Some(old_last)) = (item.as_inline_table_mut(), old_last) {
                move_closing_space(t, &old_last);
            }
        }
        None => {
            let mut entry = InlineTable::new();
            for (key, v) in settings {
                entry.insert(*key, (*v).into());
            }
            table.insert(name, Item::Value(Value::InlineTable(entry)));
        }
    }
    let out = render(&doc, text);
    Ok((out != text).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::set_settings;

    fn secrets() -> Vec<String> {
        vec!["secrets".into()]
    }

    #[test]
    fn a_new_entry_gets_the_settings_and_no_value() {
        let text = "[secrets]\nA = { value = \"x\" }\n";
        let out = set_settings(text, &secrets(), "B", &[("default", "debug")]).unwrap().unwrap();
        assert_eq!(out, "[secrets]\nA = { value = \"x\" }\nB = { default = \"debug\" }\n");
    }

    #[test]
    fn an_existing_entry_keeps_its_value_and_spacing() {
        let text = "[secrets]\nA = { provider = \"l\", value = \"x\" }  # keep\n";
        let out = set_settings(text, &secrets(), "A", &[("default", "d"), ("if_missing", "warn")])
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            "[secrets]\nA = { provider = \"l\", value = \"x\", default = \"d\", if_missing = \"warn\" }  # keep\n"
        );
        let table = "[secrets.A]\nvalue = \"x\"\ndefault = \"old\"\n";
        let out = set_settings(table, &secrets(), "A", &[("default", "new")]).unwrap().unwrap();
        assert_eq!(out, "[secrets.A]\nvalue = \"x\"\ndefault = \"new\"\n");
    }

    #[test]
    fn the_same_settings_change_nothing() {
        let text = "[secrets]\nA = { default = \"d\" }\n";
        assert_eq!(set_settings(text, &secrets(), "A", &[("default", "d")]).unwrap(), None);
    }

    #[test]
    fn a_profile_entry_goes_under_its_table() {
        let path: Vec<String> = ["profiles", "ci", "secrets"].map(String::from).to_vec();
        let out = set_settings("", &path, "A", &[("if_missing", "ignore")]).unwrap().unwrap();
        assert_eq!(out, "[profiles.ci.secrets]\nA = { if_missing = \"ignore\" }\n");
    }
}
