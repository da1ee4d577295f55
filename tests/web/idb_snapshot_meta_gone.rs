//! Schema 8 (`idb/schema.rs`) drops schema 4's `snapshot_meta` store: a pulled snapshot is one
//! put, not two. The planner's snapshot metadata (read only when no held index is whole) and the
//! index's scan read it from the snapshot records themselves. A schema-7 database with a filled
//! cache, a held index and a queued rename upgrades in place: the store is gone, everything
//! else is kept, and the reads give what `MemoryStore` fed the same pages gives.

use super::idb_fixtures::{discard, dump, fresh_identity, open_fresh, seed_plan};
use super::idb_held_index::sorted;
use super::idb_out_of_line_keys::filled_at_version;
use super::idb_snapshot_reads::{assert_state_as_after, second_plan};
use super::push_raw::has_store;
use sync_core::engine::{MemoryStore, OutboxStore, Store};
use sync_core::web::idb::schema::SNAPSHOT_META_STORE;
use sync_core::web::IdbStore;
use wasm_bindgen_test::wasm_bindgen_test;

const WIDGETS: [&str; 4] = ["wid_1", "wid_10", "wid_1x", "wid_2"];

#[wasm_bindgen_test]
async fn upgrading_from_schema_7_drops_the_metadata_store_and_keeps_the_rest() {
    let identity = fresh_identity();
    let (old, parts, op) = filled_at_version(&identity, 7).await;
    let before = dump(&old, &WIDGETS).await;
    assert!(has_store(old.database_name(), SNAPSHOT_META_STORE).await);
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert!(
        !has_store(store.database_name(), SNAPSHOT_META_STORE).await,
        "{SNAPSHOT_META_STORE} is dropped"
    );
    assert_eq!(dump(&store, &WIDGETS).await, before);
    assert_eq!(store.outbox().await.unwrap(), vec![op]);
    let index = store.held_index().await.unwrap().unwrap();
    assert_eq!(index.at, "c1");
    let scanned = store.scan_held().await.unwrap().unwrap().parts;
    assert_eq!(sorted(index.parts), sorted(scanned.clone()));
    assert_eq!(sorted(parts), sorted(scanned));

    // The planner's metadata, read from the snapshots, before and after a page with appends
    // and a trim.
    assert_state_as_after(&store, &[seed_plan()]).await;
    store
        .commit_page(&second_plan(), Some("c1"), "c2")
        .await
        .unwrap();
    assert_state_as_after(&store, &[seed_plan(), second_plan()]).await;
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn a_new_database_keeps_snapshots_without_a_metadata_twin() {
    let (identity, store) = open_fresh().await;
    assert!(!has_store(store.database_name(), SNAPSHOT_META_STORE).await);
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let scanned = store.scan_held().await.unwrap().unwrap().parts;
    let memory = MemoryStore::new();
    memory.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let expected = memory.scan_held().await.unwrap().unwrap().parts;
    assert_eq!(sorted(scanned), sorted(expected));
    discard(&identity, store).await;
}
