//! `fnox init`.

use std::path::Path;

use fnox_core::{
    config::{
        LocalConfig, Location,
        edit::{self, Value},
    },
    git, plan,
    providers::{age, local},
};

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

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
/// already, the provider is added to it. Inside a git working tree,
/// fnox.local.toml and any key file created inside the tree are added to
/// .gitignore.
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

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let path = env.load.config_file.clone().unwrap_or_else(|| env.cwd().join("fnox.toml"));
    // Before any key is made: the file must be creatable or editable.
    check_target(ui, &path)?;
    let name = args.name.clone().unwrap_or_else(|| match args.provider {
        Kind::Local => "local".into(),
        Kind::Age => "age".into(),
        Kind::AwsKms => "kms".into(),
    });
    let dir = path.parent().map_or_else(|| env.cwd().to_path_buf(), Path::to_path_buf);
    let (fields, about) = match args.provider {
        Kind::Local => setup_local(ui, env, &dir)?,
        Kind::Age => setup_age(ui, env, &dir)?,
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
    let created = write_config(&path, &name, &fields, &env.fnox.lock_wait()?)?;
    ignore_in_git(ui, &dir, &dir.join("fnox.local.toml"))?;
    if created.is_none() {
        ui.note(&format!("{} already has a provider `{name}`; nothing changed", ui.path(&path)));
        if args.provider == Kind::Age {
            ui.note(&format!(
                "your {about}: ask a teammate to add it to `recipients` of provider `{name}` and run `fnox rotate --provider {name}`"
            ));
        }
        return Ok(ExitStatus::SUCCESS);
    }
    let verb = if created == Some(true) { "created" } else { "updated" };
    ui.note(&format!("{verb} {} with provider `{name}` ({about})", ui.path(&path)));
    ui.note("next: `fnox set NAME` to add a secret, `fnox get NAME` to read it");
    Ok(ExitStatus::SUCCESS)
}

/// Refuses a `path` that cannot become the config file: a symbolic link to
/// nothing (creating "it" would create the link's target somewhere else),
/// or something other than a regular file.
fn check_target(ui: &Ui, path: &Path) -> Result<(), CommandError> {
    let Ok(link) = std::fs::symlink_metadata(path) else {
        return Ok(()); // absent: it is created
    };
    let shown = ui.path(path);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(CommandError::user(format!("{shown} exists and is not a regular file"))
            .hint("move it away, or pass `-c PATH` to create the config elsewhere")),
        Err(e) if link.is_symlink() && e.kind() == std::io::ErrorKind::NotFound => {
            let target = std::fs::read_link(path).unwrap_or_default();
            Err(CommandError::user(format!(
                "{shown} is a symbolic link to {}, which does not exist",
                target.display()
            ))
            .hint(format!(
                "remove the link (`rm {shown}`) and run `fnox init` again, or create the file it points to"
            )))
        }
        Err(e) => Err(CommandError::io(format!("cannot read {shown}"), e)),
    }
}

/// Creates `path` with the provider, or adds the provider to it. `None`:
/// it has a provider of that name already; `Some(true)`: created.
fn write_config(
    path: &Path,
    name: &str,
    fields: &[(&'static str, Value)],
    wait: &fnox_core::config::write::LockWait,
) -> Result<Option<bool>, CommandError> {
    let edit_error = |source| fnox_core::Error::Edit { path: path.to_path_buf(), source };
    if !path.exists() {
        let provider =
            edit::add_provider("", name, fields).map_err(edit_error)?.unwrap_or_default();
        let text = format!("{HEADER}\n{provider}\n[secrets]\n");
        match plan::create(path, text.as_bytes(), 0o644) {
            Ok(()) => return Ok(Some(true)),
            // Someone else created it meanwhile: add to theirs.
            Err(fnox_core::Error::Create { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
    }
    let added = plan::edit_file(path, wait, |text| edit::add_provider(text, name, fields))?;
    Ok(added.then_some(false))
}

/// The provider's fields for fnox.toml, and a note for the user.
type Setup = (Vec<(&'static str, Value)>, String);

/// In a git working tree, makes git ignore `path` unless it does already:
/// a line in the `.gitignore` of `dir` (fnox.toml's directory), or of the
/// tree's top when `path` is outside `dir`; and says so. Outside a working
/// tree, nothing.
fn ignore_in_git(ui: &Ui, dir: &Path, path: &Path) -> Result<(), CommandError> {
    let Some(top) = git::exposed(path) else { return Ok(()) };
    let (dir, line) = match git::ignore_line(dir, path) {
        Some(line) => (dir, line),
        None => match git::ignore_line(&top, path) {
            Some(line) => (top.as_path(), line),
            None => return Ok(()),
        },
    };
    let gitignore = dir.join(".gitignore");
    let created = git::add_to_gitignore(dir, &line)
        .map_err(|e| CommandError::io(format!("cannot update {}", ui.path(&gitignore)), e))?;
    let verb = if created { "created" } else { "updated" };
    ui.note(&format!("{verb} {} so that git ignores {line}", ui.path(&gitignore)));
    Ok(())
}

fn setup_local(ui: &Ui, env: &Env, dir: &Path) -> Result<Setup, CommandError> {
    let ctx = env.fnox.context();
    let about = match local::key_source(ctx, &LocalConfig::default(), env.cwd()) {
        local::KeySource::File(path) => {
            if !path.exists() {
                ignore_in_git(ui, dir, &path)?;
            }
            let ring = local::load_or_create(&path, true, &ctx.notify).map_err(|source| {
                fnox_core::Error::Provider {
                    provider: "local".into(),
                    at: Location { file: path.clone(), line: 0 },
                    source,
                }
            })?;
            format!("key {} in {}", ring.primary().id_hex(), path.display())
        }
        _ => format!("key from {}", local::ENV_KEY),
    };
    Ok((vec![("type", "local".into())], about))
}

fn setup_age(ui: &Ui, env: &Env, dir: &Path) -> Result<Setup, CommandError> {
    let path = age::identity_file(env.fnox.context());
    if !path.exists() {
        ignore_in_git(ui, dir, &path)?;
    }
    let recipient = match age::load_or_create_identity(&path, &env.fnox.context().notify) {
        Ok(age::IdentityFile::Found(r)) => {
            ui.note(&format!("using the age identity in {}", ui.path(&path)));
            r
        }
        Ok(age::IdentityFile::Created(r)) => {
            ui.note(&format!("created age identity {}", path.display()));
            r
        }
        Err(source) => {
            let err = fnox_core::Error::Provider {
                provider: "age".into(),
                at: Location { file: path.clone(), line: 0 },
                source,
            };
            return Err(CommandError::from(err)
                .hint("add the provider by hand with your recipient, or point FNOX_AGE_KEY_FILE at an age identity"));
        }
    };
    let mut recipients = edit::Array::new();
    recipients.push(recipient.as_str());
    let about = format!("recipient {recipient}");
    Ok((vec![("type", "age".into()), ("recipients", Value::Array(recipients))], about))
}
