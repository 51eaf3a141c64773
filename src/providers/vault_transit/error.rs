//! Errors of the `vault-transit` provider, classified from the HTTP status
//! and the server's structured `errors` array, each with a hint. None of
//! them carries a value or the token.

use std::path::PathBuf;

/// Why a transit call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitErrorKind {
    /// 403 with a valid token: the token's policy lacks the path.
    PermissionDenied,
    /// 403, and the token cannot even look itself up: invalid, expired or
    /// revoked.
    BadToken,
    /// 404 with no message on `keys/KEY`, or "encryption key not found".
    KeyNotFound,
    /// 404 with a message: no engine at the mount, or no such namespace.
    NoRoute,
    /// 503: sealed, or not ready.
    Sealed,
    /// 429.
    RateLimited,
    /// Any other 5xx.
    ServerError,
    /// The server's ciphertext parser rejected the value.
    BadCiphertext,
    /// The value's key version is below the key's `min_decryption_version`.
    VersionTooOld,
    /// The key's type cannot encrypt (e.g. a signing key).
    KeyCannotEncrypt,
    /// Nothing answered at the address (refused, unreachable, timeout).
    Unreachable,
    /// The TLS handshake failed (untrusted certificate, wrong host name,
    /// not a TLS server).
    Tls,
    /// An answer that is not Vault's JSON (wrong port, http vs https).
    NotVault,
    /// Anything else.
    Other,
}

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

impl From<TransitError> for crate::providers::ProviderError {
    fn from(e: TransitError) -> Self {
        Self::Transit(Box::new(e))
    }
}

/// One endpoint of one key, as messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The policy path, e.g. `transit/encrypt/app`.
    pub path: String,
    /// The capability that path needs: `update` or `read`.
    pub capability: &'static str,
    /// The server address.
    pub address: String,
    /// The mount, e.g. `transit`.
    pub mount: String,
    /// The key name.
    pub key: String,
    /// The namespace, if any.
    pub namespace: Option<String>,
}

impl TransitError {
    fn call(&self) -> &Call {
        match self {
            Self::Call { call, .. } => call,
            _ => unreachable!("only Call has a call"),
        }
    }

    /// How to fix it, where known. `name` is the secret, when there is one.
    pub fn hint(&self, name: Option<&str>) -> Option<String> {
        let set_again = name.map_or_else(
            || "set the value again".to_string(),
            |n| format!("set the value again with `fnox set {n}`"),
        );
        Some(match self {
            Self::NoAddress | Self::BadAddress(_) => {
                "set `address = \"https://vault.example.com:8200\"` in the provider, or VAULT_ADDR".into()
            }
            Self::NoToken { .. } => "log in with `bao login` or `vault login` (it writes ~/.vault-token), or set FNOX_VAULT_TOKEN or VAULT_TOKEN".into(),
            Self::CaCert { .. } => "`ca_cert` must be a PEM file with the CA certificate(s) that signed the server's certificate".into(),
            Self::NotCiphertext => format!("the value in the file is damaged: {set_again}"),
            Self::Client(_) | Self::Dropped => return None,
            Self::Call { call, kind, .. } => return kind.hint(call, &set_again),
        })
    }
}

impl TransitErrorKind {
    /// The message for this kind.
    pub fn message(self, c: &Call) -> String {
        let Call { path, address, mount, key, .. } = c;
        match self {
            Self::PermissionDenied => {
                format!("permission denied: the Vault token's policy does not allow `{path}`")
            }
            Self::BadToken => format!(
                "the Vault server at {address} rejected the token (invalid, expired or revoked)"
            ),
            Self::KeyNotFound => {
                format!("transit key `{key}` does not exist at `{mount}/keys/{key}` on {address}")
            }
            Self::NoRoute => match &c.namespace {
                Some(ns) => format!("nothing answers at `{path}` in namespace `{ns}` on {address}"),
                None => format!("nothing answers at `{path}` on {address}"),
            },
            Self::Sealed => format!("the Vault server at {address} is sealed or not ready"),
            Self::RateLimited => format!("the Vault server at {address} rate-limited the request"),
            Self::ServerError => format!("the Vault server at {address} failed"),
            Self::BadCiphertext => {
                "the server rejected the value: it is not a valid transit ciphertext".into()
            }
            Self::VersionTooOld => format!(
                "the value is under a version of transit key `{key}` below its min_decryption_version"
            ),
            Self::KeyCannotEncrypt => {
                format!("transit key `{key}` cannot encrypt (its type does not support it)")
            }
            Self::Unreachable => format!("cannot reach the Vault server at {address}"),
            Self::Tls => format!("TLS connection to {address} failed"),
            Self::NotVault => format!("the server at {address} did not answer like Vault"),
            Self::Other => format!("`{path}` failed on {address}"),
        }
    }

