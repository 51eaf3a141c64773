//! What went wrong at a key service, classified: the kinds of KMS and
//! transit failures, with the message for each. They are plain data, so
//! errors and hints can carry them whichever providers are built.

/// What went wrong in a KMS call, from the SDK's typed errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KmsErrorKind {
    /// `AccessDeniedException`: the caller lacks the IAM permission.
    AccessDenied,
    /// `NotFoundException`: no such key or alias.
    NotFound,
    /// `DisabledException`: the key is disabled.
    Disabled,
    /// `KMSInvalidStateException`: e.g. pending deletion.
    InvalidState,
    /// `IncorrectKeyException`: the blob is under another key.
    IncorrectKey,
    /// `InvalidCiphertextException`: wrong context or modified bytes.
    InvalidCiphertext,
    /// `ThrottlingException` after the SDK's retries.
    Throttled,
    /// `KeyUnavailableException`, `KMSInternalException`, timeouts inside KMS.
    Unavailable,
    /// Nothing answered at the endpoint (connection refused, timeout).
    Unreachable,
    /// No credentials could be loaded.
    NoCredentials,
    /// The credentials were rejected.
    BadCredentials,
    /// Anything else.
    Other,
}

impl KmsErrorKind {
    /// The message for this kind; `action` is e.g. `kms:Decrypt`.
    pub fn message(self, action: &str, key: &str, endpoint: &str) -> String {
        match self {
            Self::AccessDenied => format!("access denied: the caller may not call {action} on key `{key}`"),
            Self::NotFound => format!("KMS key `{key}` was not found"),
            Self::Disabled => format!("KMS key `{key}` is disabled"),
            Self::InvalidState => format!("KMS key `{key}` is not usable in its current state (e.g. pending deletion)"),
            Self::IncorrectKey => "the value was encrypted under a different KMS key".into(),
            Self::InvalidCiphertext => "KMS rejected the value: wrong context (it belongs to another secret name) or tampered".into(),
            Self::Throttled => format!("KMS throttled {action}, even after retries"),
            Self::Unavailable => "KMS is temporarily unavailable".into(),
            Self::Unreachable => format!("cannot reach the KMS endpoint {endpoint}"),
            Self::NoCredentials => "no AWS credentials found".into(),
            Self::BadCredentials => "KMS rejected the AWS credentials".into(),
            Self::Other => format!("{action} failed"),
        }
    }
}

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
}
