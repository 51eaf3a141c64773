//! `fnox set NAME [VALUE]`.

use std::{
    io::{IsTerminal, Read},
    path::PathBuf,
};

use zeroize::Zeroizing;

use super::App;
use crate::{
    config::{
        self,
        edit::{self, SecretUpdate},
        is_valid_name, write,
    },
    error::{ConfigError, Error},
    secret::SecretBytes,
    value,
};

/// Encrypt a value and store it in fnox.toml.
///
/// The value comes from VALUE, else from stdin when it is not a terminal
/// (one trailing newline dropped unless --raw), else from a hidden prompt.
/// The entry is updated in the file that defines it; a new one goes to the
/// nearest fnox.toml ([profiles.NAME.secrets] with --profile). Only that
/// entry's line changes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox set DATABASE_URL                      prompt for the value (hidden)
  printf %s \"$TOKEN\" | fnox set API_TOKEN    read it from stdin
  fnox set TLS_KEY --from-file server.key    store a file's bytes verbatim
  fnox set -P production API_TOKEN < token   a production-only value")]
pub struct Args {
    /// Secret name (an environment variable name: [A-Za-z_][A-Za-z0-9_]*).
    pub name: String,

    /// The value. Prefer stdin or the prompt: a value on the command line
    /// is visible in shell history and to `ps`.
    pub value: Option<String>,

    /// Encrypt with this provider (default: the entry's current provider,
    /// else `default_provider`, else the only provider).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Read the value from this file, byte for byte.
    #[arg(long, value_name = "PATH", conflicts_with = "value")]
    pub from_file: Option<PathBuf>,

    /// Keep stdin's bytes verbatim (do not drop one trailing newline).
    #[arg(long)]
    pub raw: bool,

    /// Accept an empty value (otherwise empty input is refused, so that a
    /// failed command in a pipe cannot blank a secret).
    #[arg(long)]
    pub allow_empty: bool,

    /// Store the value in the envelope format (a data key encrypts it, the
    /// provider wraps only the data key). Automatic above the provider's
    /// size limit (4096 bytes for aws-kms).
    #[arg(long)]
    pub envelope: bool,

    /// A description, shown by `fnox list`.
    #[arg(short, long, value_name = "TEXT")]
    pub description: Option<String>,
}

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    if !is_valid_name(&args.name) {
        return Err(Error::Usage(format!(
            "`{}` is not a valid secret name: use letters, digits and `_`, not starting with a digit",
            args.name
        )));
    }
    let config = app.load(true)?;
    let existing = config.secrets.get(&args.name).filter(|d| d.in_profile == config.in_profile());
    let provider_name = args
        .provider
        .clone()
        .or_else(|| existing.and_then(|d| d.provider.clone()))
        // A new profile override keeps the provider of the entry it overrides.
        .or_else(|| config.secrets.get(&args.name).and_then(|d| d.provider.clone()))
        .or_else(|| config.default_provider.clone())
        .ok_or_else(|| Error::NoDefaultProvider {
            name: args.name.clone(),
            defined: config.provider_names(),
        })?;
    // The old value's token, when only the value changes: replaced in place.
    let in_place = existing
        .filter(|d| d.provider.as_deref() == Some(provider_name.as_str()))
        .filter(|_| args.description.is_none())
        .and_then(|d| d.value_span.clone());
    let (file, table) = match existing {
        Some(def) => (def.at.file.clone(), def.table.clone()),
        None => {
            let file = config
                .write_target
                .clone()
                .ok_or_else(|| ConfigError::NotFound { cwd: app.settings.cwd.clone() })?;
            let table = if config.in_profile() {
                vec!["profiles".into(), config.profile.clone(), "secrets".into()]
            } else {
                vec!["secrets".into()]
            };
            (file, table)
        }
    };
    let registry = app.registry(&config);
    // Large values: the loaded config (with the old value) is not needed any more.
    drop(config);
    let plaintext = read_value(app, &args)?;
    if plaintext.is_empty() && !args.allow_empty {
        return Err(Error::Failed(format!(
            "the value for `{}` is empty; nothing was changed (pass --allow-empty to store an empty value)",
            args.name
        )));
    }
    let stored = super::runtime()?.block_on(async {
        let provider = registry.get(&provider_name).await?;
        value::seal(provider.as_ref(), &args.name, &plaintext, args.envelope).await.map_err(
            |source| Error::Encrypt {
                name: args.name.clone(),
                provider: provider_name.clone(),
                file: file.clone(),
                source,
            },
        )
    })?;
    drop(plaintext);
    let update = SecretUpdate {
        provider: Some(&provider_name),
        value: &stored,
        description: args.description.as_deref(),
    };
    write::modify(&file, |text| {
        if let Some((span, digest)) = in_place
            && config::digest(text) == digest
        {
            return Ok((Some(edit::splice(text, span, &stored)), ()));
        }
        edit::set_secret(text, &table, &args.name, update)
            .map(|new| (Some(new), ()))
            .map_err(|e| edit_error(&file, e))
    })?;
    let place = if table.first().is_some_and(|t| t == "profiles") {
        format!("{} [{}]", crate::error::shown(&file), table.join("."))
    } else {
        crate::error::shown(&file).to_string()
    };
    app.note(&format!("set {} (provider `{provider_name}`) in {place}", args.name));
    Ok(())
}

