//! The per-op rules of `POST /internal/sync/push` (PROTOCOL §4), applied in request order
//! inside the request's transaction.
//!
//! For each op:
//! 1. an `opId` this user already had applied (under any `Idempotency-Key`) gets its first
//!    result again and changes nothing — a retry after a lost answer, or a batch rebuilt
//!    around an op that went through, must never rename twice;
//! 2. anything but a live `Query` owned by the user → `404 not_found` (another user's query
//!    answers exactly like a missing one, so ids leak nothing);
//! 3. a patch with any field but `name_i18n` → `422 field_not_editable`; a `name_i18n` that
//!    is not a valid name → `422 invalid_name`;
//! 4. `expectedVersion` ≠ current version → `409 version_conflict` with `current`;
//! 5. otherwise the name is applied: version + 1 and a new log position, so every device
//!    of the owner pulls it (the pushing one too: its pull is how it learns the server row).

use crate::args;
use crate::error::ApiError;
use crate::log;
use crate::names::validate_name;
use crate::sql::Sql;
use crate::timefmt::format_ms;
use serde_json::{Map, Value};
use sync_core::protocol::push::{CurrentState, PushOp, PushResult};
use sync_core::protocol::{Kind, Row};

/// Who is pushing, and when.
#[derive(Debug, Clone, Copy)]
pub struct Pusher<'a> {
    pub tenant: &'a str,
    pub user: &'a str,
    pub now_ms: i64,
}

fn refused(op: &PushOp, status: u16, error: &str) -> PushResult {
    PushResult {
        op_id: op.op_id.clone(),
        id: op.id.clone(),
        ok: false,
        version: None,
        status: Some(status),
        error: Some(error.to_string()),
        current: None,
    }
}

/// Applies `ops` in order and returns one result per op. Call inside a transaction.
pub fn apply_ops(
    conn: &dyn Sql,
    who: Pusher<'_>,
    ops: &[PushOp],
) -> Result<Vec<PushResult>, ApiError> {
    ops.iter().map(|op| apply_op(conn, who, op)).collect()
}

fn apply_op(conn: &dyn Sql, who: Pusher<'_>, op: &PushOp) -> Result<PushResult, ApiError> {
    if let Some(first) = first_result(conn, who, &op.op_id)? {
        return Ok(first);
    }
    if op.kind != Kind::Query {
        return Ok(refused(op, 404, "not_found"));
    }
    let stored = log::current(conn, who.tenant, Kind::Query, &op.id)?
        .filter(|q| !q.deleted && q.meta.owner_id.as_deref() == Some(who.user));
    let Some(stored) = stored else {
        return Ok(refused(op, 404, "not_found"));
    };
    if op.patch.keys().any(|k| k != "name_i18n") || op.patch.is_empty() {
        return Ok(refused(op, 422, "field_not_editable"));
    }
    let name = match op.patch.get("name_i18n").map(validate_name) {
        Some(Ok(name)) => name,
        _ => return Ok(refused(op, 422, "invalid_name")),
    };
    let mut row: Row = serde_json::from_str(&stored.body)?;
    if op.expected_version != stored.version {
        let mut fields = Map::new();
        if let Some(current) = row.get("name_i18n") {
            fields.insert("name_i18n".into(), current.clone());
        }
        return Ok(PushResult {
            current: Some(CurrentState {
                version: stored.version,
                fields,
            }),
            ..refused(op, 409, "version_conflict")
        });
    }
    row.insert("name_i18n".into(), Value::Object(name));
    row.insert("updatedAt".into(), Value::from(format_ms(who.now_ms)));
    let written = log::upsert(conn, who.tenant, Kind::Query, &row, who.now_ms)?;
    let result = PushResult {
        op_id: op.op_id.clone(),
        id: op.id.clone(),
        ok: true,
        version: Some(written.version),
        status: None,
        error: None,
        current: None,
    };
    conn.execute(
        "INSERT INTO push_ops (tenant_id, user_id, op_id, query_id, result, applied_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            who.tenant,
            who.user,
            op.op_id,
            op.id,
            serde_json::to_string(&result)?,
            who.now_ms
        ],
    )?;
    conn.execute(
        "INSERT INTO push_applications (tenant_id, user_id, op_id, query_id, version, position, applied_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            who.tenant,
            who.user,
            op.op_id,
            op.id,
            written.version,
            written.position,
            who.now_ms
        ],
    )?;
    Ok(result)
}

/// The first result of an op this user already had applied, counting the duplicate.
fn first_result(
    conn: &dyn Sql,
    who: Pusher<'_>,
    op_id: &str,
) -> Result<Option<PushResult>, ApiError> {
    conn.query_opt(
        "UPDATE push_ops SET duplicates = duplicates + 1
         WHERE tenant_id = ?1 AND user_id = ?2 AND op_id = ?3 RETURNING result",
        args![who.tenant, who.user, op_id],
    )?
    .map(|r| Ok(serde_json::from_str(r.str(0)?)?))
    .transpose()
}

/// Renames a live query on the server's behalf (another device, an admin): version + 1 and
/// a new position, so a device's op on the old version meets a `409`.
pub fn rename_on_server(
    conn: &dyn Sql,
    tenant: &str,
    query_id: &str,
    name: Map<String, Value>,
    now_ms: i64,
) -> Result<log::Written, ApiError> {
    let stored = log::current(conn, tenant, Kind::Query, query_id)?
        .filter(|q| !q.deleted)
        .ok_or_else(|| ApiError::NotFound(format!("live Query {query_id}")))?;
    let mut row: Row = serde_json::from_str(&stored.body)?;
    row.insert("name_i18n".into(), Value::Object(name));
    row.insert("updatedAt".into(), Value::from(format_ms(now_ms)));
    log::upsert(conn, tenant, Kind::Query, &row, now_ms)
}
