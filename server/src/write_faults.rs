//! How a write endpoint's answer passes through the tenant's next injected fault.
//!
//! Faults that replace the answer (`status`, `rate_limit`, `malformed`) answer before the
//! request is looked at, so nothing is applied. `delay` waits, then the request runs.
//! `truncate`, `drop` and `lose_response` let the request apply fully — its answer is
//! stored under its `Idempotency-Key` — and then damage or lose what goes back, which is
//! exactly the case a retry with the same key must survive.

use crate::error::ApiError;
use crate::faults::{json_bytes_with, Fault, FaultTarget};
use crate::idempotency::Answer;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::time::Duration;

/// Runs `work` under the next fault of `target` for `tenant` and builds the response.
pub async fn answer_under_fault(
    app: &AppState,
    tenant: &str,
    target: FaultTarget,
    work: impl Future<Output = Result<Answer, ApiError>>,
) -> Response {
    let fault = app.faults.take(tenant, target);
    if let Some(fault) = &fault {
        if let Some(res) = fault.replacement(target) {
            return res;
        }
        if let Fault::Delay { ms } = fault {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
    }
    match (work.await, fault) {
        (Ok(answer), Some(fault)) => fault.mangle(answer.status, answer.body),
        (Ok(answer), None) => json_bytes_with(answer.status, answer.body),
        // Whatever the answer was, it is lost.
        (Err(_), Some(Fault::LoseResponse)) => {
            Fault::LoseResponse.mangle(StatusCode::BAD_GATEWAY, Vec::new())
        }
        (Err(e), _) => e.into_response(),
    }
}
