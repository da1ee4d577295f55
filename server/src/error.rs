//! The one error type of the server and how each variant answers over HTTP.
//!
//! Every body is compact JSON with a stable `error` code (PROTOCOL §3), so clients can
//! branch on the code and never on prose.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sync_core::protocol::Kind;

/// Everything a request or a CLI command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or malformed identity headers: {0}")]
    BadIdentity(String),
    #[error("bad or missing bearer token")]
    Unauthorized,
    #[error("access revoked")]
    Forbidden { kinds: Option<Vec<Kind>> },
    #[error("cursor cannot be verified")]
    CursorInvalid,
    #[error("pageSize must be an integer >= 1")]
    BadPageSize,
    #[error("rate limited, retry after {retry_after}s")]
    RateLimited { retry_after: u64 },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the Idempotency-Key header is required")]
    MissingIdempotencyKey,
    #[error("bad Idempotency-Key: {0}")]
    BadIdempotencyKey(String),
    #[error("more than {max} ops in one push")]
    TooManyOps { max: usize },
    /// `422`: the request is well-formed but asks for something the server refuses.
    #[error("{error}: {reason}")]
    Unprocessable { error: &'static str, reason: String },
    #[error("If-Match is required")]
    PreconditionRequired,
    /// `412` with the entity as it is now, so the client can offer a merge.
    #[error("the entity changed since the version in If-Match")]
    PreconditionFailed { current: Value },
    #[error("database error: {0}")]
    Database(rusqlite::Error),
    /// The database is away or busy (connection lost, pool exhausted, a serialization
    /// failure): `503` with `Retry-After`, and the client retries.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for ApiError {
    /// A SQLite database locked by another process for longer than the busy timeout is busy,
    /// not broken: a retryable `503` like a PostgreSQL outage.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                ApiError::Unavailable(format!("database: {e}"))
            }
            _ => ApiError::Database(e),
        }
    }
}

impl From<rusqlite::types::FromSqlError> for ApiError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        ApiError::Internal(format!("stored column has an unexpected type: {e}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("stored JSON is unreadable: {e}"))
    }
}

/// A JSON response with the given status; the body is serialized compactly.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

impl ApiError {
    /// Shorthand for a `422` with a stable code and a human reason.
    pub fn unprocessable(error: &'static str, reason: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            error,
            reason: reason.into(),
        }
    }

    /// The status and JSON body this error answers with (`Retry-After` aside).
    pub fn parts(&self) -> (StatusCode, Value) {
        match self {
            ApiError::BadIdentity(reason) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_identity", "reason": reason}),
            ),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"})),
            ApiError::Forbidden { kinds: None } => {
                (StatusCode::FORBIDDEN, json!({"error": "forbidden"}))
            }
            ApiError::Forbidden { kinds: Some(kinds) } => (
                StatusCode::FORBIDDEN,
                json!({"error": "forbidden", "kinds": kinds}),
            ),
            ApiError::CursorInvalid => (StatusCode::GONE, json!({"error": "cursor_invalid"})),
            ApiError::BadPageSize => (StatusCode::BAD_REQUEST, json!({"error": "bad_page_size"})),
            ApiError::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": "rate_limited", "retryAfter": retry_after}),
            ),
            ApiError::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_request", "reason": reason}),
            ),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                json!({"error": "not_found", "reason": what}),
            ),
            ApiError::Conflict(reason) => (
                StatusCode::CONFLICT,
                json!({"error": "conflict", "reason": reason}),
            ),
            ApiError::MissingIdempotencyKey => (
                StatusCode::BAD_REQUEST,
                json!({"error": "missing_idempotency_key"}),
            ),
            ApiError::BadIdempotencyKey(reason) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_idempotency_key", "reason": reason}),
            ),
            ApiError::TooManyOps { max } => (
                StatusCode::BAD_REQUEST,
                json!({"error": "too_many_ops", "max": max}),
            ),
            ApiError::Unprocessable { error, reason } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": error, "reason": reason}),
            ),
            ApiError::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                json!({"error": "precondition_required"}),
            ),
            ApiError::PreconditionFailed { current } => (
                StatusCode::PRECONDITION_FAILED,
                json!({"error": "precondition_failed", "current": current}),
            ),
            ApiError::Unavailable(_) => {
                tracing::warn!(error = %self, "request failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"error": "unavailable"}),
                )
            }
            ApiError::Database(_) | ApiError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal"}),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.parts();
        let mut res = json_response(status, &body);
        match self {
            ApiError::RateLimited { retry_after } => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Unavailable(_) => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        res
    }
}
