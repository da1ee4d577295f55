//! What every admin handler shares: parsing a JSON body, a 200 answer, and the tenant check.

use crate::error::{json_response, ApiError};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;

/// Parses a JSON body, turning serde's message into the `400` reason.
pub(super) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

/// A `200` with a JSON body.
pub(super) fn ok(body: serde_json::Value) -> Response {
    json_response(StatusCode::OK, &body)
}

/// `404` unless the tenant exists.
pub(super) fn require_tenant(conn: &dyn crate::sql::Sql, tenant: &str) -> Result<(), ApiError> {
    crate::log::last_position(conn, tenant)?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("tenant {tenant}")))
}
