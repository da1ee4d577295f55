//! Why a push call stopped. Codes and retryability match [`crate::engine::PullError`] so the JS
//! `SyncError` means the same thing whichever direction failed. Whatever the variant, no
//! queued edit was lost: an unsettled batch stays stored (and is re-sent byte-identical by
//! the next call), unsent ops and commands stay queued.

use crate::engine::error_code::ErrorCode;
use crate::engine::net::retry::from_gave_up;
use crate::engine::store::error::StoreError;

/// A push call that did not reach its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PushError {
    /// No complete response (network error or timeout), every attempt of this call.
    #[error("offline after {attempts} attempts: {detail}")]
    Offline { attempts: u32, detail: String },
    /// The token was refused twice in a row, or the host's token callback failed.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The host's token callback did not settle in time (PROTOCOL §9.9); nothing was sent
    /// for the failing request and everything stays queued.
    #[error("the host's token callback did not settle in time")]
    TokenTimeout,
    /// Access was revoked (a 403 here or on pull): pushing is paused, nothing is dropped,
    /// until a pull succeeds again.
    #[error("access revoked; pushing is paused")]
    Forbidden,
    /// The server asked to wait longer than this call may wait, or kept answering 429.
    #[error("rate limited; retry after {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    /// 5xx (or 408) on every attempt of this call.
    #[error("server error {status} after {attempts} attempts")]
    ServerError { status: u16, attempts: u32 },
    /// A body that is truncated, malformed or outside the contract, on every attempt.
    #[error("bad response after {attempts} attempts: {detail}")]
    BadResponse { attempts: u32, detail: String },
    /// The whole request got an answer the contract does not name (a proxy's error page,
    /// 404, 405, 415, a 413 of a single op, a 2xx that is not the batch's results list):
    /// nothing was settled and every op stays queued in order; pushing pauses until the next
    /// explicit sync or the capped backoff (PROTOCOL §9.3). `status` is the HTTP status.
    #[error("push rejected with HTTP {status}: {detail}")]
    Rejected { status: u16, detail: String },
    /// Local storage failed; the step that failed wrote nothing.
    #[error("storage: {0}")]
    Storage(StoreError),
    /// A refusal the contract calls a programming error (`bad_identity`), or a
    /// configuration the engine refuses before sending anything.
    #[error("bad request ({status}): {error}")]
    BadRequest { status: u16, error: String },
}

impl PushError {
    /// The stable code the JS `SyncError` carries (same codes as pull).
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The code in the one table of codes ([`ErrorCode`]).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            PushError::Offline { .. } => ErrorCode::Offline,
            PushError::Unauthorized(_) => ErrorCode::Unauthorized,
            PushError::TokenTimeout => ErrorCode::TokenTimeout,
            PushError::Forbidden => ErrorCode::Forbidden,
            PushError::RateLimited { .. } => ErrorCode::RateLimited,
            PushError::ServerError { .. } => ErrorCode::ServerError,
            PushError::BadResponse { .. } => ErrorCode::BadResponse,
            PushError::Rejected { .. } => ErrorCode::PushRejected,
            PushError::BadRequest { .. } => ErrorCode::BadRequest,
            PushError::Storage(e) => e.code(),
        }
    }

    /// Whether calling `push` again later may succeed without anyone changing anything.
    pub fn retryable(&self) -> bool {
        match self {
            PushError::Storage(e) => e.retryable(),
            other => other.error_code().retryable(),
        }
    }
}

from_gave_up!(PushError);

impl From<StoreError> for PushError {
    fn from(e: StoreError) -> Self {
        PushError::Storage(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_retryability() {
        let cases = [
            (
                PushError::Offline {
                    attempts: 1,
                    detail: String::new(),
                },
                "offline",
                true,
            ),
            (
                PushError::Unauthorized(String::new()),
                "unauthorized",
                false,
            ),
            (PushError::Forbidden, "forbidden", false),
            (
                PushError::RateLimited { retry_after_ms: 1 },
                "rate_limited",
                true,
            ),
            (
                PushError::ServerError {
                    status: 503,
                    attempts: 5,
                },
                "server_error",
                true,
            ),
            (
                PushError::BadResponse {
                    attempts: 5,
                    detail: String::new(),
                },
                "bad_response",
                true,
            ),
            (StoreError::QuotaExceeded.into(), "quota_exceeded", false),
            (
                StoreError::Aborted("x".into()).into(),
                "storage_unavailable",
                true,
            ),
        ];
        for (e, code, retryable) in cases {
            assert_eq!((e.code(), e.retryable()), (code, retryable), "{e}");
        }
    }
}
