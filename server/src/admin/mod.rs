//! The loopback-only admin API that tests and the demo drive the server with. It exists
//! only with `--admin`; [`guard`] answers `404` to any peer that is not loopback (so a
//! server exposed by mistake does not reveal it), `403` to cross-site and rebound
//! requests and `401` without the admin token. JSON in, JSON out; bad input is `400`
//! with a `reason`.

mod control;
pub mod guard;
mod push;
mod rows;
mod tenants;

pub use guard::{AdminAccess, OriginPattern};

use crate::app::AppState;
use crate::error::{json_response, ApiError};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::sync::Arc;

/// Every admin route, behind [`guard::guard`].
pub fn router(access: Arc<AdminAccess>) -> Router<AppState> {
    Router::new()
        .route("/admin/tenants", post(tenants::create))
        .route("/admin/rows", post(rows::write).get(rows::read))
        .route("/admin/snapshots", post(rows::append_snapshot))
        .route("/admin/queries/rename", post(push::rename_query))
        .route("/admin/push-log", get(push::push_log))
        .route("/admin/epoch", post(control::bump_epoch))
        .route("/admin/revoke", post(control::revoke))
        .route("/admin/restore", post(control::restore))
        .route("/admin/users", post(control::update_user))
        .route(
            "/admin/faults",
            post(control::add_faults).delete(control::clear_faults),
        )
        .route(
            "/admin/clock",
            get(control::read_clock).post(control::advance_clock),
        )
        .route_layer(middleware::from_fn_with_state(access, guard::guard))
}

pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Parses a JSON body, turning serde's message into the `400` reason.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

fn ok(body: serde_json::Value) -> Response {
    json_response(StatusCode::OK, &body)
}

/// `404` unless the tenant exists.
fn require_tenant(conn: &rusqlite::Connection, tenant: &str) -> Result<(), ApiError> {
    crate::log::last_position(conn, tenant)?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("tenant {tenant}")))
}
