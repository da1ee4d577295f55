//! The write path of the change log. Every change takes the next position of the tenant's
//! sequence, so `position > p` is exactly "changed since p". Admin writes, the seed and
//! the snapshot generator all go through these functions.

use crate::args;
use crate::audience;
use crate::error::ApiError;
pub use crate::log_reads::{current, last_position, live_children, newest_snapshot_ms, StoredRow};
pub use crate::row_meta::{alert_closed, row_meta, RowMeta, ALERT_MAX_AGE_MS};
use crate::sql::{transaction, Sql, TxMode};
use sync_core::protocol::{Kind, Row};

/// Runs `f` in one write transaction that first takes the tenant's row lock, so the writers
/// of one tenant (requests of any server process, the generator) run one after the other:
/// what `f` reads before it writes is still true when it commits, and positions commit in
/// order. Unknown tenants are `404`.
pub fn write_transaction<R>(
    conn: &dyn Sql,
    tenant: &str,
    f: impl FnOnce(&dyn Sql) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    transaction(conn, TxMode::Write, |tx| {
        lock_tenant(tx, tenant)?.ok_or_else(|| ApiError::NotFound(format!("tenant {tenant}")))?;
        f(tx)
    })
}

/// Takes the tenant's row lock (an update that changes nothing; PostgreSQL holds it until the
/// transaction ends, SQLite's write transaction is exclusive anyway) and returns its last
/// position; `None` for an unknown tenant. Call inside a write transaction.
pub fn lock_tenant(conn: &dyn Sql, tenant: &str) -> Result<Option<u64>, ApiError> {
    conn.query_opt(
        "UPDATE tenants SET last_position = last_position WHERE id = ?1 RETURNING last_position",
        args![tenant],
    )?
    .map(|r| r.u64(0))
    .transpose()
}

/// What a write produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub version: u64,
    pub position: u64,
}

/// Takes the next position of the tenant's sequence.
/// The row lock this takes (PostgreSQL) is held until the transaction ends, so writers of one
/// tenant commit in position order and a reader never sees position p+1 without p.
fn next_position(conn: &dyn Sql, tenant: &str) -> Result<u64, ApiError> {
    conn.query_opt(
        "UPDATE tenants SET last_position = last_position + 1 WHERE id = ?1 RETURNING last_position",
        args![tenant],
    )?
    .ok_or_else(|| ApiError::NotFound(format!("tenant {tenant}")))?
    .u64(0)
}

/// Writes one change at a new position.
fn put(
    conn: &dyn Sql,
    tenant: &str,
    kind: Kind,
    meta: &RowMeta,
    version: u64,
    deleted: bool,
    body: &str,
) -> Result<u64, ApiError> {
    let position = next_position(conn, tenant)?;
    put_at(conn, tenant, kind, meta, version, deleted, body, position)?;
    Ok(position)
}

/// Writes one change at `position`, which the caller has taken from the sequence.
#[allow(clippy::too_many_arguments)]
fn put_at(
    conn: &dyn Sql,
    tenant: &str,
    kind: Kind,
    meta: &RowMeta,
    version: u64,
    deleted: bool,
    body: &str,
    position: u64,
) -> Result<(), ApiError> {
    conn.execute(
        "INSERT INTO rows (tenant_id, kind, key, version, deleted, position, first_position, parent_id,
                           owner_id, ts_ms, bytes_scanned, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (tenant_id, kind, key) DO UPDATE SET
           version = excluded.version, deleted = excluded.deleted, position = excluded.position,
           parent_id = excluded.parent_id, owner_id = excluded.owner_id, ts_ms = excluded.ts_ms,
           bytes_scanned = excluded.bytes_scanned, body = excluded.body",
        args![
        tenant,
        kind.as_str(),
        meta.key,
        version,
        deleted,
        position,
        meta.parent_id,
        meta.owner_id,
        meta.ts_ms,
        meta.bytes_scanned,
        body
    ],
    )?;
    Ok(())
}

/// Inserts or replaces a versioned row: version = current + 1, new position. Bumps the
/// epochs of users whose view changes in a way a tombstone cannot express.
pub fn upsert(
    conn: &dyn Sql,
    tenant: &str,
    kind: Kind,
    row: &Row,
    now_ms: i64,
) -> Result<Written, ApiError> {
    if !kind.is_versioned() {
        return Err(ApiError::BadRequest(
            "snapshots are appended through /admin/snapshots".into(),
        ));
    }
    let meta = row_meta(kind, row)?;
    let old = current(conn, tenant, kind, &meta.key)?;
    let version = old.as_ref().map_or(1, |o| o.version + 1);
    let deleted = kind == Kind::DqAlertOpen && alert_closed(row, meta.ts_ms, now_ms);
    let old_live: Option<Row> = match old {
        Some(o) if !o.deleted => Some(serde_json::from_str(&o.body)?),
        _ => None,
    };
    audience::bump_for_change(conn, tenant, kind, &meta.key, old_live.as_ref(), row)?;
    let position = put(
        conn,
        tenant,
        kind,
        &meta,
        version,
        deleted,
        &serde_json::to_string(row)?,
    )?;
    Ok(Written { version, position })
}

