//! `fnox list`.

use fnox_core::config::SecretDef;

use super::{
    Env,
    error::CommandError,
    ui::{Ui, printable, printable_json},
};
use crate::exit_codes::ExitStatus;

/// List the secrets of the active profile: name, provider, description and
/// the file (and line) that defines each. Values (and defaults marked
/// `sensitive = true`) are never shown unless --values is given.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox list
  fnox -P production list --json")]
pub struct Args {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Decrypt and include the values (careful: they are printed).
    #[arg(long)]
    pub values: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load(ui)?;
    let config = project.config();
    let defs: Vec<&SecretDef> = config.secrets.values().collect();
    let values: Vec<Option<String>> = if args.values {
        project
            .resolve(&[])?
            .into_iter()
            .map(|(_, v)| v.map(|v| String::from_utf8_lossy(v.expose()).into_owned()))
            .collect()
    } else {
        vec![None; defs.len()]
    };
    let provider = |d: &SecretDef| match (&d.value, &d.provider) {
        (Some(_), Some(p)) => p.clone(),
        (Some(_), None) => config.default_provider.clone().unwrap_or_else(|| "?".into()),
        (None, _) if d.default.is_some() => "(default)".into(),
        (None, _) => "(no value)".into(),
    };
    if args.json {
        let items: Vec<_> = defs
            .iter()
            .zip(&values)
            .map(|(d, v)| {
                // A default marked sensitive is a value: shown with --values only.
                let default =
                    d.default.as_ref().filter(|_| args.values || d.sensitive != Some(true));
                let mut o = serde_json::json!({
                    "name": d.name,
                    "provider": d.value.as_ref().map(|_| provider(d)),
                    "has_value": d.value.is_some(),
                    "default": default,
                    "sensitive": config.is_secret(d),
                    "description": d.description,
                    "file": ui.path(&d.at.file),
                    "line": d.at.line,
                });
                if args.values {
                    o["value"] = serde_json::json!(v);
                }
                o
            })
            .collect();
        ui.stdout(printable_json(&serde_json::Value::Array(items)).as_bytes())?;
        return Ok(ExitStatus::SUCCESS);
    }
    if defs.is_empty() {
        ui.note(&format!("no secrets in profile `{}`", config.profile));
        return Ok(ExitStatus::SUCCESS);
    }
    let mut rows: Vec<Vec<String>> =
        vec![["NAME", "PROVIDER", "DESCRIPTION", "FILE"].iter().map(|s| s.to_string()).collect()];
    if args.values {
        rows[0].push("VALUE".into());
    }
    for (d, v) in defs.iter().zip(&values) {
        // Config text, shown with its control characters escaped.
        let mut row: Vec<String> =
            [d.name.clone(), provider(d), d.description.clone().unwrap_or_default(), ui.at(&d.at)]
                .iter()
                .map(|cell| printable(cell).into_owned())
                .collect();
        if args.values {
            // One line per secret: control characters are shown escaped.
            row.push(v.as_deref().map(|v| v.escape_debug().to_string()).unwrap_or_default());
        }
        rows.push(row);
    }
    ui.stdout(format_table(&rows).as_bytes())?;
    Ok(ExitStatus::SUCCESS)
}

pub(super) fn format_table(rows: &[Vec<String>]) -> String {
    let cols = rows[0].len();
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == cols {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
