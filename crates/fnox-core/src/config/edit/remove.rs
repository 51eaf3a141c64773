//! Removing a secret entry with the comment lines that belong to it, and
//! nothing else.

use toml_edit::{DocumentMut, Item, Table};

use super::{EditError, get_table, get_table_mut, render};

/// What [`remove_secret`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The file's new text.
    pub text: String,
    /// The tables of a profile that the removal left empty and that were
    /// removed with it, innermost first (`profiles.ci.secrets`,
    /// `profiles.ci`, `profiles`).
    pub emptied: Vec<String>,
}

/// Removes secret `name` from the table at `path`, with the comment lines
/// directly above it; blank lines before it stay. A profile's tables
/// (`[profiles.NAME.secrets]`, `[profiles.NAME]`, `[profiles]`) that it
/// leaves empty go too, with their headers. Returns `None` when the entry
/// is not there.
pub fn remove_secret(
    text: &str,
    path: &[String],
    name: &str,
) -> Result<Option<Removed>, EditError> {
    let Some(mut text) = remove_entry(text, path, name)? else {
        return Ok(None);
    };
    let mut emptied = Vec::new();
    if path.first().is_some_and(|p| p == "profiles") {
        let mut table = path;
        while let Some((last, parent)) = table.split_last() {
            let doc = toml_edit::Document::parse(text.as_str())?;
            match get_table(doc.as_table(), table).map(|t| t.is_empty()) {
                Some(false) => break,
                Some(true) => {
                    drop(doc);
                    let Some(shorter) = remove_entry(&text, parent, last)? else { break };
                    text = shorter;
                }
                // A table without a header of its own (`[profiles.ci]` above
                // `[profiles.ci.secrets]`) is gone once it has nothing in it.
                None => {}
            }
            emptied.push(table.join("."));
            table = parent;
        }
    }
    Ok(Some(Removed { text, emptied }))
}

/// Removes entry `name` (a secret or a table) from the table at `path`,
/// with the comment lines directly above it.
fn remove_entry(text: &str, path: &[String], name: &str) -> Result<Option<String>, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    let Some(parent) = get_table(doc.as_table(), path) else {
        return Ok(None);
    };
    let Some(entry) = parent.get(name) else {
        return Ok(None);
    };
    // The decor before the entry: its key's prefix, or its header's prefix.
    let (prefix, own_position) = match entry {
        Item::Table(t) => (raw(t.decor().prefix()), t.position()),
        _ => (parent.key(name).map(|k| raw(k.leaf_decor().prefix())).unwrap_or_default(), None),
    };
    let keep = detached_part(&prefix);
    let next_key = {
        let keys: Vec<&str> = parent.iter().map(|(k, _)| k).collect();
        let idx = keys.iter().position(|k| *k == name);
        idx.and_then(|i| keys.get(i + 1).map(|k| k.to_string()))
            .filter(|k| !matches!(parent.get(k), Some(Item::Table(_))))
    };
    let parent_position = if matches!(entry, Item::Table(_)) {
        own_position
    } else {
        table_position(doc.as_table(), path)
    };
    let parent = get_table_mut(doc.as_table_mut(), path)
        .ok_or_else(|| EditError::NotATable(path.join(".")))?;
    parent.remove(name);
    if keep.is_empty() {
        return Ok(Some(no_new_leading_blank(render(&doc, text), text)));
    }
    // Blank lines that separated the entry from what came before stay,
    // unless what follows is already separated by a blank line of its own.
    let blank_only = keep.trim().is_empty();
    let merge = |old: String| -> Option<String> {
        let separated = old.starts_with('\n') || old.starts_with("\r\n");
        if blank_only && separated { None } else { Some(format!("{keep}{old}")) }
    };
    if let Some(next) = next_key {
        if let Some(mut key) = parent.key_mut(&next)
            && let Some(p) = merge(raw(key.leaf_decor().prefix()))
        {
            key.leaf_decor_mut().set_prefix(p);
        }
    } else if let Some(pos) = parent_position
        && let Some(next) = next_table_after(doc.as_table_mut(), pos)
    {
        if let Some(p) = merge(raw(next.decor().prefix())) {
            next.decor_mut().set_prefix(p);
        }
    } else if !blank_only {
        let old = doc.trailing().as_str().unwrap_or("").to_string();
        doc.set_trailing(format!("{keep}{old}"));
    }
    Ok(Some(no_new_leading_blank(render(&doc, text), text)))
}

/// `out` without the blank lines it starts with when `original` did not
/// start with one: the first table of a file went, and the blank line that
/// separated the next one from it would now open the file.
fn no_new_leading_blank(out: String, original: &str) -> String {
    if original.starts_with(['\n', '\r']) {
        return out;
    }
    match out.trim_start_matches(['\n', '\r']) {
        trimmed if trimmed.len() == out.len() => out,
        trimmed => trimmed.to_string(),
    }
}

