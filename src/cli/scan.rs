//! `fnox scan`.

mod files;

use std::path::{Path, PathBuf};

use fnox_core::{
    SecretBytes,
    scan::{self, Finding, Scanner},
    words::count,
};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Find plaintext that should not be committed: the decrypted value of any
/// secret of the active profile (compared in memory; values shorter than 8
/// bytes are not looked for), files never to commit (fnox.local.toml, key
/// files, .env files with values) and credential shapes (private keys, age
/// identities, AWS access keys, GitHub, GitLab and Slack tokens,
/// random-looking values assigned to names such as `*_TOKEN`).
///
/// Prints `file:line: rule: what` for each finding and exits 1. A line
/// with `fnox:allow` (e.g. `# fnox:allow`) is skipped; `[scan] allow =
/// ["PATTERN", ...]` in fnox.toml skips files (gitignore-like patterns,
/// relative to that file's directory). Without PATHS: the current
/// directory (in git, the files git tracks or would add).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox scan                          the files here (in git: tracked and not ignored)
  fnox scan --staged                 what the next commit would hold (the pre-commit hook)
  fnox scan --format json src/")]
pub struct Args {
    /// Files or directories to scan [default: .].
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// A directory to scan, as jdx/fnox takes it (the same as a PATH).
    #[arg(short, long, value_name = "DIR")]
    pub dir: Vec<PathBuf>,

    /// Skip files matching this pattern (as in `[scan] allow`, relative to
    /// the working directory); can be repeated.
    #[arg(short, long, value_name = "PATTERN")]
    pub ignore: Vec<String>,

    /// Scan the staged content (the git index) of the files staged for
    /// the next commit, not the working tree.
    #[arg(long)]
    pub staged: bool,

    /// Output: `text` (file:line: rule: what) or `json`.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let (values, mut allow) = project_values(ui, env)?;
    let scanner = Scanner::new(values);
    let cwd = env.cwd();
    if !args.ignore.is_empty() {
        allow.push((cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf()), args.ignore));
    }
    let mut paths = args.paths;
    paths.extend(args.dir);
    let items = if args.staged {
        files::staged(cwd, &paths)?
    } else {
        files::working_tree(ui, cwd, &paths)?
    };
    let mut found: Vec<(String, Finding)> = Vec::new();
    let (mut flagged_files, mut scanned) = (0, 0);
    for item in &items {
        if allow.iter().any(|(base, pats)| {
            item.path
                .strip_prefix(base)
                .ok()
                .and_then(Path::to_str)
                .is_some_and(|rel| scan::allowed(pats, rel))
        }) {
            continue;
        }
        scanned += 1;
        let shown = ui.path(&item.path);
        let findings = scanner.scan(&shown, &item.content);
        flagged_files += usize::from(!findings.is_empty());
        found.extend(findings.into_iter().map(|f| (shown.clone(), f)));
    }
    if args.format == "json" {
        ui.stdout(json(&found).as_bytes())?;
    } else {
        let text: String = found
            .iter()
            .map(|(path, f)| format!("{path}:{}: {}: {}\n", f.line, f.rule.name(), f.detail))
            .collect();
        ui.report(&text)?;
    }
    if found.is_empty() {
        ui.note(&format!(
            "no plaintext secrets in {} ({} looked for)",
            count(scanned, "file", "files"),
            count(scanner.value_count(), "secret value", "secret values")
        ));
        return Ok(ExitStatus::SUCCESS);
    }
    Err(CommandError::user(format!(
        "found plaintext that should not be committed: {} in {}",
        count(found.len(), "finding", "findings"),
        count(flagged_files, "file", "files")
    ))
    .hint("take the plaintext out (`fnox set NAME` keeps a value encrypted), or mark a line that is safe with `fnox:allow` in a comment, or list the file in `[scan] allow = [...]` in fnox.toml"))
}

/// The values of the active profile's secrets, and the `[scan] allow`
/// lists of the loaded files (each with its file's directory). A secret
/// that cannot be decrypted is warned about and not looked for.
type AllowLists = Vec<(PathBuf, Vec<String>)>;

fn project_values(
    ui: &Ui,
    env: &Env,
) -> Result<(Vec<(String, SecretBytes)>, AllowLists), CommandError> {
    let project = env.load_with(ui, &env.load)?;
    let config = project.config();
    let mut allow = Vec::new();
    for file in &config.files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else { continue };
        let Some(list) = doc.get("scan").and_then(|s| s.get("allow")).and_then(|a| a.as_array())
        else {
            continue;
        };
        let pats = list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        let base = file.parent().unwrap_or(Path::new("/"));
        allow.push((base.canonicalize().unwrap_or_else(|_| base.to_path_buf()), pats));
    }
    let mut values = Vec::new();
    for (def, outcome) in project.resolve_each(&[])? {
        match outcome {
            Ok(Some(value)) if value.is_secret() => {
                values.push((def.name.clone(), SecretBytes::from_slice(value.expose())));
            }
            Ok(_) => {}
            Err(e) => {
                let err = CommandError::from(e);
                ui.warn(&ui.relative(&format!(
                    "{}; the value of `{}` is not looked for",
                    err.message, def.name
                )));
            }
        }
    }
    Ok((values, allow))
}

/// The findings as a JSON array of `{path, line, rule, detail}`.
fn json(found: &[(String, Finding)]) -> String {
    let list: Vec<serde_json::Value> = found
        .iter()
        .map(|(path, f)| {
            serde_json::json!({"path": path, "line": f.line, "rule": f.rule.name(), "detail": f.detail})
        })
        .collect();
    format!("{}\n", serde_json::to_string_pretty(&list).expect("JSON"))
}
