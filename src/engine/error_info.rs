//! An engine failure as the app sees it (API.md `SyncError`): the stable code, whether a retry
//! may help, the message, and the HTTP status or the server's requested wait where the engine
//! knows them. The bindings throw errors built from it, and a `sync` that pulled although its
//! push failed reports the push's failure with it in the result (`pushError`), so both carry
//! the same fields.

use crate::engine::pull::error::PullError;
use crate::engine::push::error::PushError;
use serde::Serialize;

/// What a thrown `SyncError` carries, and a sync report's `pushError`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    /// One of the engine's error codes (`ENGINE_ERROR_CODES`).
    pub code: &'static str,
    pub retryable: bool,
    pub message: String,
    /// The HTTP status behind the failure (a 5xx, or the 4xx that refused the request).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub status: Option<u16>,
    /// How long the server asked to wait (429 `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub retry_after_ms: Option<u64>,
}

impl ErrorInfo {
    fn new(
        code: &'static str,
        retryable: bool,
        message: String,
        http: (Option<u16>, Option<u64>),
    ) -> Self {
        let (status, retry_after_ms) = http;
        ErrorInfo {
            code,
            retryable,
            message,
            status,
            retry_after_ms,
        }
    }
}

impl From<&PullError> for ErrorInfo {
    fn from(e: &PullError) -> Self {
        let http = match e {
            PullError::RateLimited { retry_after_ms } => (None, Some(*retry_after_ms)),
            PullError::ServerError { status, .. } | PullError::BadRequest { status, .. } => {
                (Some(*status), None)
            }
            _ => (None, None),
        };
        ErrorInfo::new(e.code(), e.retryable(), e.to_string(), http)
    }
}

impl From<&PushError> for ErrorInfo {
    fn from(e: &PushError) -> Self {
        let http = match e {
            PushError::RateLimited { retry_after_ms } => (None, Some(*retry_after_ms)),
            PushError::ServerError { status, .. }
            | PushError::BadRequest { status, .. }
            | PushError::Rejected { status, .. } => (Some(*status), None),
            _ => (None, None),
        };
        ErrorInfo::new(e.code(), e.retryable(), e.to_string(), http)
    }
}