    /// How to fix it.
    pub fn hint(self, c: &Call, set_again: &str) -> Option<String> {
        let Call { path, capability, mount, key, .. } = c;
        Some(match self {
            Self::PermissionDenied => format!(
                "add `path \"{path}\" {{ capabilities = [\"{capability}\"] }}` to the token's policy (docs/providers/vault-transit.md lists the minimal policy)"
            ),
            Self::BadToken => "log in again (`bao login` or `vault login`), or set FNOX_VAULT_TOKEN or VAULT_TOKEN to a valid token".into(),
            Self::KeyNotFound => format!(
                "create it with `bao write -f {mount}/keys/{key} derived=true`, or fix the provider's `key` and `mount`"
            ),
            Self::NoRoute => "check the provider's `mount` and `namespace`; enable the engine with `bao secrets enable -path=MOUNT transit`".into(),
            Self::Sealed => "unseal it (`bao operator unseal`), or check `bao status`".into(),
            Self::RateLimited | Self::ServerError => "try again in a moment".into(),
            Self::BadCiphertext => format!("the value in the file is damaged: {set_again}"),
            Self::VersionTooOld => format!(
                "lower min_decryption_version with `bao write {mount}/keys/{key}/config min_decryption_version=N`, then run `fnox rotate` before raising it again"
            ),
            Self::KeyCannotEncrypt => "use an aes256-gcm96 or chacha20-poly1305 key created with derived=true".into(),
            Self::Unreachable => "check the provider's `address` (or VAULT_ADDR / BAO_ADDR) and that the server is running".into(),
            Self::Tls => "set `ca_cert` to the PEM file of the CA that signed the server's certificate, and check the host name in `address`; a plain-HTTP server needs an http:// address".into(),
            Self::NotVault => "check the scheme (http:// or https://) and the port of `address`".into(),
            Self::Other => return None,
        })
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
    use crate::providers::ProviderError;

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
        let err: ProviderError = TransitError::Call {
            call: call("encrypt", "update"),
            kind: TransitErrorKind::PermissionDenied,
            detail: TransitDetail("HTTP 403: permission denied".into()),
        }
        .into();
        assert_eq!(
            err.to_string(),
            "permission denied: the Vault token's policy does not allow `transit/encrypt/app`"
        );
        assert_eq!(
            err.hint(Some("DB")).unwrap(),
            "add `path \"transit/encrypt/app\" { capabilities = [\"update\"] }` to the token's policy (docs/providers/vault-transit.md lists the minimal policy)"
        );
        let read = TransitError::Call {
            call: call("keys", "read"),
            kind: TransitErrorKind::PermissionDenied,
            detail: TransitDetail(String::new()),
        };
        assert!(
            read.hint(None)
                .unwrap()
                .contains("path \"transit/keys/app\" { capabilities = [\"read\"] }")
        );
    }

    #[test]
    fn every_kind_has_a_message_naming_the_server_or_key_and_most_a_hint() {
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
            assert_eq!(kind.hint(&c, "set it again").is_some(), kind != Other, "{kind:?}");
        }
        assert_eq!(
            VersionTooOld.hint(&c, "").unwrap(),
            "lower min_decryption_version with `bao write transit/keys/app/config min_decryption_version=N`, then run `fnox rotate` before raising it again"
        );
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
        assert!(no_token.hint(None).unwrap().contains("bao login"));
        assert!(TransitError::NoAddress.hint(None).unwrap().contains("VAULT_ADDR"));
        assert_eq!(
            TransitError::NotCiphertext.hint(Some("DB")).unwrap(),
            "the value in the file is damaged: set the value again with `fnox set DB`"
        );
    }
}
