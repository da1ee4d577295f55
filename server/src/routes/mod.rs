//! The HTTP surface: every route of the contract (pull, push, the authoring commands), the
//! loopback-only admin API when configured, CORS, and the JSON 404. Handlers take the shared
//! [`AppState`] from `state.rs`; nothing here is imported back by the code the handlers call.

pub mod admin;
pub mod authoring;
pub mod pull;
pub mod push;

use crate::cors;
use crate::error::json_response;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

/// Every route, with CORS. Admin routes exist only when `state.admin` is set.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/internal/sync/pull", get(pull::pull))
        .route("/internal/sync/push", post(push::push))
        .merge(authoring::router());
    if let Some(access) = &state.admin {
        router = router.merge(admin::router(access.clone()));
    }
    router
        .fallback(|| async {
            json_response(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "not_found"}),
            )
        })
        .layer(cors::layer())
        .with_state(state)
}