/// Maps an edit failure to an error naming the file.
pub(super) fn edit_error(file: &std::path::Path, e: edit::EditError) -> Error {
    Error::Io {
        context: format!("cannot update {}", crate::error::shown(file)),
        source: std::io::Error::other(e),
    }
}

fn read_value(app: &App, args: &Args) -> Result<SecretBytes, Error> {
    if let Some(v) = &args.value {
        app.warn("a value on the command line is visible in shell history and to `ps`; pipe it on stdin instead");
        return Ok(SecretBytes::from_slice(v.as_bytes()));
    }
    if let Some(path) = &args.from_file {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        return Ok(SecretBytes::new(bytes));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return prompt(&TtyPrompt, &args.name);
    }
    let mut buf = Zeroizing::new(Vec::new());
    stdin
        .lock()
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("cannot read the value from stdin", e))?;
    if !args.raw {
        let len = buf.len();
        if buf.ends_with(b"\r\n") {
            buf.truncate(len - 2);
        } else if buf.ends_with(b"\n") {
            buf.truncate(len - 1);
        }
    }
    Ok(SecretBytes::from_slice(&buf))
}

/// Asks for a value without echoing it.
pub trait Prompt {
    /// Shows `message` and reads one line, hidden.
    fn hidden(&self, message: &str) -> std::io::Result<Zeroizing<String>>;
}

/// The terminal prompt (reads `/dev/tty`).
#[derive(Debug)]
pub struct TtyPrompt;

impl Prompt for TtyPrompt {
    fn hidden(&self, message: &str) -> std::io::Result<Zeroizing<String>> {
        rpassword::prompt_password(message).map(Zeroizing::new)
    }
}

/// Reads a value through `p`, asking twice so a typo is caught.
pub fn prompt(p: &dyn Prompt, name: &str) -> Result<SecretBytes, Error> {
    let io = |e| Error::io("cannot read the value from the terminal", e);
    let first = p.hidden(&format!("Value for {name}: ")).map_err(io)?;
    let second = p.hidden("Again, to confirm: ").map_err(io)?;
    if *first != *second {
        return Err(Error::Failed("the two values differ; nothing was changed".into()));
    }
    Ok(SecretBytes::from_slice(first.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    struct Scripted(RefCell<Vec<&'static str>>);

    impl Prompt for Scripted {
        fn hidden(&self, _: &str) -> std::io::Result<Zeroizing<String>> {
            Ok(Zeroizing::new(self.0.borrow_mut().remove(0).to_string()))
        }
    }

    #[test]
    fn prompt_asks_twice() {
        let p = Scripted(RefCell::new(vec!["s3cret", "s3cret"]));
        assert_eq!(prompt(&p, "A").unwrap().expose(), b"s3cret");
        let p = Scripted(RefCell::new(vec!["s3cret", "s3cre"]));
        assert!(prompt(&p, "A").is_err());
    }
}
