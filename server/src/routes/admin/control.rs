//! Per-user and server controls: epochs, revocation, injected faults, the simulated clock.

use super::reply::{ok, parse, require_tenant};
use crate::epochs;
use crate::error::ApiError;
use crate::faults::{Fault, FaultTarget};
use crate::log::write_transaction;
use crate::state::AppState;
use crate::timefmt::{format_ms, MINUTE_MS};
use crate::users;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sync_core::protocol::Kind;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EpochBump {
    tenant_id: String,
    user_id: String,
    kind: Kind,
}

pub async fn bump_epoch(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: EpochBump = parse(&body)?;
        let epoch = app
            .db
            .call(move |conn| {
                users::load(conn, &req.tenant_id, &req.user_id)?
                    .ok_or_else(|| ApiError::NotFound(format!("user {}", req.user_id)))?;
                epochs::bump(conn, &req.tenant_id, &req.user_id, req.kind)
            })
            .await?;
        Ok::<_, ApiError>(ok(json!({"epoch": epoch})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Revoke {
    tenant_id: String,
    user_id: String,
    kinds: Option<Vec<Kind>>,
}

/// Revokes the user's access binding: every pull answers `403` (with `kinds` when given).
pub async fn revoke(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: Revoke = parse(&body)?;
        let kinds = req.kinds.clone().unwrap_or_default();
        app.db
            .call(move |conn| users::set_revoked(conn, &req.tenant_id, &req.user_id, Some(&kinds)))
            .await?;
        Ok::<_, ApiError>(ok(json!({"revoked": true})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Restore {
    tenant_id: String,
    user_id: String,
}

/// Restores access. The kinds that were revoked get a new epoch, so a device that wiped
/// them refills them even if it kept its cursor.
pub async fn restore(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: Restore = parse(&body)?;
        app.db
            .call(move |conn| {
                write_transaction(conn, &req.tenant_id, |tx| {
                    let before = users::set_revoked(tx, &req.tenant_id, &req.user_id, None)?;
                    if before.revoked {
                        let kinds = before.revoked_kinds.unwrap_or_else(|| Kind::ALL.to_vec());
                        epochs::bump_all(tx, &req.tenant_id, [req.user_id.as_str()], &kinds)?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok::<_, ApiError>(ok(json!({"revoked": false})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserScope {
    tenant_id: String,
    user_id: String,
    role: Option<String>,
    /// Absent: unchanged; `null`: every property; a list: only those.
    #[serde(default, deserialize_with = "present")]
    properties: Option<Option<Vec<String>>>,
}

/// Tells a present `null` apart from an absent field.
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Vec<String>>>, D::Error> {
    Option::<Vec<String>>::deserialize(d).map(Some)
}

/// Changes a user's role or property scope (seed 000 §3: "snapshot epoch increments when
/// the user's property scope changes"): the dashboard tree's epochs advance, so the user's
/// devices reset and refill Dashboard, Widget and WidgetSnapshot.
pub async fn update_user(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: UserScope = parse(&body)?;
        let epochs_now = app
            .db
            .call(move |conn| {
                write_transaction(conn, &req.tenant_id, |tx| {
                    let before = users::set_scope(
                        tx,
                        &req.tenant_id,
                        &req.user_id,
                        req.role.as_deref(),
                        req.properties.as_ref().map(|p| p.as_deref()),
                    )?;
                    let after = users::load(tx, &req.tenant_id, &req.user_id)?
                        .ok_or_else(|| ApiError::NotFound(format!("user {}", req.user_id)))?;
                    if before.role != after.role || before.properties != after.properties {
                        let tree = [Kind::Dashboard, Kind::Widget, Kind::WidgetSnapshot];
                        epochs::bump_all(tx, &req.tenant_id, [req.user_id.as_str()], &tree)?;
                    }
                    epochs::current(tx, &req.tenant_id, &req.user_id)
                })
            })
            .await?;
        Ok::<_, ApiError>(ok(json!({"epochs": epochs_now})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

fn one() -> usize {
    1
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddFaults {
    tenant_id: String,
    target: FaultTarget,
    #[serde(default = "one")]
    count: usize,
    fault: Fault,
}

pub async fn add_faults(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: AddFaults = parse(&body)?;
        let tenant = req.tenant_id.clone();
        app.db
            .call(move |conn| require_tenant(conn, &tenant))
            .await?;
        let pending = app
            .faults
            .add(&req.tenant_id, req.target, req.fault, req.count)?;
        Ok::<_, ApiError>(ok(json!({"pending": pending})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn clear_faults(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let tenant = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "tenantId")
        .map(|(_, v)| v.into_owned());
    match tenant {
        Some(t) => ok(json!({"cleared": app.faults.clear(&t)})),
        None => ApiError::BadRequest("tenantId is required".into()).into_response(),
    }
}

pub async fn read_clock(State(app): State<AppState>) -> Response {
    let now = app.clock.now_ms();
    ok(json!({"now": format_ms(now), "nowMs": now, "timeScale": app.clock.scale()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AdvanceClock {
    advance_minutes: i64,
}

/// Jumps simulated time forward (alert ageing, generator cadences).
pub async fn advance_clock(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: AdvanceClock = parse(&body)?;
        if !(0..=525_600).contains(&req.advance_minutes) {
            return Err(ApiError::BadRequest(
                "advanceMinutes must be between 0 and 525600".into(),
            ));
        }
        app.clock.advance_ms(req.advance_minutes * MINUTE_MS);
        Ok(read_clock(State(app)).await)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
