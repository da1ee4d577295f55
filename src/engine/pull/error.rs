//! Why a pull call stopped. One enum for the pull operation; the bindings turn it into a JS
//! `SyncError` through [`PullError::code`] and [`PullError::retryable`] and nothing else.

use crate::engine::error_code::ErrorCode;
use crate::engine::net::retry::from_gave_up;
use crate::engine::store::error::StoreError;
use crate::protocol::Kind;

/// A pull call that did not reach its end. Pages committed before the failure stay
/// committed (each page is atomic with its cursor); nothing of the failing page was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PullError {
    /// No complete response (network error or timeout), every attempt of this call.
    #[error("offline after {attempts} attempts: {detail}")]
    Offline { attempts: u32, detail: String },
    /// The token was refused twice in a row, or the host's token callback failed.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The host's token callback did not settle in time (PROTOCOL §9.9); nothing was sent.
    /// Returned at once rather than retried: a stuck host is not helped by asking again now.
    #[error("the host's token callback did not settle in time")]
    TokenTimeout,
    /// The server revoked access; the named kinds and the cursor were wiped.
    #[error("access revoked for {kinds:?}")]
    Forbidden { kinds: Vec<Kind> },
    /// The server asked to wait longer than this call may wait, or kept answering 429.
    #[error("rate limited; retry after {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    /// 5xx on every attempt of this call.
    #[error("server error {status} after {attempts} attempts")]
    ServerError { status: u16, attempts: u32 },
    /// A body that is truncated, malformed or outside the contract, on every attempt.
    #[error("bad response after {attempts} attempts: {detail}")]
    BadResponse { attempts: u32, detail: String },
    /// The server refused the cursor again right after a cold restart.
    #[error("cursor refused even after a cold restart")]
    CursorInvalid,
    /// Local storage failed; nothing of the current page was written.
    #[error("storage: {0}")]
    Storage(StoreError),
    /// A 4xx the contract calls a programming error (`bad_page_size`, `bad_identity`, …), or
    /// a configuration the engine refuses before sending anything.
    #[error("bad request ({status}): {error}")]
    BadRequest { status: u16, error: String },
}

impl PullError {
    /// The stable code the JS `SyncError` carries.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The code in the one table of codes ([`ErrorCode`]).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            PullError::Offline { .. } => ErrorCode::Offline,
            PullError::Unauthorized(_) => ErrorCode::Unauthorized,
            PullError::TokenTimeout => ErrorCode::TokenTimeout,
            PullError::Forbidden { .. } => ErrorCode::Forbidden,
            PullError::RateLimited { .. } => ErrorCode::RateLimited,
            PullError::ServerError { .. } => ErrorCode::ServerError,
            PullError::BadResponse { .. } => ErrorCode::BadResponse,
            PullError::CursorInvalid => ErrorCode::CursorInvalid,
            PullError::BadRequest { .. } => ErrorCode::BadRequest,
            PullError::Storage(e) => e.code(),
        }
    }

    /// Whether calling `pull` again later may succeed without anyone changing anything.
    /// A full disk, a refused token, revoked access and programming errors need someone
    /// to act first, so they are not retryable.
    pub fn retryable(&self) -> bool {
        match self {
            PullError::Storage(e) => e.retryable(),
            other => other.error_code().retryable(),
        }
    }
}

from_gave_up!(PullError);

impl From<StoreError> for PullError {
    fn from(e: StoreError) -> Self {
        PullError::Storage(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_retryability() {
        let quota = PullError::from(StoreError::QuotaExceeded);
        assert_eq!((quota.code(), quota.retryable()), ("quota_exceeded", false));
        let gone = PullError::from(StoreError::Unavailable("closed".into()));
        assert_eq!(
            (gone.code(), gone.retryable()),
            ("storage_unavailable", true)
        );
        let e = PullError::ServerError {
            status: 503,
            attempts: 5,
        };
        assert_eq!((e.code(), e.retryable()), ("server_error", true));
        let e = PullError::Forbidden {
            kinds: vec![Kind::Query],
        };
        assert_eq!((e.code(), e.retryable()), ("forbidden", false));
        let e = PullError::BadRequest {
            status: 400,
            error: "bad_page_size".into(),
        };
        assert_eq!((e.code(), e.retryable()), ("bad_request", false));
    }
}
