//! [`TtyPrompter`]: a key's questions (an age plugin's PIN, "touch your
//! key") put to the user on the controlling terminal, `/dev/tty`, so that
//! they work while stdin and stdout are pipes. Messages go to stderr.
//! Without a terminal, or with `--non-interactive`, every request is
//! refused and the core says that input was needed.

use std::{
    fs::OpenOptions,
    io::{BufRead, BufReader, Write},
};

use fnox_core::prompt::Prompter;
use zeroize::Zeroizing;

use super::ui::printable;

/// Asks on `/dev/tty`; refuses everything when `never_ask`.
#[derive(Debug, Clone, Copy)]
pub struct TtyPrompter {
    /// `--non-interactive`.
    pub never_ask: bool,
}

impl TtyPrompter {
    /// Shows `prompt` on the terminal and reads one line (echoed).
    fn line(&self, prompt: &str) -> Option<String> {
        if self.never_ask {
            return None;
        }
        let tty = OpenOptions::new().read(true).write(true).open("/dev/tty").ok()?;
        let mut out = &tty;
        write!(out, "{prompt}").and_then(|()| out.flush()).ok()?;
        let mut answer = String::new();
        BufReader::new(&tty).read_line(&mut answer).ok()?;
        Some(answer.trim_end_matches(['\r', '\n']).to_string())
    }
}

impl Prompter for TtyPrompter {
    fn message(&self, message: &str) {
        eprintln!("{}", printable(message));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let no = no.unwrap_or("no");
        let answer =
            self.line(&format!("{} [{}/{}] ", printable(message), printable(yes), printable(no)))?;
        let answer = answer.trim();
        Some(answer.eq_ignore_ascii_case(yes) || answer.eq_ignore_ascii_case("y"))
    }

    fn ask(&self, description: &str) -> Option<String> {
        self.line(&format!("{}: ", printable(description)))
    }

    fn ask_secret(&self, description: &str) -> Option<Zeroizing<String>> {
        if self.never_ask {
            return None;
        }
        // rpassword reads /dev/tty with echo off, and fails without one.
        rpassword::prompt_password(format!("{}: ", printable(description))).ok().map(Zeroizing::new)
    }
}
