//! `fnox init`.

use std::path::PathBuf;

use age::secrecy::ExposeSecret;
use toml_edit::Value;

use super::App;
use crate::{
    config::{edit, write},
    error::Error,
    providers::local,
};

/// The providers `init` can set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// AES-256-GCM with a key in $FNOX_CONFIG_DIR/local.key (no account needed).
    Local,
    /// age: an identity in $FNOX_CONFIG_DIR/age.txt, its recipient in fnox.toml.
    Age,
    /// AWS KMS: needs --key-id (and --region unless AWS_REGION is set).
    #[value(name = "aws-kms")]
    AwsKms,
}

/// Create fnox.toml in the current directory.
///
/// By default it gets a `local` provider and its key is created, so `set`
/// and `get` work at once. With --provider age, an age identity is created
/// in $FNOX_CONFIG_DIR/age.txt (unless one is there) and its public key is
/// written as the provider's recipient. In a directory that has fnox.toml
/// already, the provider is added to it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox init                     local provider, key created in ~/.config/fnox/local.key
  fnox init --provider age      age provider with a new identity (share its recipient)
  fnox init --provider aws-kms --key-id alias/app --region us-east-1")]
pub struct Args {
    /// Which provider to set up.
    #[arg(short = 'p', long, value_enum, default_value = "local")]
    pub provider: Kind,

    /// The provider's name in fnox.toml (default: its type).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// aws-kms: the key (ARN, key id or alias/NAME).
    #[arg(long, value_name = "KEY", required_if_eq("provider", "aws-kms"))]
    pub key_id: Option<String>,

    /// aws-kms: the AWS region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

const HEADER: &str = "\
# fnox.toml: this project's secrets. Values are encrypted; this file is
# safe to commit. Keys live outside the repository.
#   fnox set NAME      encrypt a value (from stdin or a hidden prompt)
#   fnox get NAME      decrypt it
#   fnox exec -- CMD   run CMD with every secret in its environment
";

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let path =
        app.settings.config_file.clone().unwrap_or_else(|| app.settings.cwd.join("fnox.toml"));
    let name = args.name.clone().unwrap_or_else(|| match args.provider {
        Kind::Local => "local".into(),
        Kind::Age => "age".into(),
        Kind::AwsKms => "kms".into(),
    });
    let (fields, about) = match args.provider {
        Kind::Local => setup_local(app)?,
        Kind::Age => setup_age(app)?,
        Kind::AwsKms => {
            let mut fields = vec![("type", Value::from("aws-kms"))];
            let key = args.key_id.clone().unwrap_or_default();
            fields.push(("key_id", Value::from(key.as_str())));
            if let Some(region) = &args.region {
                fields.push(("region", Value::from(region.as_str())));
            }
            (fields, format!("key {key}"))
        }
    };
    let created = !path.exists();
    if created {
        let provider = edit::add_provider("", &name, &fields)
            .map_err(|e| super::set::edit_error(&path, e))?
            .unwrap_or_default();
        let text = format!("{HEADER}\n{provider}\n[secrets]\n");
        match write::create_new(&path, text.as_bytes(), 0o644) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return run(app, args);
            }
            Err(e) => return Err(Error::io(format!("cannot create {}", path.display()), e)),
        }
    } else {
        let added = write::modify(&path, |text| {
            edit::add_provider(text, &name, &fields)
                .map(|new| (new.clone(), new.is_some()))
                .map_err(|e| super::set::edit_error(&path, e))
        })?;
        if !added {
            app.note(&format!(
                "{} already has a provider `{name}`; nothing changed",
                crate::error::shown(&path)
            ));
            if args.provider == Kind::Age {
                app.note(&format!(
                    "your {about}: ask a teammate to add it to `recipients` of provider `{name}` and run `fnox rotate --provider {name}`"
                ));
            }
            return Ok(());
        }
    }
    let verb = if created { "created" } else { "updated" };
    app.note(&format!("{verb} {} with provider `{name}` ({about})", crate::error::shown(&path)));
    app.note("next: `fnox set NAME` to add a secret, `fnox get NAME` to read it");
    Ok(())
}

/// The provider's fields for fnox.toml, and a note for the user.
type Setup = (Vec<(&'static str, Value)>, String);

fn setup_local(app: &App) -> Result<Setup, Error> {
    let about = if std::env::var_os("FNOX_LOCAL_KEY").is_some_and(|v| !v.is_empty()) {
        "key from FNOX_LOCAL_KEY".to_string()
    } else {
        let path = app.settings.config_dir.join("local.key");
        let ring = local::load_or_create(&path, true).map_err(|source| Error::Provider {
            provider: "local".into(),
            at: crate::error::Location { file: path.clone(), line: 0 },
            source,
        })?;
        format!("key {} in {}", ring.primary().id_hex(), path.display())
    };
    Ok((vec![("type", "local".into())], about))
}

fn setup_age(app: &App) -> Result<Setup, Error> {
    let path: PathBuf = std::env::var_os("FNOX_AGE_KEY_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| app.settings.config_dir.join("age.txt"));
    let recipient = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .and_then(|l| l.parse::<age::x25519::Identity>().ok())
                .ok_or_else(|| {
                    Error::Failed(format!(
                        "{} exists but holds no age X25519 identity; add the provider by hand with your recipient",
                        path.display()
                    ))
                })?;
            app.note(&format!("using the age identity in {}", path.display()));
            id.to_public().to_string()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = age::x25519::Identity::generate();
            let public = id.to_public().to_string();
            if let Some(dir) = path.parent() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            }
            let text = zeroize::Zeroizing::new(format!(
                "# created by fnox init\n# public key: {public}\n{}\n",
                id.to_string().expose_secret()
            ));
            write::create_new(&path, text.as_bytes(), 0o600)
                .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
            app.note(&format!("created age identity {}", path.display()));
            public
        }
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    let mut recipients = toml_edit::Array::new();
    recipients.push(recipient.as_str());
    let about = format!("recipient {recipient}");
    Ok((vec![("type", "age".into()), ("recipients", Value::Array(recipients))], about))
}
