//! `POST /admin/rows` (upsert, tombstone or purge any versioned row), `GET /admin/rows` (a row's
//! current server state) and `POST /admin/snapshots` (append a snapshot).

use super::reply::{ok, parse};
use crate::error::ApiError;
use crate::log::{self, write_transaction};
use crate::purge::purge;
use crate::state::AppState;
use crate::timefmt::{format_ms, parse_ms};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use sync_core::protocol::{Kind, Row};

fn kind_of(name: &str) -> Result<Kind, ApiError> {
    name.parse::<Kind>()
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RowChange {
    tenant_id: String,
    kind: String,
    op: String,
    row: Option<Row>,
    id: Option<String>,
}

pub async fn write(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let change: RowChange = parse(&body)?;
        let kind = kind_of(&change.kind)?;
        let now = app.clock.now_ms();
        let written = app
            .db
            .call(move |conn| {
                write_transaction(conn, &change.tenant_id, |tx| {
                    let written = match (change.op.as_str(), change.row, change.id) {
                        ("upsert", Some(row), _) => {
                            log::upsert(tx, &change.tenant_id, kind, &row, now)?
                        }
                        ("tombstone", _, Some(id)) => {
                            log::tombstone(tx, &change.tenant_id, kind, &id)?
                        }
                        ("purge", _, Some(id)) => {
                            let removed = purge(tx, &change.tenant_id, kind, &id)?;
                            return Ok(json!({"purged": removed}));
                        }
                        ("upsert", None, _) => {
                            return Err(ApiError::BadRequest("upsert needs `row`".into()))
                        }
                        ("tombstone" | "purge", _, None) => {
                            return Err(ApiError::BadRequest(format!("{} needs `id`", change.op)))
                        }
                        (other, _, _) => {
                            return Err(ApiError::BadRequest(format!(
                                "op must be upsert, tombstone or purge, not `{other}`"
                            )))
                        }
                    };
                    Ok(serde_json::to_value(written)?)
                })
            })
            .await?;
        Ok::<_, ApiError>(ok(written))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowQuery {
    tenant_id: String,
    kind: String,
    key: String,
}

pub async fn read(
    State(app): State<AppState>,
    query: Result<Query<RowQuery>, QueryRejection>,
) -> Response {
    let run = async {
        let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let kind = kind_of(&q.kind)?;
        let stored = app
            .db
            .call(move |conn| log::current(conn, &q.tenant_id, kind, &q.key))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("{kind} row")))?;
        let row: Value = serde_json::from_str(&stored.body)?;
        Ok::<_, ApiError>(ok(json!({
            "version": stored.version, "deleted": stored.deleted, "position": stored.position, "row": row,
        })))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SnapshotAppend {
    tenant_id: String,
    widget_id: String,
    rows: Vec<Value>,
    params_hash: Option<String>,
    generated_at: Option<String>,
    provenance: Option<Value>,
    freshness_lag_seconds: Option<u64>,
}

pub async fn append_snapshot(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: SnapshotAppend = parse(&body)?;
        if let Some(at) = &req.generated_at {
            parse_ms(at).ok_or_else(|| {
                ApiError::BadRequest("generatedAt must be an RFC 3339 time".into())
            })?;
        }
        let now = app.clock.now_ms();
        let (written, generated_at) = app
            .db
            .call(move |conn| {
                write_transaction(conn, &req.tenant_id, |tx| {
                    let widget = log::current(tx, &req.tenant_id, Kind::Widget, &req.widget_id)?
                        .filter(|w| !w.deleted)
                        .ok_or_else(|| {
                            ApiError::NotFound(format!("live Widget {}", req.widget_id))
                        })?;
                    let widget: Row = serde_json::from_str(&widget.body)?;
                    let generated_at = match req.generated_at {
                        Some(at) => at,
                        None => {
                            // Whole seconds, and later than the newest, so quick appends stay ordered.
                            let newest =
                                log::newest_snapshot_ms(tx, &req.tenant_id, &req.widget_id)?;
                            let at = newest.map_or(now, |n| now.max(n - n.rem_euclid(1000) + 1000));
                            format_ms(at)
                        }
                    };
                    let params_hash = req
                        .params_hash
                        .or_else(|| {
                            widget
                                .get("paramsHash")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        })
                        .unwrap_or_else(|| "sha256:admin".into());
                    let provenance = req.provenance.unwrap_or_else(|| {
                        json!({"computedAt": generated_at, "bytesScanned": 1_048_576, "slotMs": 250,
                           "warehouseJobId": "bq-job-admin", "computedBy": "admin"})
                    });
                    let row = json!({
                        "widgetId": req.widget_id, "paramsHash": params_hash, "rows": req.rows,
                        "provenance": provenance, "generatedAt": generated_at,
                        "freshnessLagSeconds": req.freshness_lag_seconds.unwrap_or(0),
                    });
                    let row = row.as_object().cloned().unwrap_or_default();
                    let written = log::append_snapshot(tx, &req.tenant_id, &row)?;
                    Ok((written, generated_at))
                })
            })
            .await?;
        Ok::<_, ApiError>(ok(
            json!({"position": written.position, "generatedAt": generated_at}),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
