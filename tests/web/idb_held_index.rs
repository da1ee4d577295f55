//! The held index on IndexedDB (schema 6, `web/idb/held_index.rs`): a scan reads every kind's
//! part from the rows as `MemoryStore` does; a save lands only at the stored cursor and page
//! serial; the next page commit and a wipe drop it and bump the serial, a commit planned at
//! another serial is refused; a settled rename records the version it raised; a pull leaves an index exact at
//! the cursor; and a schema-5 database with a filled cache and a queued rename upgrades
//! without losing either, then gets its index from the first pull.

use super::idb_fixtures::{discard, fresh_identity, open_fresh, seed_plan};
use super::push_idb_fixtures::{intent, store_with_queries};
use sync_core::engine::{
    build_batch, pull, ApplyPlan, HeldPart, MemoryStore, OpSettlement, OutboxStore, PullConfig,
    ScriptedTransport, ServerLog, Store, StoreError,
};
use sync_core::protocol::{Kind, PullItem, Row};
use sync_core::web::{IdbStore, WebClock, WebRandom};
use wasm_bindgen_test::wasm_bindgen_test;

/// Parts in a comparable order.
pub fn sorted(mut parts: Vec<HeldPart>) -> Vec<HeldPart> {
    parts.sort_by_key(|p| p.kind);
    for part in parts.iter_mut() {
        part.versions.sort();
        part.widgets.sort_by(|a, b| a.key.cmp(&b.key));
        part.snapshots
            .sort_by(|a, b| (&a.0, &a.1.generated_at).cmp(&(&b.0, &b.1.generated_at)));
    }
    parts
}

#[wasm_bindgen_test]
async fn a_scan_reads_what_memory_store_reads_and_a_save_lands_only_at_the_stored_cursor() {
    let (identity, store) = open_fresh().await;
    let memory = MemoryStore::new();
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    memory.commit_page(&seed_plan(), None, "c1").await.unwrap();
    assert_eq!(store.held_index().await.unwrap(), None, "nothing saved yet");
    let scan = store.scan_held().await.unwrap().unwrap();
    let memory_scan = memory.scan_held().await.unwrap().unwrap();
    assert_eq!(scan.cursor.as_deref(), Some("c1"));
    assert_eq!(scan.page_serial, 1, "one page committed");
    assert_eq!(
        (&scan.cursor, scan.settled_epoch, scan.page_serial),
        (
            &memory_scan.cursor,
            memory_scan.settled_epoch,
            memory_scan.page_serial
        )
    );
    assert_eq!(sorted(scan.parts.clone()), sorted(memory_scan.parts));
    let parts = scan.parts;
    assert_eq!(parts.len(), Kind::ALL.len());

    assert!(
        !store.save_held_index("c0", 1, None, &parts).await.unwrap(),
        "not the stored cursor"
    );
    assert!(
        !store.save_held_index("c1", 0, None, &parts).await.unwrap(),
        "not the stored page serial"
    );
    assert_eq!(
        store.held_index().await.unwrap(),
        None,
        "a refused save writes nothing"
    );
    assert!(store.save_held_index("c1", 1, None, &parts).await.unwrap());
    let index = store.held_index().await.unwrap().unwrap();
    assert_eq!(index.at, "c1");
    assert!(index.is_whole());
    assert_eq!(sorted(index.parts), sorted(parts.clone()));

    // The next page commit drops it, even one that keeps the cursor (a page may change rows
    // and come back with the cursor it was fetched with); a wipe drops it too.
    // It bumps the page serial: an index known before it is not saved after it.
    store
        .commit_page(&ApplyPlan::<Row>::default(), Some("c1"), "c1")
        .await
        .unwrap();
    assert_eq!(store.held_index().await.unwrap(), None);
    assert_eq!(store.meta().await.unwrap().page_serial, 2);
    assert!(!store.save_held_index("c1", 1, None, &parts).await.unwrap());
    assert!(store.save_held_index("c1", 2, None, &parts).await.unwrap());
    assert!(store.held_index().await.unwrap().is_some());
    store.wipe(&[Kind::Dashboard], true).await.unwrap();
    assert_eq!(store.held_index().await.unwrap(), None);
    assert_eq!(
        store.meta().await.unwrap().page_serial,
        3,
        "a wipe bumps it"
    );
    discard(&identity, store).await;
}

