//! `fnox export`.

mod dry_run;
mod header;
mod structured;

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::PathBuf, time::SystemTime};

use fnox_core::{Plaintext, config::IfMissing, inject::Target};
use zeroize::Zeroizing;

use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `NAME='value'` lines for dotenv loaders (also `env`).
    #[value(alias = "env")]
    Dotenv,
    /// `export NAME='value'` lines for `source` in sh/bash/zsh.
    Shell,
    /// One JSON object `{"NAME": "value"}` (values must be UTF-8).
    Json,
    /// One YAML mapping, `NAME: "value"` lines (values must be UTF-8).
    Yaml,
    /// One TOML table, `NAME = "value"` lines (values must be UTF-8).
    Toml,
    /// Append to $GITHUB_ENV with GitHub's multi-line syntax, after
    /// printing `::add-mask::` for every line of every secret value (not
    /// for a plain default, unless marked `sensitive = true`).
    Github,
}

/// Print the secrets of the active profile for another tool to load.
///
/// Values are quoted so that every byte comes back as it was (newlines,
/// quotes, `$`, backslashes). With -o the file is created with mode 0600.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox export -o .env                         a dotenv file (0600) for docker compose
  eval \"$(fnox export --format shell)\"        load into the current shell
  fnox -P ci export --format github           in a GitHub Actions step
  fnox export --format json --only A,B
  fnox export -o .env --dry-run               which secrets would be written")]
pub struct Args {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "dotenv")]
    pub format: Format,

    /// Resolve every secret and say which would be written where; write
    /// nothing and print no value.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Start with comment lines: the profile, the time and the number of
    /// secrets (dotenv, shell, yaml and toml; JSON has no comments).
    #[arg(long)]
    pub header: bool,

    /// Write to this file (mode 0600) instead of stdout. With `github`, the
    /// file to append to instead of $GITHUB_ENV.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only these secrets (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,

    /// Include the secrets with `env = "exec"` or `env = false`, which are
    /// left out by default.
    #[arg(long)]
    pub all: bool,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    if args.header && matches!(args.format, Format::Json | Format::Github) {
        return Err(CommandError::usage(format!(
            "--header writes comment lines, which --format {} cannot hold",
            if args.format == Format::Json { "json" } else { "github" }
        )));
    }
    let values =
        env.resolve_selected(ui, &args.only, Target::Shell, args.all, IfMissing::Warn)?.values;
    let output = args.output.clone();
    if args.dry_run {
        return dry_run::report(ui, env, &args, &values);
    }
    match args.format {
        Format::Github => {
            github(ui, &values, github_target(env, args.output)?)?;
        }
        format => {
            let mut text = render(format, &values)?;
            if args.header {
                let head =
                    header::header(&env.load.profile_label(), values.len(), SystemTime::now());
                let mut with_head = Zeroizing::new(Vec::with_capacity(head.len() + text.len()));
                with_head.extend_from_slice(head.as_bytes());
                with_head.extend_from_slice(&text);
                text = with_head;
            }
            match &args.output {
                Some(path) => fnox_core::config::write::write_atomic(path, &text, 0o600)
                    .map_err(fnox_core::Error::from)?,
                None => ui.stdout(&text)?,
            }
        }
    }
    if let Some(path) = &output {
        super::plaintext::warn_if_git_sees(ui, &env.cwd().join(path));
    }
    Ok(ExitStatus::SUCCESS)
}

fn render(
    format: Format,
    values: &[(String, Plaintext)],
) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    let mut out = Zeroizing::new(Vec::new());
    match format {
        Format::Dotenv | Format::Shell => {
            for (name, value) in values {
                if format == Format::Shell {
                    out.extend_from_slice(b"export ");
                }
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                let quoted = if format == Format::Shell {
                    shell_quote(name, value.expose())?
                } else {
                    dotenv_quote(name, value.expose())?
                };
                out.extend_from_slice(&quoted);
                out.push(b'\n');
            }
        }
        Format::Json => {
            let mut map = serde_json::Map::new();
            for (name, value) in values {
                let text = std::str::from_utf8(value.expose()).map_err(|_| {
                    CommandError::user(format!(
                        "secret `{name}` is not UTF-8 text, so it cannot be exported as JSON"
                    ))
                })?;
                map.insert(name.clone(), serde_json::Value::String(text.to_string()));
            }
            let text = Zeroizing::new(serde_json::Value::Object(map).to_string());
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
        Format::Yaml => out = structured::yaml(values)?,
        Format::Toml => out = structured::toml(values)?,
        Format::Github => unreachable!("github output is written by `github`"),
    }
    Ok(out)
}

/// POSIX shell quoting of secret `name`'s value (see [`posix_quote`]). A
/// NUL byte cannot be in a shell variable (bash drops it), so it is refused.
pub fn shell_quote(name: &str, value: &[u8]) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    if value.contains(&0) {
        return Err(CommandError::user(format!(
            "secret `{name}` contains a NUL byte, which a shell variable cannot hold; use `fnox get -n {name}` to write it to a file"
        )));
    }
    Ok(posix_quote(value))
}

/// POSIX shell single quoting: every byte between `'...'` is literal, a
/// `'` is written `\'` outside the quotes, and no two quotes ever touch
/// (zsh's RC_QUOTES reads `''` inside a string as a quote); `''` only for
/// the empty value. Used by `export --format shell` and shell activation.
pub fn posix_quote(value: &[u8]) -> Zeroizing<Vec<u8>> {
    if value.is_empty() {
        return Zeroizing::new(b"''".to_vec());
    }
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 2));
    for (i, piece) in value.split(|&b| b == b'\'').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\\'");
        }
        if !piece.is_empty() {
            out.push(b'\'');
            out.extend_from_slice(piece);
            out.push(b'\'');
        }
    }
    out
}

