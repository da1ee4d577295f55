//! Reads of the change log's current state: one row, a tenant's last position, live children,
//! the newest snapshot. Apart from the write path (`log.rs`) because the audience rules
//! (`audience.rs`) read through them while the write path calls the audience rules.

use crate::error::ApiError;
use crate::row_meta::RowMeta;
use rusqlite::{params, Connection, OptionalExtension};
use sync_core::protocol::Kind;

/// A row as stored.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub version: u64,
    pub deleted: bool,
    pub position: u64,
    pub meta: RowMeta,
    pub body: String,
}

pub fn current(
    conn: &Connection,
    tenant: &str,
    kind: Kind,
    key: &str,
) -> Result<Option<StoredRow>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, deleted, position, parent_id, owner_id, ts_ms, bytes_scanned, body
         FROM rows WHERE tenant_id = ?1 AND kind = ?2 AND key = ?3",
    )?;
    let row = stmt
        .query_row(params![tenant, kind.as_str(), key], |r| {
            Ok(StoredRow {
                version: r.get(0)?,
                deleted: r.get::<_, i64>(1)? != 0,
                position: r.get(2)?,
                meta: RowMeta {
                    key: key.to_string(),
                    parent_id: r.get(3)?,
                    owner_id: r.get(4)?,
                    ts_ms: r.get(5)?,
                    bytes_scanned: r.get(6)?,
                },
                body: r.get(7)?,
            })
        })
        .optional()?;
    Ok(row)
}

/// The tenant's last position (0 for an empty log); `None` for an unknown tenant.
pub fn last_position(conn: &Connection, tenant: &str) -> Result<Option<u64>, ApiError> {
    let p = conn
        .query_row(
            "SELECT last_position FROM tenants WHERE id = ?1",
            params![tenant],
            |r| r.get(0),
        )
        .optional()?;
    Ok(p)
}

/// Keys of the live rows of `kind` whose parent is `parent`.
pub fn live_children(
    conn: &Connection,
    tenant: &str,
    kind: Kind,
    parent: &str,
) -> Result<Vec<String>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT key FROM rows WHERE tenant_id = ?1 AND kind = ?2 AND parent_id = ?3 AND deleted = 0",
    )?;
    let keys = stmt
        .query_map(params![tenant, kind.as_str(), parent], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(keys)
}

/// `generatedAt` of the widget's newest snapshot, in milliseconds.
pub fn newest_snapshot_ms(
    conn: &Connection,
    tenant: &str,
    widget: &str,
) -> Result<Option<i64>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT MAX(ts_ms) FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot' AND parent_id = ?2",
    )?;
    Ok(stmt.query_row(params![tenant, widget], |r| r.get(0))?)
}
