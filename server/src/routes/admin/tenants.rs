//! `POST /admin/tenants`: a fresh deterministic tenant per test.

use super::reply::{ok, parse};
use crate::error::ApiError;
use crate::seed::{create_tenant, TenantSpec};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

pub async fn create(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let spec: TenantSpec = parse(&body)?;
        spec.validate()?;
        let now = app.clock.now_ms();
        let summary = app
            .db
            .call(move |conn| create_tenant(conn, &spec, now))
            .await?;
        Ok::<_, ApiError>(ok(serde_json::to_value(summary)?))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
