//! Removing a row without a trace in the change log (`POST /admin/rows` with
//! `"op":"purge"`): no tombstone, no new position, so a device holding a cursor never
//! hears of it. Only a cold pull, which is a full replacement (PROTOCOL §9.1), removes
//! it from a device — exactly what a test needs to prove that a row deleted while the
//! client held no cursor (e.g. while it was revoked) does not survive on the device.

use crate::args;
use crate::error::ApiError;
use crate::log;
use crate::sql::Sql;
use sync_core::protocol::Kind;

/// Deletes the row and what hangs off it (a dashboard's widgets, a widget's snapshots),
/// live or tombstoned; returns how many rows were removed. `404` if the key is unknown.
pub fn purge(conn: &dyn Sql, tenant: &str, kind: Kind, key: &str) -> Result<usize, ApiError> {
    if !kind.is_versioned() {
        return Err(ApiError::BadRequest(
            "purge takes a versioned kind; snapshots go with their widget".into(),
        ));
    }
    log::current(conn, tenant, kind, key)?
        .ok_or_else(|| ApiError::NotFound(format!("{kind} {key}")))?;
    let mut removed = 0;
    if kind == Kind::Dashboard {
        let widgets = conn
            .query(
                "SELECT key FROM rows WHERE tenant_id = ?1 AND kind = 'Widget' AND parent_id = ?2",
                args![tenant, key],
            )?
            .iter()
            .map(|r| r.string(0))
            .collect::<Result<Vec<_>, _>>()?;
        for widget in widgets {
            removed += purge(conn, tenant, Kind::Widget, &widget)?;
        }
    }
    if kind == Kind::Widget {
        removed += conn.execute(
            "DELETE FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot' AND parent_id = ?2",
            args![tenant, key],
        )?;
    }
    removed += conn.execute(
        "DELETE FROM rows WHERE tenant_id = ?1 AND kind = ?2 AND key = ?3",
        args![tenant, kind.as_str(), key],
    )?;
    Ok(removed)
}
