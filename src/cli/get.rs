//! `fnox get NAME`.

use super::{App, output::write_stdout};
use crate::{config::IfMissing, error::Error, resolve};

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

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let config = app.load(true)?;
    let def = config.secret(&args.name)?;
    let registry = app.registry(&config);
    let value = super::runtime()?.block_on(resolve::resolve(&config, &registry, def))?;
    let Some(value) = value else {
        let mode = app.if_missing(&config, def, IfMissing::Error);
        return match mode {
            IfMissing::Error => Err(Error::NoValue { name: def.name.clone(), at: def.at.clone() }),
            IfMissing::Warn => {
                app.warn(&format!("secret `{}` has no value ({})", def.name, def.at));
                Ok(())
            }
            IfMissing::Ignore => Ok(()),
        };
    };
    if args.json {
        let text = std::str::from_utf8(value.expose()).map_err(|_| {
            Error::Failed(format!(
                "secret `{}` is not UTF-8 text, so it cannot be shown as JSON; use `fnox get -n {}`",
                args.name, args.name
            ))
        })?;
        let mut out = zeroize::Zeroizing::new(
            serde_json::json!({ "name": args.name, "value": text }).to_string(),
        );
        out.push('\n');
        return write_stdout(out.as_bytes());
    }
    write_stdout(value.expose())?;
    if !args.no_newline {
        write_stdout(b"\n")?;
    }
    Ok(())
}
