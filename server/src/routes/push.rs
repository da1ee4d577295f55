//! `POST /internal/sync/push` (PROTOCOL §4): name-only renames of saved queries with
//! optimistic versions.
//!
//! Order of checks: identity (`400 bad_identity`) → token (`401`) → access binding (`403`)
//! → `Idempotency-Key` present (`400 missing_idempotency_key`) → injected fault → then, in
//! one transaction: a key already answered for this (tenant, user) returns the stored
//! first answer byte for byte and applies nothing; the body must parse
//! (`400 bad_request`), carry at most 50 ops (`400 too_many_ops`) and match the key (the
//! hex SHA-256 of its op ids, `400 bad_idempotency_key`) — that check is what makes "same
//! key" mean "same batch", so a stored answer is never replayed for other ops. Then the
//! ops are applied in order (`push_apply`), and the `200` answer is stored under the key
//! in the same transaction as the renames it reports.

use crate::auth;
use crate::error::ApiError;
use crate::faults::FaultTarget;
use crate::idempotency::{self, Answer, KeyRef, Scope};
use crate::log::write_transaction;
use crate::push_apply::{apply_ops, Pusher};
use crate::push_history;
use crate::state::AppState;
use crate::write_faults::answer_under_fault;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sync_core::protocol::push::{PushRequest, PushResponse, MAX_PUSH_OPS};

/// The header every push carries.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` header, checked for form; `None` when absent.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::BadIdempotencyKey("not ASCII".into()))?
        .trim()
        .to_string();
    idempotency::check_key(&key)?;
    Ok(Some(key))
}

pub async fn push(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let checked = async {
        let (identity, user) = auth::authorize(&app.db, &headers).await?;
        let key = idempotency_key(&headers)?.ok_or(ApiError::MissingIdempotencyKey)?;
        Ok::<_, ApiError>((identity.tenant_id, user.id, key))
    };
    let (tenant, user, key) = match checked.await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let now_ms = app.clock.now_ms();
    let db = app.db.clone();
    let tenant_for_work = tenant.clone();
    let work = db.call(move |conn| {
        write_transaction(conn, &tenant_for_work, |tx| {
            let at = KeyRef {
                tenant: &tenant_for_work,
                user: &user,
                scope: Scope::Push,
                key: &key,
            };
            if let Some(first) = idempotency::replay(tx, at)? {
                return Ok(first);
            }
            let request: PushRequest = serde_json::from_slice(&body)
                .map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
            if request.ops.len() > MAX_PUSH_OPS {
                return Err(ApiError::TooManyOps { max: MAX_PUSH_OPS });
            }
            if request.idempotency_key() != key {
                return Err(ApiError::BadIdempotencyKey(
                    "must be the hex SHA-256 of the op ids joined by \",\"".into(),
                ));
            }
            let who = Pusher {
                tenant: &tenant_for_work,
                user: &user,
                now_ms,
            };
            let results = apply_ops(tx, who, &request.ops)?;
            push_history::cap_ops(tx, &tenant_for_work, &user, push_history::MAX_OPS)?;
            let answer = Answer {
                status: StatusCode::OK,
                body: serde_json::to_vec(&PushResponse { results })?,
            };
            idempotency::store(tx, at, &answer, now_ms)?;
            Ok(answer)
        })
    });
    answer_under_fault(&app, &tenant, FaultTarget::Push, work).await
}
