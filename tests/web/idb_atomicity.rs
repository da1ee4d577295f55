//! A page and its cursor are one transaction (PROTOCOL §3): a page whose transaction aborts
//! part-way leaves rows and cursor exactly as they were. And the hazard that breaks this in
//! practice, awaiting something other than an IndexedDB request inside a transaction, is
//! caught as a typed error with nothing written.

use super::idb_fixtures::{dashboard, discard, dump, open_fresh, seed_plan, snapshot, widget};
use sync_core::engine::{ApplyPlan, Clock, Store, StoreError};
use sync_core::protocol::Kind;
use sync_core::web::idb::schema::{CURSOR_KEY, META_STORE};
use sync_core::web::{Durability, IdbError, WebClock};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const WIDGETS: [&str; 4] = ["wid_1", "wid_2", "wid_3", "wid_big"];

/// A page that touches everything: a reset, deletes, 60 row puts and 20 snapshot puts.
fn big_page() -> ApplyPlan {
    let mut row_puts = vec![dashboard("dsh_1", 9)];
    row_puts.extend((0..60).map(|i| widget(&format!("wid_n{i:02}"), "dsh_1", 3)));
    ApplyPlan {
        clear_kinds: vec![Kind::Widget],
        row_deletes: vec![(Kind::Dashboard, "dsh_2".into())],
        snapshot_deletes: vec![
            ("wid_1".into(), "2024-05-01T07:00:00Z".into()),
            ("wid_2".into(), "2024-05-01T07:00:00Z".into()),
        ],
        row_puts,
        snapshot_puts: (0..20)
            .map(|i| {
                snapshot(
                    "wid_big",
                    &format!("2024-05-02T00:{i:02}:00Z"),
                    f64::from(i),
                )
            })
            .collect(),
        replacement: Default::default(),
        settled_epoch: None,
        page_serial: None,
    }
}

#[wasm_bindgen_test]
async fn a_page_aborted_midway_leaves_rows_and_cursor_exactly_as_before() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = dump(&store, &WIDGETS).await;

    let page = big_page();
    // 1 clear + 1 delete + 2 snapshot deletes + 61 puts + 20 snapshot puts + the cursor.
    let total = 86;
    for after_writes in [0, 1, 2, 4, 30, 65, total - 1, total, total + 10] {
        store.fail_next_commit_after(after_writes);
        let result = store.commit_page(&page, Some("c1"), "c2").await;
        assert!(
            matches!(result, Err(StoreError::Aborted(_))),
            "abort after {after_writes}: {result:?}"
        );
        assert_eq!(
            dump(&store, &WIDGETS).await,
            before,
            "abort after {after_writes} writes changed the store"
        );
    }

    // Control: the same page without the hook applies and moves the cursor, so the dumps
    // above would have shown any partial write.
    store.commit_page(&page, Some("c1"), "c2").await.unwrap();
    let after = dump(&store, &WIDGETS).await;
    assert_ne!(after, before);
    assert_eq!(after.meta.cursor.as_deref(), Some("c2"));
    assert_eq!(after.rows[&Kind::Widget].len(), 60);
    assert_eq!(after.snapshots["wid_big"].len(), 20);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn awaiting_a_timer_inside_a_transaction_is_caught_and_writes_nothing() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = dump(&store, &WIDGETS).await;

    // The mistake: open a transaction, await a timer, then write.
    let mut tx = store
        .begin_write(&[META_STORE], Durability::Strict)
        .unwrap();
    WebClock.sleep(20).await;
    let error = tx
        .put(
            META_STORE,
            &JsValue::from_str("c-late"),
            Some(&CURSOR_KEY.into()),
        )
        .unwrap_err();
    assert!(
        matches!(error, IdbError::TransactionInactive(_)),
        "{error:?}"
    );
    assert!(matches!(StoreError::from(error), StoreError::Aborted(_)));
    drop(tx);
    assert_eq!(dump(&store, &WIDGETS).await, before, "nothing was written");

    // Control: the same write without the timer lands.
    let mut tx = store
        .begin_write(&[META_STORE], Durability::Strict)
        .unwrap();
    tx.put(
        META_STORE,
        &JsValue::from_str("c-now"),
        Some(&CURSOR_KEY.into()),
    )
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c-now"));
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn an_uncommitted_transaction_that_is_dropped_is_aborted() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();

    // Writes issued, then an error path returns before `commit`: dropping must abort, not
    // let IndexedDB auto-commit the half-done work.
    {
        let mut tx = store
            .begin_write(&[META_STORE], Durability::Relaxed)
            .unwrap();
        tx.put(
            META_STORE,
            &JsValue::from_str("c-half"),
            Some(&CURSOR_KEY.into()),
        )
        .unwrap();
    }
    WebClock.sleep(20).await;
    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c1"));
    discard(&identity, store).await;
}
