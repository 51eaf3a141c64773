//! Errors of the `vault-transit` provider, classified from the HTTP status
//! and the server's structured `errors` array, each with a hint. None of
//! them carries a value or the token.

use std::path::PathBuf;

pub use crate::failure::{Call, TransitErrorKind};
use crate::hint::{Damage, Hint};

/// The server's (or the HTTP library's) words, as one cause line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransitDetail(pub String);

/// A failed `vault-transit` operation.
#[derive(Debug, thiserror::Error)]
pub enum TransitError {
    /// No address anywhere.
    #[error(
        "no Vault address: the provider has no `address`, and VAULT_ADDR and BAO_ADDR are not set"
    )]
    NoAddress,
    /// An address that is not an http(s) URL.
    #[error("`{0}` is not an http:// or https:// address")]
    BadAddress(String),
    /// No token anywhere.
    #[error(
        "no Vault token: FNOX_VAULT_TOKEN, VAULT_TOKEN and BAO_TOKEN are not set, and {} does not exist",
        file.display()
    )]
    NoToken {
        /// `~/.vault-token`.
        file: PathBuf,
    },
    /// `ca_cert` cannot be read or parsed.
    #[error("cannot use the CA certificate {}", path.display())]
    CaCert {
        /// The PEM file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The HTTP client cannot be built.
    #[error("cannot set up the HTTPS client")]
    Client(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A queued call whose batch was abandoned (the batching task ended).
    #[error("the request was dropped before the server answered")]
    Dropped,
    /// A stored value that is not `vault:vN:...`.
    #[error("the stored value is not a transit ciphertext (`vault:vN:...`)")]
    NotCiphertext,
    /// A call to the server failed.
    #[error("{}", kind.message(self.call()))]
    Call {
        /// What was called.
        call: Call,
        /// What went wrong.
        kind: TransitErrorKind,
        /// The server's message.
        #[source]
        detail: TransitDetail,
    },
}

impl TransitError {
    fn call(&self) -> &Call {
        match self {
            Self::Call { call, .. } => call,
            _ => unreachable!("only Call has a call"),
        }
    }

    /// What to do about it, where known. `name` is the secret, when there is one.
    pub fn hints(&self, name: Option<&str>) -> Vec<Hint> {
        let secret = name.map(str::to_string);
        vec![match self {
            Self::NoAddress | Self::BadAddress(_) => Hint::TransitAddress,
            Self::NoToken { .. } => Hint::TransitToken,
            Self::CaCert { .. } => Hint::TransitCaCert,
            Self::NotCiphertext => Hint::SetAgain { secret, damage: Damage::Damaged },
            Self::Client(_) | Self::Dropped => return Vec::new(),
            Self::Call { call, kind, .. } => {
                Hint::Transit { kind: *kind, call: Box::new(call.clone()), secret }
            }
        }]
    }
}

/// Classifies a failed answer by its HTTP status and the `errors` array.
/// A 400 covers many causes; only there is the server's message read.
pub fn classify(status: u16, errors: &[String]) -> TransitErrorKind {
    match status {
        403 => TransitErrorKind::PermissionDenied,
        404 if errors.is_empty() => TransitErrorKind::KeyNotFound,
        404 => TransitErrorKind::NoRoute,
        429 => TransitErrorKind::RateLimited,
        503 => TransitErrorKind::Sealed,
        500..=599 => TransitErrorKind::ServerError,
        400 => errors.first().map_or(TransitErrorKind::Other, |m| classify_message(m)),
        _ => TransitErrorKind::Other,
    }
}

/// Classifies one 400 message (also a batch item's `error`): the status
/// does not tell these apart, the transit engine's fixed texts do. An
/// authentication failure is checked first, with
/// [`is_authentication_failure`].
pub fn classify_message(message: &str) -> TransitErrorKind {
    if message.contains("invalid ciphertext") {
        TransitErrorKind::BadCiphertext
    } else if message.contains("too old") {
        TransitErrorKind::VersionTooOld
    } else if message.contains("encryption key not found") {
        TransitErrorKind::KeyNotFound
    } else {
        TransitErrorKind::Other
    }
}

/// True when a 400 message (or a batch item's `error`) says the AEAD tag
/// did not verify: the value was made for another name, or modified.
pub fn is_authentication_failure(message: &str) -> bool {
    message.contains("message authentication failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(endpoint: &str, capability: &'static str) -> Call {
        Call {
            path: format!("transit/{endpoint}/app"),
            capability,
            address: "https://vault.example:8200".into(),
            mount: "transit".into(),
            key: "app".into(),
            namespace: None,
        }
    }

    fn errors(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn statuses_map_to_kinds_without_reading_text_where_the_status_suffices() {
        use TransitErrorKind::*;
        let cases: &[(u16, &[&str], TransitErrorKind)] = &[
            (403, &["permission denied"], PermissionDenied),
            (403, &[], PermissionDenied),
            (404, &[], KeyNotFound),
            (404, &["no handler for route \"x/keys/app\". route entry not found."], NoRoute),
            (404, &["namespace not found"], NoRoute),
            (
                429,
                &["request path \"transit/encrypt/app\": rate limit quota exceeded"],
                RateLimited,
            ),
            (503, &["Vault is sealed"], Sealed),
            (500, &["internal error"], ServerError),
            (502, &[], ServerError),
            (400, &["invalid ciphertext: no prefix"], BadCiphertext),
            (400, &["invalid ciphertext: could not decode base64"], BadCiphertext),
            (
                400,
                &["ciphertext or signature version is disallowed by policy (too old)"],
                VersionTooOld,
            ),
            (400, &["encryption key not found"], KeyNotFound),
            (400, &["something new"], Other),
            (400, &[], Other),
            (418, &["teapot"], Other),
        ];
        for (status, list, kind) in cases {
            assert_eq!(classify(*status, &errors(list)), *kind, "{status} {list:?}");
        }
        assert!(is_authentication_failure("cipher: message authentication failed"));
        assert!(!is_authentication_failure("invalid ciphertext: no prefix"));
    }

    #[test]
    fn permission_denied_names_the_policy_path_and_capability() {
        let err = TransitError::Call {
            call: call("encrypt", "update"),
            kind: TransitErrorKind::PermissionDenied,
            detail: TransitDetail("HTTP 403: permission denied".into()),
        };
        assert_eq!(
            err.to_string(),
            "permission denied: the Vault token's policy does not allow `transit/encrypt/app`"
        );
        assert_eq!(
            err.hints(Some("DB")),
            vec![Hint::Transit {
                kind: TransitErrorKind::PermissionDenied,
                call: Box::new(call("encrypt", "update")),
                secret: Some("DB".into()),
            }]
        );
    }

    #[test]
    fn every_kind_has_a_message_naming_the_server_or_key() {
        use TransitErrorKind::*;
        let c = call("decrypt", "update");
        let kinds = [
            (
                BadToken,
                "the Vault server at https://vault.example:8200 rejected the token (invalid, expired or revoked)",
            ),
            (
                KeyNotFound,
                "transit key `app` does not exist at `transit/keys/app` on https://vault.example:8200",
            ),
            (NoRoute, "nothing answers at `transit/decrypt/app` on https://vault.example:8200"),
            (Sealed, "the Vault server at https://vault.example:8200 is sealed or not ready"),
            (
                RateLimited,
                "the Vault server at https://vault.example:8200 rate-limited the request",
            ),
            (ServerError, "the Vault server at https://vault.example:8200 failed"),
            (BadCiphertext, "the server rejected the value: it is not a valid transit ciphertext"),
            (
                VersionTooOld,
                "the value is under a version of transit key `app` below its min_decryption_version",
            ),
            (KeyCannotEncrypt, "transit key `app` cannot encrypt (its type does not support it)"),
            (Unreachable, "cannot reach the Vault server at https://vault.example:8200"),
            (Tls, "TLS connection to https://vault.example:8200 failed"),
            (NotVault, "the server at https://vault.example:8200 did not answer like Vault"),
            (Other, "`transit/decrypt/app` failed on https://vault.example:8200"),
        ];
        for (kind, message) in kinds {
            assert_eq!(kind.message(&c), message);
        }
        let ns = Call { namespace: Some("team".into()), ..c };
        assert_eq!(
            NoRoute.message(&ns),
            "nothing answers at `transit/decrypt/app` in namespace `team` on https://vault.example:8200"
        );
    }

    #[test]
    fn setup_errors_have_hints() {
        let no_token = TransitError::NoToken { file: "/home/u/.vault-token".into() };
        assert_eq!(
            no_token.to_string(),
            "no Vault token: FNOX_VAULT_TOKEN, VAULT_TOKEN and BAO_TOKEN are not set, and /home/u/.vault-token does not exist"
        );
        assert_eq!(no_token.hints(None), vec![Hint::TransitToken]);
        assert_eq!(TransitError::NoAddress.hints(None), vec![Hint::TransitAddress]);
        assert_eq!(
            TransitError::NotCiphertext.hints(Some("DB")),
            vec![Hint::SetAgain { secret: Some("DB".into()), damage: Damage::Damaged }]
        );
    }
}
