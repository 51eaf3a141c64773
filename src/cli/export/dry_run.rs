//! `export --dry-run`: everything a real export does up to the write (the
//! secrets resolved, the output built, so that it fails as the export
//! would), then the names and where they would go; never a value.

use clap::ValueEnum;
use fnox_core::{Plaintext, words};

use super::{Args, CommandError, Env, Format, Ui};
use crate::exit_codes::ExitStatus;

/// Reports what `args` would export: one name a line, then a summary.
pub(super) fn report(
    ui: &Ui,
    env: &Env,
    args: &Args,
    values: &[(String, Plaintext)],
) -> Result<ExitStatus, CommandError> {
    let target = match args.format {
        Format::Github => {
            let target = super::github_target(env, args.output.clone())?;
            for (name, value) in values {
                super::github_text(name, value)?;
            }
            format!("appended to {}", target.display())
        }
        format => {
            super::render(format, values)?;
            match &args.output {
                Some(path) => format!("written to {} (mode 0600)", path.display()),
                None => "printed".to_string(),
            }
        }
    };
    let format = args.format.to_possible_value().map(|v| v.get_name().to_string());
    let mut out = String::new();
    for (name, _) in values {
        out.push_str(&format!("{name}\n"));
    }
    out.push_str(&format!(
        "dry run: {} would be {target} as {}; nothing was written\n",
        words::count(values.len(), "secret", "secrets"),
        format.unwrap_or_default()
    ));
    ui.report(&out)?;
    Ok(ExitStatus::SUCCESS)
}