/// Deletes a live versioned row (its last state stays, so visibility of the tombstone is
/// judged like the row's). A dashboard takes its widgets with it; a widget its snapshots.
pub fn tombstone(conn: &dyn Sql, tenant: &str, kind: Kind, key: &str) -> Result<Written, ApiError> {
    if !kind.is_versioned() {
        return Err(ApiError::BadRequest(
            "snapshots are append-only and cannot be tombstoned".into(),
        ));
    }
    let old = current(conn, tenant, kind, key)?
        .filter(|o| !o.deleted)
        .ok_or_else(|| ApiError::NotFound(format!("live {kind} {key}")))?;
    let version = old.version + 1;
    let position = put(conn, tenant, kind, &old.meta, version, true, &old.body)?;
    match kind {
        Kind::Dashboard => {
            for widget in live_children(conn, tenant, Kind::Widget, key)? {
                tombstone(conn, tenant, Kind::Widget, &widget)?;
            }
        }
        Kind::Widget => {
            conn.execute(
                "DELETE FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot' AND parent_id = ?2",
                args![tenant, key],
            )?;
        }
        _ => {}
    }
    Ok(Written { version, position })
}

/// Appends a snapshot of a live widget. Snapshots of one widget must arrive in
/// chronological order (PROTOCOL §3), so `generatedAt` must be later than the newest one.
pub fn append_snapshot(conn: &dyn Sql, tenant: &str, row: &Row) -> Result<Written, ApiError> {
    let meta = row_meta(Kind::WidgetSnapshot, row)?;
    let widget = meta.parent_id.clone().unwrap_or_default();
    current(conn, tenant, Kind::Widget, &widget)?
        .filter(|w| !w.deleted)
        .ok_or_else(|| ApiError::NotFound(format!("live Widget {widget}")))?;
    if let (Some(newest), Some(ts)) = (newest_snapshot_ms(conn, tenant, &widget)?, meta.ts_ms) {
        if ts <= newest {
            return Err(ApiError::Conflict(format!(
                "generatedAt must be later than the newest snapshot of {widget}"
            )));
        }
    }
    let position = put(
        conn,
        tenant,
        Kind::WidgetSnapshot,
        &meta,
        1,
        false,
        &serde_json::to_string(row)?,
    )?;
    Ok(Written {
        version: 1,
        position,
    })
}

/// Drops all but the newest `keep` snapshots of a widget from the log. Devices keep their
/// own newest N, so a snapshot that left the log is never needed again.
pub fn prune_snapshots(
    conn: &dyn Sql,
    tenant: &str,
    widget: &str,
    keep: usize,
) -> Result<usize, ApiError> {
    let n = conn.execute(
        "DELETE FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot' AND parent_id = ?2
           AND ts_ms < (SELECT ts_ms FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot'
                        AND parent_id = ?2 ORDER BY ts_ms DESC LIMIT 1 OFFSET ?3)",
        args![tenant, widget, keep.saturating_sub(1)],
    )?;
    Ok(n)
}

/// Tombstones open alerts that became older than 7 days, so devices drop them.
/// Runs before every page, so the common case (nothing expired) is one read outside any
/// transaction; only when there is something to expire does it take the tenant's write lock
/// (and reads again under it: another writer may have expired them meanwhile).
pub fn expire_alerts(conn: &dyn Sql, tenant: &str, now_ms: i64) -> Result<usize, ApiError> {
    let expired = |conn: &dyn Sql| {
        conn.query(
            "SELECT key FROM rows WHERE tenant_id = ?1 AND kind = 'DqAlertOpen' AND parent_id IS NULL
               AND deleted = 0 AND ts_ms < ?2",
            args![tenant, now_ms - ALERT_MAX_AGE_MS],
        )?
        .iter()
        .map(|r| r.string(0))
        .collect::<Result<Vec<_>, ApiError>>()
    };
    if expired(conn)?.is_empty() {
        return Ok(0);
    }
    write_transaction(conn, tenant, |tx| {
        let keys = expired(tx)?;
        for key in &keys {
            tombstone(tx, tenant, Kind::DqAlertOpen, key)?;
        }
        Ok(keys.len())
    })
}

/// Writes the rows of a freshly created tenant (seed): version 1 and no epoch
/// bookkeeping, because no device can hold anything of it yet. Closed alerts are stored
/// deleted. Positions are taken in one step for the whole batch.
pub fn insert_fresh<'a>(
    conn: &dyn Sql,
    tenant: &str,
    rows: impl IntoIterator<Item = (Kind, &'a Row)>,
    now_ms: i64,
) -> Result<u64, ApiError> {
    // Under the tenant's row lock, so no other writer of this tenant interleaves.
    let mut position =
        lock_tenant(conn, tenant)?.ok_or_else(|| ApiError::NotFound(format!("tenant {tenant}")))?;
    for (kind, row) in rows {
        let meta = row_meta(kind, row)?;
        let deleted = kind == Kind::DqAlertOpen && alert_closed(row, meta.ts_ms, now_ms);
        position += 1;
        put_at(
            conn,
            tenant,
            kind,
            &meta,
            1,
            deleted,
            &serde_json::to_string(row)?,
            position,
        )?;
    }
    conn.execute(
        "UPDATE tenants SET last_position = ?2 WHERE id = ?1",
        args![tenant, position],
    )?;
    Ok(position)
}
