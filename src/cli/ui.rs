//! [`Ui`]: the terminal, owned in one place: stdout, stderr with its
//! colours, prompts, and how paths and locations are shown.

use std::{
    borrow::Cow,
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use fnox_core::{JdxItem, Notice, Notify, config::Location};
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
    non_interactive: bool,
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
        Self {
            color,
            quiet,
            verbose: verbose && !quiet,
            non_interactive: false,
            cwd,
            prompt: Box::new(TtyPrompt),
        }
    }

    /// The same terminal, never asking anything when `never_ask`
    /// (`--non-interactive`).
    #[must_use]
    pub fn with_non_interactive(mut self, never_ask: bool) -> Self {
        self.non_interactive = never_ask;
        self
    }

    /// Why nothing may be asked: `--non-interactive`, or stdin is not a
    /// terminal; `None` when a question can be asked.
    pub fn cannot_ask(&self) -> Option<&'static str> {
        if self.non_interactive {
            Some("no question is asked with --non-interactive")
        } else if !std::io::stdin().is_terminal() {
            Some("stdin is not a terminal")
        } else {
            None
        }
    }

    /// True with `--non-interactive` (or `FNOX_NON_INTERACTIVE`).
    pub fn non_interactive(&self) -> bool {
        self.non_interactive
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
            eprintln!("{}", printable_lines(msg));
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
            eprintln!("  cause: {}", printable_lines(&self.relative(cause)));
        }
        for hint in &err.hints {
            eprintln!("  hint: {}", printable_lines(hint));
        }
    }

    fn labeled(&self, label: &str, msg: &str) {
        let msg = printable_lines(msg);
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
        relative_to(&self.cwd, path)
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

    /// Writes a text report (a table, a plan) to stdout, with control
    /// characters escaped (see [`printable`]): it shows config text.
    pub fn report(&self, text: &str) -> Result<(), CommandError> {
        self.stdout(printable_lines(text).as_bytes())
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

    /// Where the core's notices go: notes on stderr, unless `--quiet`;
    /// each one once per run.
    pub fn notify(&self) -> Notify {
        let (quiet, cwd) = (self.quiet, self.cwd.clone());
        let shown = std::sync::Mutex::new(std::collections::HashSet::new());
        Arc::new(move |notice| {
            if quiet {
                return;
            }
            if let Notice::WaitingForLock { path } = &notice {
                let shown = relative_to(&cwd, path);
                eprintln!("waiting for {} (locked by another fnox)", printable_lines(&shown));
                return;
            }
            let text = printable_lines(&notice_text(&notice, &cwd)).into_owned();
            if shown.lock().unwrap_or_else(|e| e.into_inner()).insert(text.clone()) {
                eprintln!("{text}");
            }
        })
    }
}

/// `text` as it may be shown on a terminal: every control character (C0
/// including newline and tab, DEL, C1) and the bidirectional controls that
/// reorder what is shown are escaped as Rust writes them (`\u{1b}`, `\n`).
/// Text from a config file (a description, a provider name, a path) goes
/// through here before it is shown, so it cannot move the cursor, set the
/// window title (ESC ] ... BEL), or hide or reorder what follows.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`printable`] for each line of `text`, keeping its line breaks.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(printable).collect::<Vec<_>>().join("\n"))
}

/// `value` as pretty JSON for a terminal: serde_json escapes C0 controls
/// in strings already; DEL, C1 and the bidirectional controls are escaped
/// here too (`\u009b`), which every JSON reader decodes to the same text.
pub fn printable_json(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if c != '\n' && needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `path` relative to `cwd` when inside it, else as it is.
fn relative_to(cwd: &Path, path: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// The words for a notice; paths inside `cwd` are shown relative to it.
fn notice_text(notice: &Notice, cwd: &Path) -> String {
    match notice {
        Notice::UnboundKmsValue { secret } => format!(
            "note: secret `{secret}` is not bound to its name (it was encrypted without EncryptionContext); `fnox rotate` will bind it"
        ),
        Notice::UnbindableTransitKey { key, kind } => format!(
            "note: transit key `{key}` ({kind}) cannot bind values to secret names; use an aes256-gcm96 key with derived=true"
        ),
        Notice::RetiredLocalKey { secret, key_id } => format!(
            "warning: secret `{secret}` was decrypted with retired local key {key_id}; run `fnox rotate` to re-encrypt it under the current key"
        ),
        Notice::TrackedKeyFile { path } => format!(
            "warning: key file {} is tracked by git, so its keys are in the repository's history; untrack it (`git rm --cached`), ignore it, and move to a new key (`fnox rotate --new-key`)",
            path.display()
        ),
        Notice::JdxSettings { ignored, unsupported } => jdx_settings(ignored, unsupported, cwd),
        Notice::AgentPassedBy { reason } => {
            format!("warning: fnox agent: {reason}; decrypting without it")
        }
        Notice::AgentSetting { value } => format!(
            "warning: FNOX_AGENT={} is neither on nor off (on, off, 1, 0, true, false, yes, no); the agent is used",
            printable(value)
        ),
        other => format!("note: {other:?}"),
    }
}

/// The note about a config's jdx/fnox keys with no effect here and its
/// providers of types fnox does not implement: one line for each kind.
fn jdx_settings(ignored: &[JdxItem], unsupported: &[JdxItem], cwd: &Path) -> String {
    let at = |i: &JdxItem| {
        let file = relative_to(cwd, &i.file);
        if i.line == 0 { file } else { format!("{file}:{}", i.line) }
    };
    let mut lines = Vec::new();
    if !ignored.is_empty() {
        let keys: Vec<String> =
            ignored.iter().map(|i| format!("`{}` ({})", i.name, at(i))).collect();
        lines.push(format!(
            "note: these jdx/fnox settings have no effect in fnox: {}",
            keys.join(", ")
        ));
    }
    if !unsupported.is_empty() {
        let providers: Vec<String> = unsupported
            .iter()
            .map(|i| format!("`{}` ({}, {})", i.name, i.kind.as_deref().unwrap_or("?"), at(i)))
            .collect();
        lines.push(format!(
            "note: fnox does not support the type of {} {}; a secret that needs one fails when it is read",
            if unsupported.len() == 1 { "provider" } else { "providers" },
            providers.join(", ")
        ));
    }
    lines.join("\n")
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
        let at = Location::new(std::path::Path::new("/p/proj/sub/fnox.toml"), 3);
        assert_eq!(ui.at(&at), "sub/fnox.toml:3");
        assert_eq!(
            ui.relative("cannot read /p/proj/a and /p/projx/b"),
            "cannot read a and /p/projx/b"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert_eq!(printable("\u{1b}]0;pwned\u{7}"), "\\u{1b}]0;pwned\\u{7}");
        assert_eq!(printable("a\tb\nc\u{7f}\u{9b}\u{202e}"), "a\\tb\\nc\\u{7f}\\u{9b}\\u{202e}");
        assert_eq!(printable_lines("one\x1b[2J\ntwo\n"), "one\\u{1b}[2J\ntwo\n");
        let json = printable_json(&serde_json::json!({"d": "\u{1b}]0;x\u{7}\u{9b}\u{202e}"}));
        assert_eq!(json, "{\n  \"d\": \"\\u001b]0;x\\u0007\\u009b\\u202e\"\n}\n");
    }

    #[test]
    fn color_follows_the_flag_and_no_color() {
        assert!(use_color(clap::ColorChoice::Always, true));
        assert!(!use_color(clap::ColorChoice::Never, false));
        // Under `cargo test` stderr is captured, not a terminal.
        assert!(!use_color(clap::ColorChoice::Auto, true));
    }
}
