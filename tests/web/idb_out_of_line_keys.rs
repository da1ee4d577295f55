//! Schema 7 (`idb/schema.rs`): the replicated stores keep their keys out of line, so a put no
//! longer makes the browser deserialize a clone of each record to read its key. A schema-6
//! database with a filled cache, a held index and a queued rename upgrades in place: every
//! record under its old key, the index and the outbox untouched; the
//! upgraded store then pulls, renders and settles as before. An upgrade whose copy does not fit
//! in the quota recreates the cache empty and keeps the outbox.

use super::idb_fixtures::{discard, dump, fresh_identity, seed_plan, snapshot, widget};
use super::idb_held_index::sorted;
use super::push_idb_fixtures::intent;
use super::push_raw::{has_store, open};
use super::support::request_done;
use js_sys::Array;
use sync_core::engine::{ApplyPlan, HeldPart, OutboxOp, OutboxStore, Store};
use sync_core::protocol::identity::Identity;
use sync_core::protocol::Kind;
use sync_core::web::idb::schema::{store_name, SNAPSHOT_META_STORE, WIDGETS_BY_DASHBOARD};
use sync_core::web::IdbStore;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

const WIDGETS: [&str; 3] = ["wid_1", "wid_2", "wid_3"];

/// The replicated stores: every versioned kind and the snapshots (schema 4's metadata store,
/// which 7 rebuilt out of line, is gone since 8: `idb_snapshot_meta_gone.rs`).
fn replicated_stores() -> Vec<&'static str> {
    Kind::ALL.iter().map(|k| store_name(*k)).collect()
}

/// Each replicated store's key path (`None`: out of line) and its primary keys, as JSON.
async fn raw_keys(name: &str) -> Vec<(&'static str, Option<String>, String)> {
    let db = open(name).await;
    let mut out = Vec::new();
    for store_name in replicated_stores() {
        let tx = db.transaction_with_str(store_name).unwrap();
        let store = tx.object_store(store_name).unwrap();
        let path = store.key_path().unwrap();
        let path = (!path.is_null()).then(|| js_sys::JSON::stringify(&path).unwrap().into());
        let keys: Array = request_done(&store.get_all_keys().unwrap())
            .await
            .unwrap()
            .unchecked_into();
        let keys = js_sys::JSON::stringify(&keys).unwrap().into();
        out.push((store_name, path, keys));
    }
    db.close();
    out
}

