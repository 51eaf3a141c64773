//! [`Ui`]: the terminal, owned in one place: stdout, stderr with its
//! colours, prompts, and how paths and locations are shown.

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use fnox_core::{Notice, Notify, config::Location};
use zeroize::Zeroizing;

use super::error::CommandError;

/// Asks for a value without echoing it (the terminal, or a script in tests).
pub trait Prompt: Send + Sync {
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

/// The terminal, as commands see it.
pub struct Ui {
    color: bool,
    quiet: bool,
    verbose: bool,
    cwd: PathBuf,
    prompt: Box<dyn Prompt>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui").field("color", &self.color).field("quiet", &self.quiet).finish()
    }
}

/// `--color`, and the `NO_COLOR` convention.
pub fn use_color(choice: clap::ColorChoice, no_color: bool) -> bool {
    match choice {
        clap::ColorChoice::Always => true,
        clap::ColorChoice::Never => false,
        clap::ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
    }
}

impl Ui {
    /// A terminal with colours when `color`, notes unless `quiet`; paths
    /// inside `cwd` are shown relative to it.
    pub fn new(color: bool, quiet: bool, verbose: bool, cwd: PathBuf) -> Self {
        Self { color, quiet, verbose: verbose && !quiet, cwd, prompt: Box::new(TtyPrompt) }
    }

    /// True with `--verbose`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// True with `--quiet`.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// A note on stderr (not with `--quiet`).
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// A warning on stderr (not with `--quiet`).
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            self.labeled("warning", msg);
        }
    }

    /// Prints `err` with its causes and hints on stderr.
    pub fn error(&self, err: &CommandError) {
        self.labeled("error", &self.relative(&err.message));
        for cause in &err.causes {
            eprintln!("  cause: {}", self.relative(cause));
        }
        for hint in &err.hints {
            eprintln!("  hint: {hint}");
        }
    }

    fn labeled(&self, label: &str, msg: &str) {
        let code = if label == "error" { "31" } else { "33" };
        if self.color {
            eprintln!("\x1b[1;{code}m{label}\x1b[0m: {msg}");
        } else {
            eprintln!("{label}: {msg}");
        }
    }

    /// `text` with paths inside the working directory made relative.
    pub fn relative(&self, text: &str) -> String {
        let base = format!("{}/", self.cwd.display());
        if base == "//" { text.to_string() } else { text.replace(&base, "") }
    }

    /// `path` as messages show it: relative to the working directory when
    /// inside it.
    pub fn path(&self, path: &Path) -> String {
        match path.strip_prefix(&self.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => path.display().to_string(),
        }
    }

    /// `path:line` (or `path` when the line is unknown), as [`Ui::path`].
    pub fn at(&self, at: &Location) -> String {
        if at.line == 0 {
            self.path(&at.file)
        } else {
            format!("{}:{}", self.path(&at.file), at.line)
        }
    }

    /// Writes `bytes` to stdout. A closed pipe (e.g. `| head`) is not an error.
    pub fn stdout(&self, bytes: &[u8]) -> Result<(), CommandError> {
        let mut out = std::io::stdout().lock();
        match out.write_all(bytes).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(CommandError::io("cannot write to stdout", e)),
        }
    }

    /// Asks `question` on stderr and reads a yes/no answer from stdin.
    pub fn confirm(&self, question: &str) -> Result<bool, CommandError> {
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| CommandError::io("cannot read the answer", e))?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
    }

    /// Reads a hidden line from the terminal.
    pub fn hidden(&self, message: &str) -> std::io::Result<Zeroizing<String>> {
        self.prompt.hidden(message)
    }

    /// Where the core's notices go: notes on stderr, unless `--quiet`.
    pub fn notify(&self) -> Notify {
        let (quiet, cwd) = (self.quiet, self.cwd.clone());
        Arc::new(move |notice| {
            if quiet {
                return;
            }
            match &notice {
                Notice::WaitingForLock { path } => {
                    let shown = match path.strip_prefix(&cwd) {
                        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
                        _ => path.display().to_string(),
                    };
                    eprintln!("waiting for {shown} (locked by another fnox)");
                }
                other => eprintln!("{}", notice_text(other)),
            }
        })
    }
}

/// The words for a notice.
fn notice_text(notice: &Notice) -> String {
    match notice {
        Notice::UnboundKmsValue { secret } => format!(
            "note: secret `{secret}` is not bound to its name (it was encrypted without EncryptionContext); `fnox rotate` will bind it"
        ),
        Notice::UnbindableTransitKey { key, kind } => format!(
            "note: transit key `{key}` ({kind}) cannot bind values to secret names; use an aes256-gcm96 key with derived=true"
        ),
        other => format!("note: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_the_working_directory_are_relative() {
        let ui = Ui::new(false, false, false, "/p/proj".into());
        assert_eq!(ui.path(Path::new("/p/proj/fnox.toml")), "fnox.toml");
        assert_eq!(ui.path(Path::new("/p/fnox.toml")), "/p/fnox.toml");
        assert_eq!(ui.path(Path::new("/p/project/fnox.toml")), "/p/project/fnox.toml");
        let at = Location { file: "/p/proj/sub/fnox.toml".into(), line: 3 };
        assert_eq!(ui.at(&at), "sub/fnox.toml:3");
        assert_eq!(
            ui.relative("cannot read /p/proj/a and /p/projx/b"),
            "cannot read a and /p/projx/b"
        );
    }

    #[test]
    fn color_follows_the_flag_and_no_color() {
        assert!(use_color(clap::ColorChoice::Always, true));
        assert!(!use_color(clap::ColorChoice::Never, false));
        // Under `cargo test` stderr is captured, not a terminal.
        assert!(!use_color(clap::ColorChoice::Auto, true));
    }
}
