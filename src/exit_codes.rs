//! Exit statuses, in one place. Only `main` exits.

/// What a command ends with: the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub i32);

impl ExitStatus {
    /// Success.
    pub const SUCCESS: Self = Self(SUCCESS);
}

/// Success.
pub const SUCCESS: i32 = 0;
/// A failure: configuration, provider, decryption, missing secret.
pub const FAILURE: i32 = 1;
/// Usage error (bad flags or arguments), as clap reports it.
pub const USAGE: i32 = 2;
/// `exec`: the command exists but cannot be executed (as a shell would).
pub const NOT_EXECUTABLE: i32 = 126;
/// `exec`: the command was not found (as a shell would).
pub const NOT_FOUND: i32 = 127;
/// `exec`: the child died of signal N; the status is `SIGNAL_BASE + N`.
pub const SIGNAL_BASE: i32 = 128;