/// dotenv quoting that dotenvy and a POSIX shell both read back byte for
/// byte, and in which a shell expands nothing (`set -a; . ./.env` runs no
/// `$(...)` or backtick): single quotes, never double quotes (inside those
/// a shell expands `$`, backticks and `\`). A value without `'` that does
/// not end with a backslash is one single-quoted string, the form every
/// dotenv loader reads. Otherwise the value is single-quoted runs joined by
/// `\'` for each `'` and `\\` for each backslash, written outside the
/// quotes, where both read them as escapes (dotenvy's line reader would
/// take a backslash just before a closing `'` as escaping it). A newline or
/// carriage return stays literal inside the quotes: both keep it.
pub fn dotenv_quote(name: &str, value: &[u8]) -> Result<Zeroizing<Vec<u8>>, CommandError> {
    let text = std::str::from_utf8(value).map_err(|_| {
        CommandError::user(format!(
            "secret `{name}` is not UTF-8 text, so it cannot be written as dotenv"
        ))
    })?;
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 2));
    if !text.contains('\'') && !text.ends_with('\\') {
        out.push(b'\'');
        out.extend_from_slice(value);
        out.push(b'\'');
        return Ok(out);
    }
    let mut quoted = false;
    for &b in value {
        match b {
            b'\'' | b'\\' => {
                if quoted {
                    out.push(b'\'');
                    quoted = false;
                }
                out.extend_from_slice(&[b'\\', b]);
            }
            b => {
                if !quoted {
                    out.push(b'\'');
                    quoted = true;
                }
                out.push(b);
            }
        }
    }
    if quoted {
        out.push(b'\'');
    }
    Ok(out)
}

/// Opens the `--format github` target to append to: a file that does not
/// exist yet is created 0600, like `-o` files; an existing one keeps its
/// mode, and must be a regular file, not a symbolic link (which could send
/// the values anywhere) nor a FIFO or device.
fn open_for_append(target: &std::path::Path) -> Result<std::fs::File, CommandError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(target)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => CommandError::user(format!(
                "{} is a symbolic link; fnox does not append secrets through one",
                target.display()
            ))
            .hint("give the path of the file itself"),
            // A FIFO without a reader (O_NONBLOCK): not a file either.
            Some(libc::ENXIO) => not_a_file(target),
            _ => CommandError::io(format!("cannot open {}", target.display()), e),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| CommandError::io(format!("cannot open {}", target.display()), e))?;
    if !meta.file_type().is_file() {
        return Err(not_a_file(target));
    }
    Ok(file)
}

fn not_a_file(target: &std::path::Path) -> CommandError {
    CommandError::user(format!(
        "{} is not a regular file; fnox appends secrets only to a regular file",
        target.display()
    ))
}

/// `--format github`: masks first (stdout), for the secret values only,
/// then every value appended to $GITHUB_ENV as `NAME<<DELIMITER` blocks.
fn github(ui: &Ui, values: &[(String, Plaintext)], target: PathBuf) -> Result<(), CommandError> {
    let mut masks = Zeroizing::new(Vec::new());
    let mut block = Zeroizing::new(Vec::new());
    for (name, value) in values {
        let text = github_text(name, value)?;
        // A plain default is a setting: masking `debug` would hide that
        // word everywhere in the job's log.
        if value.is_secret() {
            add_masks(&mut masks, text);
        }
        let delimiter = loop {
            let d = format!("FNOX_EOF_{}", fnox_core::codec::random_hex(12));
            if !text.contains(&d) {
                break d;
            }
        };
        block.extend_from_slice(format!("{name}<<{delimiter}\n").as_bytes());
        block.extend_from_slice(value.expose());
        block.extend_from_slice(format!("\n{delimiter}\n").as_bytes());
    }
    let mut file = open_for_append(&target)?;
    ui.stdout(&masks)?;
    file.write_all(&block)
        .map_err(|e| CommandError::io(format!("cannot write {}", target.display()), e))?;
    let plural = if values.len() == 1 { "" } else { "s" };
    ui.note(&format!("exported {} secret{plural} to {}", values.len(), target.display()));
    Ok(())
}

/// The file `--format github` appends to: -o, else $GITHUB_ENV.
fn github_target(env: &Env, output: Option<PathBuf>) -> Result<PathBuf, CommandError> {
    output.or_else(|| env.fnox.env().var("GITHUB_ENV").map(PathBuf::from)).ok_or_else(|| {
        CommandError::usage("--format github needs $GITHUB_ENV (set by GitHub Actions) or -o FILE")
    })
}

/// `value` as text for GitHub, which takes nothing else.
fn github_text<'a>(name: &str, value: &'a Plaintext) -> Result<&'a str, CommandError> {
    std::str::from_utf8(value.expose()).map_err(|_| {
        CommandError::user(format!("secret `{name}` is not UTF-8 text; GitHub cannot take it"))
    })
}

/// Appends an `::add-mask::` line for every line of `text` that is not
/// blank (GitHub masks line by line). Also `ci-redact`'s.
pub(super) fn add_masks(masks: &mut Vec<u8>, text: &str) {
    for line in text.split('\n') {
        if !line.trim().is_empty() {
            // Workflow-command data escaping: % first, then CR.
            let escaped = Zeroizing::new(line.replace('%', "%25").replace('\r', "%0D"));
            masks.extend_from_slice(b"::add-mask::");
            masks.extend_from_slice(escaped.as_bytes());
            masks.push(b'\n');
        }
    }
}