fn raw(s: Option<&toml_edit::RawString>) -> String {
    s.and_then(|r| r.as_str()).unwrap_or("").to_string()
}

/// The part of a decor prefix that is not the comment block attached to
/// the entry (the comment lines directly above it).
fn detached_part(prefix: &str) -> String {
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    let mut cut = lines.len();
    while cut > 0 {
        let line = lines[cut - 1].trim();
        if line.starts_with('#') || (cut == lines.len() && !lines[cut - 1].ends_with('\n')) {
            cut -= 1;
        } else {
            break;
        }
    }
    lines[..cut].concat()
}

fn table_position(root: &Table, path: &[String]) -> Option<isize> {
    let mut t = root;
    for key in path {
        t = t.get(key)?.as_table()?;
    }
    t.position()
}

/// The standard table whose header comes next in the file after `pos`.
fn next_table_after(root: &mut Table, pos: isize) -> Option<&mut Table> {
    let mut best: Option<isize> = None;
    find_min_after(root, pos, &mut best);
    let target = best?;
    find_by_position(root, target)
}

fn find_min_after(t: &Table, pos: isize, best: &mut Option<isize>) {
    for (_, item) in t.iter() {
        if let Item::Table(sub) = item {
            if let Some(p) = sub.position()
                && p > pos
                && !sub.is_implicit()
                && best.is_none_or(|b| p < b)
            {
                *best = Some(p);
            }
            find_min_after(sub, pos, best);
        }
    }
}

fn find_by_position(t: &mut Table, target: isize) -> Option<&mut Table> {
    for (_, item) in t.iter_mut() {
        if let Item::Table(sub) = item {
            if sub.position() == Some(target) && !sub.is_implicit() {
                return Some(sub);
            }
            if let Some(found) = find_by_position(sub, target) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    fn remove(text: &str, table: &str, name: &str) -> (String, Vec<String>) {
        let removed = remove_secret(text, &path(table), name).unwrap().unwrap();
        (removed.text, removed.emptied)
    }

    #[test]
    fn the_last_entry_of_a_profile_takes_its_tables_along() {
        let text = "[secrets]\nA = { default = \"a\" }\n\n# CI only\n[profiles.ci.secrets]\nB = { default = \"b\" }\n\n[providers.l]\ntype = \"local\"\n";
        let (out, emptied) = remove(text, "profiles.ci.secrets", "B");
        assert_eq!(out, "[secrets]\nA = { default = \"a\" }\n\n[providers.l]\ntype = \"local\"\n");
        assert_eq!(emptied, ["profiles.ci.secrets", "profiles.ci", "profiles"]);
    }

    #[test]
    fn a_profile_with_other_settings_or_entries_stays() {
        let text = "[profiles.ci]\nif_missing = \"warn\"\n\n[profiles.ci.secrets]\nB = { default = \"b\" }\n";
        let (out, emptied) = remove(text, "profiles.ci.secrets", "B");
        assert_eq!(out, "[profiles.ci]\nif_missing = \"warn\"\n");
        assert_eq!(emptied, ["profiles.ci.secrets"]);

        let text = "[profiles.ci.secrets]\nB = { default = \"b\" }\n\n[profiles.prod.secrets]\nC = { default = \"c\" }\n";
        let (out, emptied) = remove(text, "profiles.ci.secrets", "B");
        assert_eq!(out, "[profiles.prod.secrets]\nC = { default = \"c\" }\n");
        assert_eq!(emptied, ["profiles.ci.secrets", "profiles.ci"]);

        let text = "[profiles.ci.secrets]\nB = { default = \"b\" }\nC = { default = \"c\" }\n";
        let (out, emptied) = remove(text, "profiles.ci.secrets", "B");
        assert_eq!(out, "[profiles.ci.secrets]\nC = { default = \"c\" }\n");
        assert!(emptied.is_empty());
    }

    #[test]
    fn inline_profile_tables_go_too() {
        let text = "[secrets]\nA = { default = \"a\" }\n\n[profiles]\nci = { secrets = { B = { default = \"b\" } } }\nprod = { if_missing = \"warn\" }\n";
        let (out, emptied) = remove(text, "profiles.ci.secrets", "B");
        assert_eq!(
            out,
            "[secrets]\nA = { default = \"a\" }\n\n[profiles]\nprod = { if_missing = \"warn\" }\n"
        );
        assert_eq!(emptied, ["profiles.ci.secrets", "profiles.ci"]);
    }

    #[test]
    fn an_empty_top_level_secrets_table_stays() {
        let (out, emptied) = remove("[secrets]\nA = { default = \"a\" }\n", "secrets", "A");
        assert_eq!(out, "[secrets]\n");
        assert!(emptied.is_empty());
    }
}
