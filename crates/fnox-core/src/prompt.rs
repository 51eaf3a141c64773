//! Questions for the user that a key may need on the way (an age plugin's
//! "touch your YubiKey", its PIN). The core never reads a terminal: the
//! caller hands a [`Prompter`] to [`crate::Fnox::with_prompter`] (the CLI's
//! asks on `/dev/tty`); without one, every request is refused and the
//! provider fails with an error that says input was needed.

use std::{fmt, sync::Arc};

use zeroize::Zeroizing;

/// Shows messages to the user and asks for input. Each request returns
/// `None` when it cannot be put to the user (no terminal).
pub trait Prompter: Send + Sync + fmt::Debug {
    /// Shows `message` (e.g. "touch your key").
    fn message(&self, message: &str);
    /// Asks a yes/no question; `Some(true)` for `yes`.
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool>;
    /// Asks for a value that may be shown as it is typed.
    fn ask(&self, description: &str) -> Option<String>;
    /// Asks for a secret (a PIN, a passphrase), not echoed.
    fn ask_secret(&self, description: &str) -> Option<Zeroizing<String>>;
}

/// The prompter of a program without a user at hand: messages are
/// dropped, requests refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrompter;

impl Prompter for NoPrompter {
    fn message(&self, _: &str) {}

    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }

    fn ask(&self, _: &str) -> Option<String> {
        None
    }

    fn ask_secret(&self, _: &str) -> Option<Zeroizing<String>> {
        None
    }
}

/// A shared [`Prompter`].
pub type SharedPrompter = Arc<dyn Prompter>;

/// A [`SharedPrompter`] that refuses every request.
pub fn none() -> SharedPrompter {
    Arc::new(NoPrompter)
}
