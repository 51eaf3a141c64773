//! `fnox agent`: a per-user process that keeps, in memory only, the values
//! that key services and age identities decrypted (direct values and
//! envelopes' data keys alike: both are a provider's decrypt call), so that
//! the next command makes no key-service request and no age X25519 work.
//!
//! - [`server`]: the agent itself (a Unix socket in a private directory,
//!   the peer's uid checked on every connection, entries wiped on expiry,
//!   `lock` and `stop`).
//! - [`client`]: one request to it, and the [`Link`] that a provider's
//!   decryption asks first ([`crate::providers`] wraps key-service and age
//!   providers with it). Absent, dead, slow or confused, the agent is
//!   passed by: fnox decrypts directly (with a warning when it was there
//!   but did not answer properly).
//! - [`dir`]: where the socket is, and the checks on that directory.
//!
//! Entries are keyed by a digest of (provider identity, secret name,
//! ciphertext) ([`entry_key`]): a changed or rotated value is a new key,
//! never a stale hit. See docs/agent.md.

pub mod client;
pub mod dir;
mod locked;
pub mod protocol;
pub mod server;
mod store;

use std::time::Duration;

use sha2::{Digest as _, Sha256};

pub use self::{
    client::{Client, ClientError, Link},
    dir::{DirError, agent_dir},
    protocol::{EntryStatus, Key, Status},
    server::{Agent, AgentError, Stopper},
};

/// How long the agent keeps an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// An entry not used for this long is wiped.
    pub idle_timeout: Duration,
    /// An entry this old is wiped, used or not.
    pub max_lifetime: Duration,
}

/// The idle timeout when none is given: 15 minutes.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The maximum lifetime when none is given: 8 hours.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

impl Default for Settings {
    fn default() -> Self {
        Self { idle_timeout: DEFAULT_IDLE_TIMEOUT, max_lifetime: DEFAULT_MAX_LIFETIME }
    }
}

/// The variable that turns the agent off for a command: `off` (or `0`,
/// `false`, `no`).
pub const OFF_VAR: &str = "FNOX_AGENT";

/// The key of the entry for `ciphertext` of secret `name` decrypted by the
/// provider whose settings are `identity`: SHA-256 over the three, each
/// length-prefixed. A new ciphertext (a changed or rotated value), another
/// name or another provider is another key.
pub fn entry_key(identity: &[u8], name: &str, ciphertext: &[u8]) -> Key {
    let mut h = Sha256::new();
    h.update(b"fnox-agent-entry-v1\0");
    for part in [identity, name.as_bytes(), ciphertext] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::entry_key;

    #[test]
    fn every_part_of_an_entry_key_counts() {
        let k = entry_key(b"kms", "A", b"ct");
        assert_eq!(k, entry_key(b"kms", "A", b"ct"));
        for other in [
            entry_key(b"kms2", "A", b"ct"),
            entry_key(b"kms", "B", b"ct"),
            entry_key(b"kms", "A", b"cu"),
        ] {
            assert_ne!(k, other);
        }
        // Lengths are part of it: moving a byte from one part to the next changes the key.
        assert_ne!(entry_key(b"kmsA", "", b"ct"), entry_key(b"kms", "A", b"ct"));
    }
}
