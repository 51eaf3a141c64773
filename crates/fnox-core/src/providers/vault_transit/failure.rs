//! How a failed transit call becomes an error: the server's answer, a
//! batch item's error, or the transport's.

use super::error::{Call, TransitDetail, TransitError, TransitErrorKind};
use crate::providers::error::ProviderError;

/// A failure that can be handed to every item of a batch (and to every
/// value that needed the key's settings).
#[derive(Debug, Clone)]
pub enum Failure {
    /// The AEAD tag did not verify: another name's value, or modified.
    Tampered,
    /// Anything else.
    Call {
        /// The endpoint.
        call: Box<Call>,
        /// What went wrong.
        kind: TransitErrorKind,
        /// The server's or the library's words.
        detail: String,
    },
}

impl Failure {
    /// The error for one item.
    pub fn error(&self) -> ProviderError {
        match self {
            Failure::Tampered => ProviderError::Tampered,
            Failure::Call { call, kind, detail } => TransitError::Call {
                call: (**call).clone(),
                kind: *kind,
                detail: TransitDetail(detail.clone()),
            }
            .into(),
        }
    }
}

pub(super) fn unexpected(call: &Call, what: &str) -> Failure {
    Failure::Call {
        call: Box::new(call.clone()),
        kind: TransitErrorKind::Other,
        detail: what.to_string(),
    }
}

/// A request that got no HTTP answer: TLS, or nothing listening.
pub(super) fn transport_failure(call: &Call, err: &reqwest::Error) -> Failure {
    let kind = if is_tls_error(err) {
        TransitErrorKind::Tls
    } else if err.is_connect() || err.is_timeout() {
        TransitErrorKind::Unreachable
    } else {
        TransitErrorKind::Other
    };
    Failure::Call {
        call: Box::new(call.clone()),
        kind,
        detail: crate::error_chain::root_cause(err).to_string(),
    }
}

/// Whether a `rustls::Error` is anywhere in the chain (an `io::Error`
/// hides its inner error from `source()`, so look inside it too).
fn is_tls_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
            && is_tls_error(inner)
        {
            return true;
        }
        cur = e.source();
    }
    false
}
