//! The upgrade path of the IndexedDB schema (`idb/schema.rs` says what each version holds).
//!
//! The schema is versioned by hand instead of with `idb`'s `DatabaseBuilder`, which deletes
//! every object store it was not told about: a downgrade-then-upgrade or a half-deployed
//! release would silently drop user data. Here each version is one explicit step, and a step
//! drops only what it names (5: a redundant index; 7: stores it copied first; 8: the snapshot
//! metadata, rebuilt from nothing else); [`upgrade`] runs the steps between the version on disk
//! and the one requested.

use crate::protocol::Kind;
use crate::web::idb::batch::{recreate_replicated_stores, rekey_stores};
use crate::web::idb::error::IdbError;
use crate::web::idb::schema::*;
use idb::{Database, IndexParams, KeyPath, ObjectStoreParams, Transaction};
use std::cell::Cell;
use web_sys::{IdbDatabase, IdbObjectStore, IdbTransaction};

/// How schema 7 moves the replicated stores to out-of-line keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rekey {
    /// Every record copied under its key: the cache survives the upgrade.
    Copy,
    /// The stores created again empty, the cursor dropped (the next pull refills them): for
    /// when the copy, which needs room for a second copy of the cache until it commits, did
    /// not fit in the origin's quota. The outbox side is untouched either way.
    Recreate,
}

thread_local! {
    /// Test hook ([`fail_next_copy_with_quota`]).
    static COPY_FAULT: Cell<bool> = const { Cell::new(false) };
}

/// Makes the next schema-7 copy fail as a full disk fails it: the upgrade aborts with
/// `QuotaExceededError` (upgrade tests; no browser lets a test fill its quota on demand).
pub fn fail_next_copy_with_quota() {
    COPY_FAULT.with(|f| f.set(true));
}

/// Runs every schema step after `from` up to and including `to`, inside the `versionchange`
/// transaction `tx`, schema 7 as `rekey` says. Returns an error instead of panicking; the
/// caller aborts the upgrade.
pub fn upgrade(
    raw_db: &IdbDatabase,
    raw_tx: &IdbTransaction,
    from: u32,
    to: u32,
    rekey: Rekey,
) -> Result<(), IdbError> {
    let db = &Database::from(raw_db.clone());
    let tx = &Transaction::from(raw_tx.clone());
    if to > SCHEMA_VERSION {
        return Err(IdbError::Upgrade(format!(
            "version {to} is newer than this code's schema ({SCHEMA_VERSION})"
        )));
    }
    for version in from.saturating_add(1)..=to {
        match version {
            1 => create_stores(db)?,
            2 => create_read_indexes(tx)?,
            3 => create_outbox_stores(db)?,
            // Schema 7 rebuilds the metadata from the snapshots: a backfill here would still
            // be writing into the store that step deletes; schema 8 drops the store.
            4 if to < 8 => create_snapshot_meta_store(db, tx, to < 7)?,
            4 => {}
            5 => drop_redundant_snapshot_index(tx)?,
            6 => {
                db.create_object_store(HELD_INDEX_STORE, ObjectStoreParams::new())?;
            }
            7 if rekey == Rekey::Recreate => recreate_replicated_stores(raw_db, raw_tx, to < 8)?,
            7 => {
                rekey_stores(raw_db, raw_tx, to < 8)?;
                if COPY_FAULT.with(|f| f.replace(false)) {
                    return Err(IdbError::QuotaExceeded("injected by the test hook".into()));
                }
            }
            8 => drop_snapshot_meta_store(db)?,
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

/// Version 3: the outbox side. Only adds stores; rows, snapshots and meta are untouched.
fn create_outbox_stores(db: &Database) -> Result<(), IdbError> {
    let keyed = |path: &str| {
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single(path)));
        params
    };
    let outbox = db.create_object_store(OUTBOX_STORE, keyed(SEQ_KEY_PATH))?;
    outbox.create_index(
        OPS_BY_ENTITY,
        KeyPath::new_single(ENTITY_ID_FIELD),
        Some(IndexParams::new()),
    )?;
    db.create_object_store(COMMANDS_STORE, keyed(SEQ_KEY_PATH))?;
    for name in [CONFLICTS_STORE, DEAD_LETTERS_STORE] {
        let store = db.create_object_store(name, keyed(ID_KEY_PATH))?;
        store.create_index(
            BY_ORDER,
            KeyPath::new_single(ORDER_FIELD),
            Some(IndexParams::new()),
        )?;
    }
    db.create_object_store(OUTBOX_META_STORE, ObjectStoreParams::new())?;
    Ok(())
}

/// Version 5: drops `WidgetSnapshot.by_widget_generated`, whose key path is the store's own
/// primary key: reads range over the primary key, and no snapshot write maintains an index
/// for nothing. Rows, snapshots, metadata and the outbox are untouched.
fn drop_redundant_snapshot_index(tx: &Transaction) -> Result<(), IdbError> {
    let snapshots = tx.object_store(store_name(Kind::WidgetSnapshot))?;
    snapshots.delete_index(SNAPSHOTS_BY_WIDGET_GENERATED)?;
    Ok(())
}

/// Version 4: the snapshot metadata store, backfilled (when `backfill`) from the snapshots
/// already held.
fn create_snapshot_meta_store(
    db: &Database,
    tx: &Transaction,
    backfill: bool,
) -> Result<(), IdbError> {
    let mut params = ObjectStoreParams::new();
    params.key_path(Some(KeyPath::new_array(SNAPSHOT_META_KEY_PATH)));
    let metas: IdbObjectStore = db.create_object_store(SNAPSHOT_META_STORE, params)?.into();
    if !backfill {
        return Ok(());
    }
    let snapshots: IdbObjectStore = tx.object_store(store_name(Kind::WidgetSnapshot))?.into();
    crate::web::idb::batch::backfill_snapshot_meta(&snapshots, &metas)
}

/// Version 8: schema 4's `snapshot_meta` store goes (its metadata is read from the snapshots
/// when needed; see `idb/schema.rs`). Rows, snapshots, the held index and the outbox are
/// untouched.
fn drop_snapshot_meta_store(db: &Database) -> Result<(), IdbError> {
    if db
        .store_names()
        .iter()
        .any(|name| name == SNAPSHOT_META_STORE)
    {
        db.delete_object_store(SNAPSHOT_META_STORE)?;
    }
    Ok(())
}