/// A plan decided at one page serial is refused at any other, though the cursor matches: a
/// page of another context may have come back with the cursor it was fetched with.
#[wasm_bindgen_test]
async fn a_commit_planned_at_another_page_serial_is_refused_and_writes_nothing() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = store.scan_held().await.unwrap().unwrap();
    let stale = ApplyPlan::<Row> {
        row_deletes: vec![(Kind::Dashboard, "dsh_1".into())],
        page_serial: Some(0),
        ..ApplyPlan::default()
    };
    assert_eq!(
        store.commit_page(&stale, Some("c1"), "c2").await,
        Err(StoreError::CursorMoved)
    );
    let after = store.scan_held().await.unwrap().unwrap();
    assert_eq!(after, before, "nothing written, the serial not bumped");
    let current = ApplyPlan {
        page_serial: Some(1),
        ..stale
    };
    store.commit_page(&current, Some("c1"), "c2").await.unwrap();
    let meta = store.meta().await.unwrap();
    assert_eq!((meta.cursor.as_deref(), meta.page_serial), (Some("c2"), 2));
    assert_eq!(store.row(Kind::Dashboard, "dsh_1").await.unwrap(), None);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn a_settled_rename_records_the_version_it_raised() {
    let (identity, store) = store_with_queries().await;
    let scan = store.scan_held().await.unwrap().unwrap();
    assert!(store
        .save_held_index("c1", scan.page_serial, None, &scan.parts)
        .await
        .unwrap());
    let op = store
        .enqueue_rename(&intent("qry_1", "Renamed", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    let batch = build_batch(&store.outbox().await.unwrap(), 2).unwrap();
    store.begin_batch(&batch).await.unwrap();
    let applied = OpSettlement::Applied {
        seq: op.seq,
        query_id: "qry_1".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: op.name_i18n.clone(),
    };
    store.settle_batch(&batch.key, &[applied]).await.unwrap();
    let index = store.held_index().await.unwrap().unwrap();
    assert_eq!(index.raised, vec![("qry_1".to_string(), 2)]);
    assert_eq!(store.meta().await.unwrap().settled_epoch, 1);
    // A save at the epoch before the settlement is refused; at the stored one it drops the
    // raised records (its parts hold them).
    let scan = store.scan_held().await.unwrap().unwrap();
    let (serial, parts) = (scan.page_serial, scan.parts);
    assert_eq!(scan.settled_epoch, 1);
    assert!(!store
        .save_held_index("c1", serial, Some(0), &parts)
        .await
        .unwrap());
    assert_eq!(store.held_index().await.unwrap().unwrap().raised.len(), 1);
    assert!(store
        .save_held_index("c1", serial, Some(1), &parts)
        .await
        .unwrap());
    assert!(store.held_index().await.unwrap().unwrap().raised.is_empty());
    discard(&identity, store).await;
}

fn item(kind: Kind, id: &str, version: u64, extra: serde_json::Value) -> PullItem {
    let mut row: Row = extra.as_object().cloned().unwrap_or_default();
    row.insert(kind.key_field().unwrap_or("id").into(), id.into());
    PullItem::Upsert { kind, row, version }
}

fn log() -> Vec<PullItem> {
    let mut items = Vec::new();
    for i in 0..6 {
        items.push(item(
            Kind::Dashboard,
            &format!("dsh_{i}"),
            1,
            serde_json::json!({"name_i18n": {"default": "D"}}),
        ));
        items.push(item(
            Kind::Widget,
            &format!("wdg_{i}"),
            1,
            serde_json::json!({"dashboardId": format!("dsh_{i}"), "metricKey": "adr"}),
        ));
    }
    items.push(item(
        Kind::Dashboard,
        "dsh_1",
        2,
        serde_json::json!({"name_i18n": {"default": "E"}}),
    ));
    items.push(PullItem::Tombstone {
        kind: Kind::Widget,
        id: "wdg_2".into(),
    });
    items
}

async fn pull_pages(store: &IdbStore, max_pages: u32) {
    let transport = ScriptedTransport::with_log(ServerLog::new(log()));
    let config = PullConfig {
        page_size: 3,
        max_pages,
        ..PullConfig::new("usr_1")
    };
    pull(
        store,
        &transport,
        &WebClock,
        &WebRandom,
        &config,
        &mut |_| {},
    )
    .await
    .unwrap();
}

#[wasm_bindgen_test]
async fn a_pull_leaves_an_index_exact_at_the_cursor() {
    let (identity, store) = open_fresh().await;
    for max_pages in [2, 1, 100] {
        pull_pages(&store, max_pages).await;
        let index = store.held_index().await.unwrap().unwrap();
        let cursor = store.meta().await.unwrap().cursor.unwrap();
        assert_eq!(index.at, cursor);
        let scanned = store.scan_held().await.unwrap().unwrap().parts;
        assert_eq!(sorted(index.parts), sorted(scanned));
    }
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_5_keeps_the_cache_and_the_queued_rename_and_builds_the_index() {
    let identity = fresh_identity();
    let old = IdbStore::open_at_version(&identity, 5).await.unwrap();
    let cursor = ServerLog::cursor_at(0);
    old.commit_page(&seed_plan(), None, &cursor).await.unwrap();
    let op = old
        .enqueue_rename(&intent("qry_1", "Queued before the upgrade", "op_1", 7))
        .await
        .unwrap()
        .unwrap();
    let rows = old.rows(Kind::Widget).await.unwrap();
    let snapshots = old.snapshots_of("wid_1").await.unwrap();
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert_eq!(store.rows(Kind::Widget).await.unwrap(), rows);
    assert_eq!(store.snapshots_of("wid_1").await.unwrap(), snapshots);
    assert_eq!(store.outbox().await.unwrap(), vec![op]);
    assert_eq!(store.held_index().await.unwrap(), None);
    // The first pull after the upgrade (nothing new on the server) rebuilds the index.
    let transport = ScriptedTransport::with_log(ServerLog::new(Vec::new()));
    pull(
        &store,
        &transport,
        &WebClock,
        &WebRandom,
        &PullConfig::new("usr_web"),
        &mut |_| {},
    )
    .await
    .unwrap();
    let index = store.held_index().await.unwrap().unwrap();
    assert_eq!(index.at, cursor);
    assert_eq!(store.meta().await.unwrap().cursor, Some(cursor));
    let scanned = store.scan_held().await.unwrap().unwrap().parts;
    assert_eq!(sorted(index.parts), sorted(scanned));
    discard(&identity, store).await;
}
