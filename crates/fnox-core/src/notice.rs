//! Things worth telling the user that are not errors. The core hands them
//! to a callback ([`Notify`]); the caller decides whether and how to show
//! them.

use std::sync::Arc;

/// A note for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// An `aws-kms` value was encrypted without EncryptionContext (by
    /// jdx/fnox or `aws kms encrypt`): it decrypts, but is not bound to its
    /// name until it is rotated.
    UnboundKmsValue {
        /// The secret.
        secret: String,
    },
    /// A transit key whose type cannot bind values to secret names.
    UnbindableTransitKey {
        /// The transit key.
        key: String,
        /// Its type, e.g. `rsa-2048`.
        kind: String,
    },
    /// A value decrypted with a retired `local` key: it still opens, and
    /// `rotate` moves it to the current key.
    RetiredLocalKey {
        /// The secret.
        secret: String,
        /// The retired key's id (hex).
        key_id: String,
    },
    /// A key file that git tracks was read: its keys are in the
    /// repository's history.
    TrackedKeyFile {
        /// The file.
        path: std::path::PathBuf,
    },
    /// Another process holds the lock of a file fnox is about to write;
    /// fnox waits (up to its lock timeout).
    WaitingForLock {
        /// The file.
        path: std::path::PathBuf,
    },
    // T7 (issue 12): what a jdx/fnox config has that fnox does not act on.
    /// The loaded files have jdx/fnox settings that fnox does not act on:
    /// keys with no effect here, and providers of types fnox does not
    /// implement (a secret that needs one fails when it is read).
    JdxSettings {
        /// The keys with no effect (dotted paths, e.g. `daemon`).
        ignored: Vec<JdxItem>,
        /// The providers fnox does not implement (`kind`: the type).
        unsupported: Vec<JdxItem>,
    },
    /// The agent was there but gave no usable answer (too slow, closed
    /// the connection, garbage, an unsafe directory): this command
    /// decrypts directly and does not ask it again.
    AgentPassedBy {
        /// Why, as words.
        reason: String,
    },
    /// `FNOX_AGENT` holds a value that is neither on nor off; the agent is
    /// used.
    AgentSetting {
        /// The value (a setting, not a secret).
        value: String,
    },
}

/// One item of [`Notice::JdxSettings`]: a key or a provider, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdxItem {
    /// The key's dotted path, or the provider's name.
    pub name: String,
    /// The provider's type (`None` for a key).
    pub kind: Option<String>,
    /// The config file.
    pub file: std::path::PathBuf,
    /// The 1-based line (0 when unknown).
    pub line: usize,
}

/// Receives notices.
pub type Notify = Arc<dyn Fn(Notice) + Send + Sync>;

/// A [`Notify`] that drops every notice.
pub fn ignore() -> Notify {
    Arc::new(|_| {})
}
