//! Reads of the change log's current state: one row, a tenant's last position, live children,
//! the newest snapshot. Apart from the write path (`log.rs`) because the audience rules
//! (`audience.rs`) read through them while the write path calls the audience rules.

use crate::args;
use crate::error::ApiError;
use crate::row_meta::RowMeta;
use crate::sql::Sql;
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
    conn: &dyn Sql,
    tenant: &str,
    kind: Kind,
    key: &str,
) -> Result<Option<StoredRow>, ApiError> {
    conn.query_opt(
        "SELECT version, deleted, position, parent_id, owner_id, ts_ms, bytes_scanned, body
         FROM rows WHERE tenant_id = ?1 AND kind = ?2 AND key = ?3",
        args![tenant, kind.as_str(), key],
    )?
    .map(|r| {
        Ok(StoredRow {
            version: r.u64(0)?,
            deleted: r.bool(1)?,
            position: r.u64(2)?,
            meta: RowMeta {
                key: key.to_string(),
                parent_id: r.opt_string(3)?,
                owner_id: r.opt_string(4)?,
                ts_ms: r.opt_i64(5)?,
                bytes_scanned: r.opt_i64(6)?,
            },
            body: r.string(7)?,
        })
    })
    .transpose()
}

/// The tenant's last position (0 for an empty log); `None` for an unknown tenant.
pub fn last_position(conn: &dyn Sql, tenant: &str) -> Result<Option<u64>, ApiError> {
    conn.query_opt(
        "SELECT last_position FROM tenants WHERE id = ?1",
        args![tenant],
    )?
    .map(|r| r.u64(0))
    .transpose()
}

/// Keys of the live rows of `kind` whose parent is `parent`.
pub fn live_children(
    conn: &dyn Sql,
    tenant: &str,
    kind: Kind,
    parent: &str,
) -> Result<Vec<String>, ApiError> {
    conn.query(
        "SELECT key FROM rows WHERE tenant_id = ?1 AND kind = ?2 AND parent_id = ?3 AND deleted = 0",
        args![tenant, kind.as_str(), parent],
    )?
    .iter()
    .map(|r| r.string(0))
    .collect()
}

/// `generatedAt` of the widget's newest snapshot, in milliseconds.
pub fn newest_snapshot_ms(
    conn: &dyn Sql,
    tenant: &str,
    widget: &str,
) -> Result<Option<i64>, ApiError> {
    conn.query_one(
        "SELECT MAX(ts_ms) FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot' AND parent_id = ?2",
        args![tenant, widget],
    )?
    .opt_i64(0)
}