/// A database at schema `version` (6 or later: the held index's) with a filled cache, a held
/// index exact at its cursor (its parts are returned) and a queued rename.
pub async fn filled_at_version(
    identity: &Identity,
    version: u32,
) -> (IdbStore, Vec<HeldPart>, OutboxOp) {
    let old = IdbStore::open_at_version(identity, version).await.unwrap();
    old.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let scan = old.scan_held().await.unwrap().unwrap();
    let (serial, epoch) = (scan.page_serial, Some(scan.settled_epoch));
    assert!(old
        .save_held_index("c1", serial, epoch, &scan.parts)
        .await
        .unwrap());
    let op = old
        .enqueue_rename(&intent("qry_1", "Queued before the upgrade", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    (old, scan.parts, op)
}

/// The keys of the widgets of `dashboard`, read through the `by_dashboard` index.
async fn widget_keys_of(store: &IdbStore, dashboard: &str) -> Vec<String> {
    let widgets = store.widgets_of(dashboard).await.unwrap();
    widgets.into_iter().map(|w| w.key).collect()
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_6_keeps_every_record_under_its_key() {
    let identity = fresh_identity();
    let (old, parts, op) = filled_at_version(&identity, 6).await;
    let before = dump(&old, &WIDGETS).await;
    let widgets = old.widgets_of("dsh_1").await.unwrap();
    let keys_before = raw_keys(old.database_name()).await;
    assert!(keys_before.iter().all(|(_, path, _)| path.is_some()));
    assert!(has_store(old.database_name(), SNAPSHOT_META_STORE).await);
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert!(!has_store(store.database_name(), SNAPSHOT_META_STORE).await);
    assert_eq!(dump(&store, &WIDGETS).await, before);
    assert_eq!(store.widgets_of("dsh_1").await.unwrap(), widgets);
    assert_eq!(store.outbox().await.unwrap(), vec![op]);
    let keys_after = raw_keys(store.database_name()).await;
    for ((name, _, before), (_, path, after)) in keys_before.iter().zip(&keys_after) {
        assert_eq!(path, &None, "{name} keeps its keys out of line");
        assert_eq!(before, after, "{name} holds the same keys");
    }
    // The held index is untouched, and still what a scan of the rows reads.
    let index = store.held_index().await.unwrap().unwrap();
    assert_eq!(index.at, "c1");
    let scanned = store.scan_held().await.unwrap().unwrap().parts;
    assert_eq!(sorted(index.parts), sorted(scanned.clone()));
    assert_eq!(sorted(parts), sorted(scanned));

    // The upgraded store takes pages as before: a new widget on dsh_1, a snapshot, a delete.
    let page = ApplyPlan {
        row_puts: vec![widget("wid_4", "dsh_1", 1)],
        snapshot_puts: vec![snapshot("wid_4", "2024-05-01T08:00:00Z", 0.5)],
        row_deletes: vec![(Kind::Widget, "wid_3".into())],
        ..ApplyPlan::default()
    };
    store.commit_page(&page, Some("c1"), "c2").await.unwrap();
    let on_dashboard = widget_keys_of(&store, "dsh_1").await;
    assert_eq!(
        on_dashboard,
        ["wid_1", "wid_2", "wid_4"],
        "{WIDGETS_BY_DASHBOARD} is back"
    );
    assert_eq!(
        store
            .latest_snapshot("wid_4")
            .await
            .unwrap()
            .unwrap()
            .generated_at,
        "2024-05-01T08:00:00Z"
    );
    assert!(store.row(Kind::Widget, "wid_3").await.unwrap().is_none());
    discard(&identity, store).await;
}

/// A database older than schema 4 never had the snapshot metadata store, and the upgrade to
/// today's schema builds none (4's backfill and 7's rebuild are skipped: 8 drops the store);
/// the index's scan reads every snapshot's metadata from the records.
#[wasm_bindgen_test]
async fn upgrading_from_schema_3_scans_the_metadata_of_every_snapshot() {
    let identity = fresh_identity();
    let old = IdbStore::open_at_version(&identity, 3).await.unwrap();
    old.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = dump(&old, &WIDGETS).await;
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert_eq!(dump(&store, &WIDGETS).await, before);
    let scanned = store.scan_held().await.unwrap().unwrap().parts;
    let metas = scanned
        .iter()
        .find(|p| p.kind == Kind::WidgetSnapshot)
        .unwrap();
    let held: usize = before.snapshots.values().map(Vec::len).sum();
    assert_eq!(
        metas.snapshots.len(),
        held,
        "one metadata record per snapshot"
    );
    for (widget, meta) in &metas.snapshots {
        let snapshots = &before.snapshots[widget];
        assert!(snapshots
            .iter()
            .any(|s| s.generated_at == meta.generated_at && s.rows_digest == meta.rows_digest));
    }
    discard(&identity, store).await;
}

/// Schema 7 copies the cache before it drops the old stores: on a nearly full disk the copy
/// fails. The open then recreates the cache empty instead (the next pull refills it) and keeps
/// every queued edit, rather than failing on every start until the user frees space.
#[wasm_bindgen_test]
async fn an_upgrade_whose_copy_does_not_fit_recreates_the_cache_and_keeps_the_outbox() {
    let identity = fresh_identity();
    let (old, _, op) = filled_at_version(&identity, 6).await;
    old.set_access_revoked(true).await.unwrap();
    let serial = old.meta().await.unwrap().page_serial;
    old.close();
    drop(old);

    IdbStore::fail_next_upgrade_copy_with_quota();
    let store = IdbStore::open(&identity).await.unwrap();
    assert!(
        !has_store(store.database_name(), SNAPSHOT_META_STORE).await,
        "step 8 drops what the recreation left"
    );
    assert_eq!(
        store.outbox().await.unwrap(),
        vec![op],
        "the queued rename is kept"
    );
    for kind in Kind::ALL {
        assert!(
            !store.holds_any(kind).await.unwrap(),
            "{kind:?} recreated empty"
        );
    }
    let meta = store.meta().await.unwrap();
    assert_eq!(meta.cursor, None, "the next pull is a cold start");
    assert!(
        meta.access_revoked,
        "the revoked flag stays until a pull clears it"
    );
    assert_eq!(meta.page_serial, serial + 1);
    assert_eq!(store.held_index().await.unwrap(), None);
    let keys = raw_keys(store.database_name()).await;
    for (name, path, keys) in &keys {
        assert_eq!(path, &None, "{name} keeps its keys out of line");
        assert_eq!(keys, "[]", "{name} is empty");
    }

    // The recreated cache takes the pull that refills it, the Widget index included.
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let on_dashboard = widget_keys_of(&store, "dsh_1").await;
    assert_eq!(on_dashboard, ["wid_1", "wid_2"]);
    assert_eq!(store.outbox().await.unwrap().len(), 1);
    discard(&identity, store).await;
}
