//! The loopback-only admin API that tests and the demo drive the server with. It exists
//! only with `--admin`; [`guard`] answers `404` to any peer that is not loopback (so a
//! server exposed by mistake does not reveal it), `403` to cross-site and rebound
//! requests and `401` without the admin token. JSON in, JSON out; bad input is `400`
//! with a `reason`.

mod control;
pub mod guard;
mod push;
mod reply;
mod rows;
mod tenants;

pub use guard::{AdminAccess, OriginPattern};

use crate::state::AppState;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
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
