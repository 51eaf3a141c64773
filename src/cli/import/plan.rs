//! What `import` does with each entry: where it goes and whether it is
//! new, replaces a secret, collides with one, or is skipped; the dry run's
//! table of it, and the reasons the import refuses to run.

use std::{collections::BTreeMap, path::PathBuf};

use fnox_core::{Project, config::ConfigError, words};

use super::{CommandError, Entry, Ui};

/// What happens to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// A secret that is not defined yet.
    New,
    /// A secret that is defined; `--force` replaces it.
    Replace,
    /// A secret that is defined, without `--force`: the import refuses.
    Exists,
    /// An empty value without `--allow-empty`: left out.
    Skip,
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Replace => "replace",
            Self::Exists => "exists",
            Self::Skip => "skip",
        }
    }
}

/// One entry of the input, and what the import does with it.
pub(super) struct Row<'a> {
    pub name: String,
    pub entry: &'a Entry,
    pub action: Action,
    /// The file and table it goes to: its current entry, else where a new
    /// entry of the profile goes (`Config::new_entry_place`).
    pub place: (PathBuf, Vec<String>),
}

/// The plan for every entry, in name order.
pub(super) fn rows<'a>(
    project: &Project,
    entries: &'a BTreeMap<String, Entry>,
    force: bool,
    allow_empty: bool,
) -> Result<Vec<Row<'a>>, CommandError> {
    let config = project.config();
    let not_found = || ConfigError::NotFound { cwd: project.fnox().env().cwd().to_path_buf() };
    entries
        .iter()
        .map(|(name, entry)| {
            let def = config.secrets.get(name).filter(|d| d.in_profile == config.in_profile());
            let action = match def {
                _ if entry.value.expose().is_empty() && !allow_empty => Action::Skip,
                None => Action::New,
                Some(_) if force => Action::Replace,
                Some(_) => Action::Exists,
            };
            let place = match def {
                Some(def) => (def.at.file.to_path_buf(), def.table.to_vec()),
                None => config.new_entry_place(name).ok_or_else(not_found)?,
            };
            Ok(Row { name: name.clone(), entry, action, place })
        })
        .collect()
}

/// The dry run's report: one aligned line per entry, then a summary.
pub(super) fn table(
    ui: &Ui,
    rows: &[Row<'_>],
    provider: &str,
    source: &str,
    force: bool,
) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let skip = r.action == Action::Skip;
            let note = if skip { "empty value".to_string() } else { expansion_note(r.entry) };
            vec![
                r.name.clone(),
                r.action.word().to_string(),
                if skip { "-".to_string() } else { ui.path(&r.place.0) },
                if skip { "-" } else { provider }.to_string(),
                match r.entry.line {
                    0 => source.to_string(),
                    line => format!("{source}:{line}"),
                },
                note,
            ]
        })
        .collect();
    let mut out = crate::cli::list::format_table(&cells);
    let skipped = rows.iter().filter(|r| r.action == Action::Skip).count();
    let imported = rows.len() - skipped;
    let exists = rows.iter().any(|r| r.action == Action::Exists);
    out.push_str(&format!(
        "dry run: {} would be imported{}{}; nothing was written\n",
        words::count(imported, "secret", "secrets"),
        if exists && !force { " with --force" } else { "" },
        if skipped == 0 {
            String::new()
        } else {
            format!(", {} skipped", words::count(skipped, "empty entry", "empty entries"))
        }
    ));
    out
}

/// Why the import would not run: secrets that exist (without `--force`),
/// or nothing left once empty values are skipped.
pub(super) fn refusals(rows: &[Row<'_>], source: &str) -> Result<(), CommandError> {
    let names = |action| -> Vec<&str> {
        rows.iter().filter(|r| r.action == action).map(|r| r.name.as_str()).collect()
    };
    let existing = names(Action::Exists);
    if !existing.is_empty() {
        return Err(CommandError::user(format!(
            "{} already defined: {}; pass --force to overwrite",
            words::noun(existing.len(), "this secret is", "these secrets are"),
            existing.join(", ")
        )));
    }
    let skipped = names(Action::Skip);
    if skipped.len() == rows.len() {
        return Err(CommandError::user(format!(
            "every entry of {source} is empty ({}); nothing was imported",
            skipped.join(", ")
        ))
        .hint("pass --allow-empty to import empty values"));
    }
    Ok(())
}

/// What the dry run says about one entry's references (never its value).
fn expansion_note(entry: &Entry) -> String {
    let mut notes = Vec::new();
    if !entry.expanded.is_empty() {
        notes.push(format!("expanded {}", entry.expanded.join(", ")));
    }
    match entry.literal {
        0 => {}
        1 => notes.push("1 reference kept literal".to_string()),
        n => notes.push(format!("{n} references kept literal")),
    }
    notes.join("; ")
}
