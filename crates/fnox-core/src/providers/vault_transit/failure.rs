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
    let kind = if crate::error_chain::has_cause::<rustls::Error>(err) {
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
