//! [`CommandError`]: what a command fails with, in the words the user
//! sees: a message, its causes, hints, and the exit status.

use crate::exit_codes;

/// A failed command.
#[derive(Debug)]
pub struct CommandError {
    /// The message (a lowercase fragment).
    pub message: String,
    /// The causes, outermost first.
    pub causes: Vec<String>,
    /// How to fix it, one line each.
    pub hints: Vec<String>,
    /// The exit status.
    pub status: i32,
}

impl CommandError {
    /// A failure explained by `message` (exit status 1).
    pub fn user(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
            status: exit_codes::FAILURE,
        }
    }

    /// A bad flag or argument (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { status: exit_codes::USAGE, ..Self::user(message) }
    }

    /// An I/O failure while doing `what`.
    pub fn io(what: impl Into<String>, err: std::io::Error) -> Self {
        Self { causes: vec![err.to_string()], ..Self::user(what) }
    }

    /// The same error with one more hint line.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The same error with another exit status.
    #[must_use]
    pub fn with_status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }
}

impl From<fnox_core::Error> for CommandError {
    fn from(err: fnox_core::Error) -> Self {
        let mut chain = fnox_core::error::chain(&err).into_iter();
        let message = chain.next().unwrap_or_default();
        let status = match &err {
            fnox_core::Error::Config(
                fnox_core::config::ConfigError::BadProfile(_)
                | fnox_core::config::ConfigError::EmptyProfile(_)
                | fnox_core::config::ConfigError::BadIfMissing(_),
            ) => exit_codes::USAGE,
            _ => exit_codes::FAILURE,
        };
        Self {
            message,
            causes: chain.collect(),
            hints: err.hints().iter().filter_map(super::hints::render).collect(),
            status,
        }
    }
}

impl From<fnox_core::config::ConfigError> for CommandError {
    fn from(err: fnox_core::config::ConfigError) -> Self {
        fnox_core::Error::from(err).into()
    }
}

impl From<fnox_core::config::UnknownSecret> for CommandError {
    fn from(err: fnox_core::config::UnknownSecret) -> Self {
        fnox_core::Error::from(err).into()
    }
}

impl From<fnox_core::providers::RegistryError> for CommandError {
    fn from(err: fnox_core::providers::RegistryError) -> Self {
        fnox_core::Error::from(err).into()
    }
}
