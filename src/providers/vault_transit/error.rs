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
            Self::Client(_) => return None,
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
