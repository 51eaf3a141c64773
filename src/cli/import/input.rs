//! What `import` reads: the format and the file (or stdin) from its
//! arguments, the entries of each format, and the ones `--filter` and
//! `--prefix` make of them.

use std::{
    collections::BTreeMap,
    ffi::OsStr,
    io::Read,
    path::{Path, PathBuf},
};

use regex::Regex;
use zeroize::Zeroizing;

use fnox_core::{config::is_valid_name, words};

use super::{
    Args, CommandError, Ui,
    dotenv::{self, Entry, ParseError},
    structured::{self, Structured},
};

/// The formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.env` lines (the default).
    Env,
    /// One JSON, TOML or YAML object of names and values.
    Structured(Structured),
}

impl Format {
    /// The format a positional argument names, if it names one.
    fn named(arg: &OsStr) -> Option<Self> {
        Some(match arg.to_str()? {
            "env" | "dotenv" => Self::Env,
            "json" => Self::Structured(Structured::Json),
            "toml" => Self::Structured(Structured::Toml),
            "yaml" | "yml" => Self::Structured(Structured::Yaml),
            _ => return None,
        })
    }

    /// The format a file name suggests, for a hint when it was read as
    /// `.env`.
    fn suggested_by(path: &Path) -> Option<&'static str> {
        match path.extension()?.to_str()? {
            "json" => Some("json"),
            "toml" => Some("toml"),
            "yaml" | "yml" => Some("yaml"),
            _ => None,
        }
    }
}

/// The input: where it came from, its format and bytes.
pub struct Input {
    /// `stdin` or the path as given.
    pub source: String,
    /// The file it was read from (None: stdin).
    pub path: Option<PathBuf>,
    pub format: Format,
    pub text: Zeroizing<Vec<u8>>,
}

/// Reads the input that `args` name. The positional argument is a format
/// when it is one of the format names, else a file (the older spelling
/// `fnox import .env`); `-i` names the file either way.
pub fn read(ui: &Ui, cwd: &Path, args: &Args) -> Result<Input, CommandError> {
    let (format, path) = match &args.source {
        Some(arg) => {
            match Format::named(arg.as_os_str()) {
                Some(format) => {
                    if args.input.is_none() && cwd.join(arg).is_file() {
                        ui.warn(&format!(
                        "`{0}` is read as the format {0}, from stdin; to import the file {0}, pass -i {0}",
                        arg.display()
                    ));
                    }
                    (format, args.input.clone())
                }
                None if args.input.is_some() => {
                    return Err(CommandError::usage(format!(
                    "two inputs: {} and -i {}; give one",
                    arg.display(),
                    args.input.as_deref().unwrap_or(Path::new("")).display()
                ))
                .hint("the first argument is a format (env, json, toml, yaml) or the file to read"));
                }
                None => (Format::Env, Some(arg.clone())),
            }
        }
        None => (Format::Env, args.input.clone()),
    };
    let path = path.filter(|p| p.as_os_str() != "-");
    let (source, text) = match &path {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| CommandError::io(format!("cannot read {}", path.display()), e))?;
            (path.display().to_string(), Zeroizing::new(bytes))
        }
        None => {
            let mut buf = Zeroizing::new(Vec::new());
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CommandError::io("cannot read stdin", e))?;
            ("stdin".to_string(), buf)
        }
    };
    Ok(Input { source, path, format, text })
}

/// `--filter` as a regular expression: one that does not compile is an
/// error, never a filter that lets nothing (or everything) through.
pub fn filter(pattern: Option<&str>) -> Result<Option<Regex>, CommandError> {
    pattern
        .map(|p| {
            Regex::new(p).map_err(|e| {
                // The regex crate shows the pattern with a caret, then
                // `error: WHAT`: the pattern is in the message already.
                let text = e.to_string();
                let what = text.lines().last().unwrap_or_default().trim_start_matches("error: ");
                let mut err = CommandError::usage(format!("--filter `{p}` is not a valid regex"));
                err.causes.push(what.to_string());
                err
            })
        })
        .transpose()
}

/// The entries of `input`, by name (a later duplicate wins): those whose
/// name `filter` matches, each renamed `prefix` + name.
pub fn entries(
    input: &Input,
    expand: bool,
    filter: Option<&Regex>,
    prefix: &str,
) -> Result<BTreeMap<String, Entry>, CommandError> {
    let source = &input.source;
    let items: Vec<(String, Result<Entry, &'static str>)> = match input.format {
        Format::Env => {
            dotenv_entries(input, expand)?.into_iter().map(|e| (e.name.clone(), Ok(e))).collect()
        }
        Format::Structured(format) => {
            let text = std::str::from_utf8(&input.text)
                .map_err(|_| CommandError::user(format!("{source} is not UTF-8 text")))?;
            structured::parse(format, text, source)?
                .into_iter()
                .map(|(name, value)| {
                    let entry = value.map(|value| Entry {
                        name: name.clone(),
                        value,
                        line: 0,
                        expanded: Vec::new(),
                        literal: 0,
                    });
                    (name, entry)
                })
                .collect()
        }
    };
    if items.is_empty() {
        return Err(CommandError::user(format!("{source} has no entries to import")));
    }
    let total = items.len();
    let mut out = BTreeMap::new();
    for (name, entry) in items {
        if filter.is_some_and(|re| !re.is_match(&name)) {
            continue;
        }
        let mut entry = entry.map_err(|what| {
            CommandError::user(format!(
                "{source}: `{name}` is {what}; fnox imports text, booleans and integers"
            ))
            .hint("write the value as a string, or leave the key out with --filter")
        })?;
        entry.name = format!("{prefix}{name}");
        if !is_valid_name(&entry.name) {
            let with = if prefix.is_empty() { "" } else { " (with --prefix)" };
            return Err(CommandError::user(format!(
                "{source}: `{}`{with} is not a valid secret name",
                entry.name
            )));
        }
        out.insert(entry.name.clone(), entry);
    }
    if out.is_empty() {
        let pattern = filter.map(Regex::as_str).unwrap_or_default();
        return Err(CommandError::user(format!(
            "--filter `{pattern}` matches no name of {source} ({} read); nothing was imported",
            words::count(total, "entry", "entries")
        )));
    }
    Ok(out)
}

/// The entries of a `.env` input.
fn dotenv_entries(input: &Input, expand: bool) -> Result<Vec<Entry>, CommandError> {
    let source = &input.source;
    dotenv::parse(&input.text, expand).map_err(|e| {
        let err = match e {
            ParseError::NotUtf8 => CommandError::user(format!("{source} is not UTF-8 text")),
            ParseError::NotAnEntry { line } => CommandError::user(format!(
                "{source}:{line}: cannot parse a line that is not NAME=VALUE"
            )),
            // A name is shown only when it is one: a line that is not may
            // be a stray piece of a value.
            ParseError::BadValue { line, name } if is_valid_name(&name) => {
                CommandError::user(format!(
                    "{source}:{line}: cannot parse the entry `{name}` (check its quotes and escapes)"
                ))
            }
            ParseError::BadValue { line, .. } => CommandError::user(format!(
                "{source}:{line}: cannot parse an entry (check its quotes and escapes)"
            )),
        };
        match input.path.as_deref().and_then(|p| Some((p, Format::suggested_by(p)?))) {
            Some((path, format)) => err.hint(format!(
                "it was read as a .env file; for {format}: fnox import {format} -i {}",
                path.display()
            )),
            None => err,
        }
    })
}
