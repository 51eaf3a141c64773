//! `fnox get NAME`.

use fnox_core::{SecretBytes, codec::decode_base64};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Decrypt a secret and print it, followed by a newline.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox get DATABASE_URL
  fnox get -n TLS_KEY > server.key              the exact bytes, no newline added
  fnox -P production get API_TOKEN
  fnox get -n --base64-decode CERT > cert.der   stored with set --base64-encode")]
pub struct Args {
    /// Secret name.
    pub name: String,

    /// Print the value's bytes alone, without a trailing newline.
    #[arg(short = 'n', long)]
    pub no_newline: bool,

    /// Print `{"name": ..., "value": ...}` (the value must be UTF-8).
    #[arg(long, conflicts_with = "no_newline")]
    pub json: bool,

    /// Decode the value from base64 (standard; line breaks ignored) and
    /// print the bytes it holds (see `set --base64-encode`).
    #[arg(long)]
    pub base64_decode: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let project = env.load_one(ui, &args.name)?;
    let value = env.get_one(ui, &project, &args.name)?;
    project.release();
    let Some(value) = value else {
        return Ok(ExitStatus::SUCCESS);
    };
    let decoded;
    let bytes = if args.base64_decode {
        decoded = base64_decoded(&args.name, value.expose())?;
        decoded.expose()
    } else {
        value.expose()
    };
    if args.json {
        let text = std::str::from_utf8(bytes).map_err(|_| {
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
    ui.stdout(bytes)?;
    if !args.no_newline {
        ui.stdout(b"\n")?;
    }
    Ok(ExitStatus::SUCCESS)
}

/// The bytes that the base64 text `value` of secret `name` holds; an error
/// (that never shows the value) when it is not base64.
fn base64_decoded(name: &str, value: &[u8]) -> Result<SecretBytes, CommandError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| decode_base64(text).ok())
        .map(SecretBytes::new)
        .ok_or_else(|| {
            CommandError::user(format!(
                "secret `{name}` is not base64, so --base64-decode cannot decode it"
            ))
            .hint(format!("`fnox get {name}` prints it as it is stored"))
        })
}
