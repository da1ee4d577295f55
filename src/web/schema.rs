//! The IndexedDB schema and its upgrade path.
//!
//! The schema is versioned by hand instead of with `idb`'s `DatabaseBuilder`, which deletes
//! every object store it was not told about: a downgrade-then-upgrade or a half-deployed
//! release would silently drop user data. Here each version is one explicit step that only
//! adds; [`upgrade`] runs the steps between the version on disk and the one requested.
//!
//! Version history:
//! 1. One object store per kind plus `meta`.
//!    - Versioned kinds (`Dashboard`, `Widget`, `MetricDefinition`, `Query`, `Projection`,
//!      `DqAlertOpen`): records `{key, version, row}` with key path `"key"`; Widget records
//!      also carry `dashboardId` (copied from the row) so it can be indexed.
//!    - `WidgetSnapshot`: records `{widgetId, generatedAt, paramsHash, rowsDigest, row}` with
//!      key path `["widgetId", "generatedAt"]`.
//!    - `meta`: out-of-line keys (`"cursor"`, `"accessRevoked"`), plain values.
//! 2. Read indexes: `Widget.by_dashboard` on `dashboardId`, and
//!    `WidgetSnapshot.by_widget_generated` on `["widgetId", "generatedAt"]` (range scans per
//!    widget, in time order).
//!
//! Planned (not created yet; each will be the next version step, never a rewrite of 1–2):
//! - `outbox`: queued pushes `{seq, opId, kind, id, expectedVersion, patch}`, auto-increment
//!   `seq` so replay keeps order; written with `durability: "strict"` together with the edit.
//! - `commands`: deferred authoring requests `{seq, method, path, body, ifMatch}`, same order
//!   rule as the outbox.
//! - `conflicts`: `{id, kind, entityId, local, server}` keyed by `id`.
//! - `dead_letters`: `{opId, reason, op}` keyed by `opId`.

use super::idb_error::IdbError;
use crate::protocol::Kind;
use idb::{Database, IndexParams, KeyPath, ObjectStoreParams, Transaction};

/// The schema version this code writes and expects.
pub const SCHEMA_VERSION: u32 = 2;

/// Object store of sync bookkeeping (cursor, flags).
pub const META_STORE: &str = "meta";
/// `meta` key of the opaque pull cursor (a string; absent means cold start).
pub const CURSOR_KEY: &str = "cursor";
/// `meta` key of the access-revoked flag (a boolean).
pub const ACCESS_REVOKED_KEY: &str = "accessRevoked";

/// Key path of versioned-kind records.
pub const ROW_KEY_PATH: &str = "key";
/// Index of widgets by their dashboard.
pub const WIDGETS_BY_DASHBOARD: &str = "by_dashboard";
/// Field of Widget records the [`WIDGETS_BY_DASHBOARD`] index reads.
pub const DASHBOARD_ID_FIELD: &str = "dashboardId";
/// Index of snapshots by (widget, generation time).
pub const SNAPSHOTS_BY_WIDGET_GENERATED: &str = "by_widget_generated";
/// Key path of snapshot records and of [`SNAPSHOTS_BY_WIDGET_GENERATED`].
pub const SNAPSHOT_KEY_PATH: [&str; 2] = ["widgetId", "generatedAt"];

/// The object store holding rows of `kind`: the kind's wire name.
pub fn store_name(kind: Kind) -> &'static str {
    kind.as_str()
}

/// Runs every schema step after `from` up to and including `to`, inside the `versionchange`
/// transaction `tx`. Returns an error instead of panicking; the caller aborts the upgrade.
pub fn upgrade(db: &Database, tx: &Transaction, from: u32, to: u32) -> Result<(), IdbError> {
    if to > SCHEMA_VERSION {
        return Err(IdbError::Upgrade(format!(
            "version {to} is newer than this code's schema ({SCHEMA_VERSION})"
        )));
    }
    for version in from.saturating_add(1)..=to {
        match version {
            1 => create_stores(db)?,
            2 => create_read_indexes(tx)?,
            other => return Err(IdbError::Upgrade(format!("no step for version {other}"))),
        }
    }
    Ok(())
}

/// Version 1: one store per kind and `meta`.
fn create_stores(db: &Database) -> Result<(), IdbError> {
    for kind in Kind::ALL {
        let mut params = ObjectStoreParams::new();
        if kind.is_versioned() {
            params.key_path(Some(KeyPath::new_single(ROW_KEY_PATH)));
        } else {
            params.key_path(Some(KeyPath::new_array(SNAPSHOT_KEY_PATH)));
        }
        db.create_object_store(store_name(kind), params)?;
    }
    db.create_object_store(META_STORE, ObjectStoreParams::new())?;
    Ok(())
}

/// Version 2: the indexes the read API scans.
fn create_read_indexes(tx: &Transaction) -> Result<(), IdbError> {
    let widgets = tx.object_store(store_name(Kind::Widget))?;
    widgets.create_index(
        WIDGETS_BY_DASHBOARD,
        KeyPath::new_single(DASHBOARD_ID_FIELD),
        Some(IndexParams::new()),
    )?;
    let snapshots = tx.object_store(store_name(Kind::WidgetSnapshot))?;
    snapshots.create_index(
        SNAPSHOTS_BY_WIDGET_GENERATED,
        KeyPath::new_array(SNAPSHOT_KEY_PATH),
        Some(IndexParams::new()),
    )?;
    Ok(())
}
