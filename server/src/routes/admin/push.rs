//! Write-side admin: `POST /admin/queries/rename` (a server-side rename, to put a device's
//! queued rename in conflict) and `GET /admin/push-log` (what push applied, counted from
//! the append-only `push_applications` record, so tests can prove an op applied once).

use super::reply::{ok, parse, require_tenant};
use crate::args;
use crate::error::ApiError;
use crate::log::write_transaction;
use crate::names::validate_name;
use crate::push_apply::rename_on_server;
use crate::sql::{Dialect, Sql};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rename {
    tenant_id: String,
    query_id: String,
    #[serde(rename = "name_i18n")]
    name_i18n: Value,
}

pub async fn rename_query(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let req: Rename = parse(&body)?;
        let name = validate_name(&req.name_i18n)
            .map_err(|why| ApiError::BadRequest(format!("name_i18n {why}")))?;
        let now = app.clock.now_ms();
        let written = app
            .db
            .call(move |conn| {
                write_transaction(conn, &req.tenant_id, |tx| {
                    rename_on_server(tx, &req.tenant_id, &req.query_id, name, now)
                })
            })
            .await?;
        Ok::<_, ApiError>(ok(serde_json::to_value(written)?))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn push_log(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let run = async {
        let mut tenant = None;
        let mut user = None;
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "tenantId" => tenant = Some(v.into_owned()),
                "userId" => user = Some(v.into_owned()),
                _ => {}
            }
        }
        let tenant = tenant.ok_or_else(|| ApiError::BadRequest("tenantId is required".into()))?;
        let log = app
            .db
            .call(move |conn| {
                require_tenant(conn, &tenant)?;
                Ok(json!({
                    "tenantId": tenant,
                    "ops": applied_ops(conn, &tenant, user.as_deref())?,
                    "answers": stored_answers(conn, &tenant, user.as_deref())?,
                }))
            })
            .await?;
        Ok::<_, ApiError>(ok(log))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Every op id that took effect, in the order it first did: how many times it was applied
/// (the contract says 1, always), the versions it produced, and how many later deliveries
/// were answered with its first result.
fn applied_ops(conn: &dyn Sql, tenant: &str, user: Option<&str>) -> Result<Vec<Value>, ApiError> {
    let versions = match conn.dialect() {
        Dialect::Sqlite => "json_group_array(a.version)",
        Dialect::Postgres => "json_agg(a.version ORDER BY a.position)::text",
    };
    let rows = conn.query(
        &format!(
            "SELECT a.user_id, a.op_id, a.query_id, COUNT(*), {versions},
                    COALESCE(MAX(o.duplicates), 0), MIN(a.position)
             FROM push_applications a
             LEFT JOIN push_ops o
               ON o.tenant_id = a.tenant_id AND o.user_id = a.user_id AND o.op_id = a.op_id
             WHERE a.tenant_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR a.user_id = ?2)
             GROUP BY a.user_id, a.op_id, a.query_id
             ORDER BY MIN(a.position)"
        ),
        args![tenant, user],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let versions: Value = serde_json::from_str(r.str(4)?)?;
        out.push(
            json!({"opId": r.str(1)?, "userId": r.str(0)?, "queryId": r.str(2)?,
                        "applied": r.u64(3)?, "versions": versions, "duplicates": r.u64(5)?}),
        );
    }
    Ok(out)
}

/// Every stored idempotent answer, with how often it was replayed.
fn stored_answers(
    conn: &dyn Sql,
    tenant: &str,
    user: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    conn.query(
        "SELECT scope, user_id, key, status, replays FROM idempotent_answers
         WHERE tenant_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR user_id = ?2) ORDER BY created_ms, key",
        args![tenant, user],
    )?
    .iter()
    .map(|r| {
        Ok(json!({
            "scope": r.str(0)?, "userId": r.str(1)?, "key": r.str(2)?,
            "status": r.u64(3)?, "replays": r.u64(4)?,
        }))
    })
    .collect()
}
