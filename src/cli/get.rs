//! `fnox get NAME`.

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Decrypt a secret and print it, followed by a newline.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox get DATABASE_URL
  fnox get -n TLS_KEY > server.key     the exact bytes, no newline added
  fnox -P production get API_TOKEN")]
pub struct Args {
    /// Secret name.
    pub name: String,

    /// Print the value's bytes alone, without a trailing newline.
    #[arg(short = 'n', long)]
    pub no_newline: bool,

    /// Print `{"name": ..., "value": ...}` (the value must be UTF-8).
    #[arg(long, conflicts_with = "no_newline")]
    pub json: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load(ui)?;
    let Some(value) = env.get_one(ui, &project, &args.name)? else {
        return Ok(ExitStatus::SUCCESS);
    };
    if args.json {
        let text = std::str::from_utf8(value.expose()).map_err(|_| {
            CommandError::user(format!(
                "secret `{}` is not UTF-8 text, so it cannot be shown as JSON; use `fnox get -n {}`",
                args.name, args.name
            ))
        })?;
        let mut out = zeroize::Zeroizing::new(
            serde_json::json!({ "name": args.name, "value": text }).to_string(),
        );
        out.push('\n');
        ui.stdout(out.as_bytes())?;
        return Ok(ExitStatus::SUCCESS);
    }
    ui.stdout(value.expose())?;
    if !args.no_newline {
        ui.stdout(b"\n")?;
    }
    Ok(ExitStatus::SUCCESS)
}
