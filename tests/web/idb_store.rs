//! `IdbStore` against real IndexedDB: what a page writes is what every read method returns,
//! the cursor compare-and-set, wipes and a refused write. Schema upgrades, DOM errors and
//! connection loss are `idb_connection.rs`.

use super::idb_fixtures::{dashboard, discard, dump, open_fresh, row, seed_plan, snapshot, widget};
use serde_json::json;
use std::collections::HashMap;
use sync_core::engine::{
    ApplyPlan, LocalState, SnapshotMeta, StateRequest, Store, StoreError, SyncMeta, WidgetRef,
};
use sync_core::protocol::Kind;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn commit_page_writes_rows_and_cursor_and_every_read_sees_them() {
    let (identity, store) = open_fresh().await;
    assert_eq!(store.meta().await.unwrap(), SyncMeta::default());
    assert!(store.rows(Kind::Dashboard).await.unwrap().is_empty());

    let plan = seed_plan();
    store.commit_page(&plan, None, "c1").await.unwrap();

    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c1"));
    assert_eq!(
        store.row(Kind::Dashboard, "dsh_2").await.unwrap(),
        Some(dashboard("dsh_2", 3))
    );
    assert_eq!(store.row(Kind::Dashboard, "dsh_9").await.unwrap(), None);
    // Every versioned row comes back exactly as written, in key order.
    for kind in Kind::ALL.into_iter().filter(|k| k.is_versioned()) {
        let mut expected: Vec<_> = plan
            .row_puts
            .iter()
            .filter(|r| r.kind == kind)
            .cloned()
            .collect();
        expected.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(store.rows(kind).await.unwrap(), expected, "{kind}");
    }
    assert_eq!(
        store.widgets_of("dsh_1").await.unwrap(),
        vec![widget("wid_1", "dsh_1", 1), widget("wid_2", "dsh_1", 2)]
    );
    assert_eq!(
        store.widgets_of("dsh_2").await.unwrap(),
        vec![widget("wid_3", "dsh_2", 1)]
    );
    assert!(store.widgets_of("dsh_9").await.unwrap().is_empty());
    assert_eq!(
        store.snapshots_of("wid_1").await.unwrap(),
        vec![
            snapshot("wid_1", "2024-05-01T07:10:00Z", 0.835),
            snapshot("wid_1", "2024-05-01T07:05:00Z", 0.82),
            snapshot("wid_1", "2024-05-01T07:00:00Z", 0.81),
        ],
        "newest first"
    );
    assert!(store.snapshots_of("wid_3").await.unwrap().is_empty());
    assert_eq!(
        store
            .existing_keys(Kind::Query, &["qry_9".into(), "qry_1".into()])
            .await
            .unwrap(),
        vec!["qry_1".to_string()]
    );

    let state = store
        .local_state(&StateRequest {
            keys: vec![
                (Kind::Dashboard, "dsh_2".into()),
                (Kind::Dashboard, "dsh_9".into()),
                (Kind::Widget, "wid_2".into()),
            ],
            widgets: vec!["wid_1".into(), "wid_9".into()],
        })
        .await
        .unwrap();
    let meta = |at: &str, digest: &str| SnapshotMeta {
        generated_at: at.into(),
        params_hash: "ph1".into(),
        rows_digest: digest.into(),
    };
    assert_eq!(
        state,
        LocalState {
            versions: HashMap::from([
                ((Kind::Dashboard, "dsh_2".to_string()), 3),
                ((Kind::Widget, "wid_2".to_string()), 2),
            ]),
            snapshots: HashMap::from([(
                "wid_1".to_string(),
                vec![
                    meta("2024-05-01T07:00:00Z", "digest-0.81"),
                    meta("2024-05-01T07:05:00Z", "digest-0.82"),
                    meta("2024-05-01T07:10:00Z", "digest-0.835"),
                ],
            )]),
        }
    );

    store.set_access_revoked(true).await.unwrap();
    assert_eq!(
        store.meta().await.unwrap(),
        SyncMeta {
            cursor: Some("c1".into()),
            access_revoked: true,
            // Committed with no expected cursor: a full replacement began and has not drained.
            replacing: true,
            orphan_sweep: false,
            settled_epoch: 0,
            page_serial: 1,
        }
    );
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn a_page_applies_clears_then_deletes_then_puts() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();

    let page = ApplyPlan {
        clear_kinds: vec![Kind::Widget],
        row_deletes: vec![(Kind::Dashboard, "dsh_2".into())],
        snapshot_deletes: vec![("wid_1".into(), "2024-05-01T07:00:00Z".into())],
        row_puts: vec![widget("wid_7", "dsh_1", 5), dashboard("dsh_1", 2)],
        snapshot_puts: vec![snapshot("wid_7", "2024-05-02T00:00:00Z", 1.5)],
        replacement: Default::default(),
        settled_epoch: None,
        page_serial: Some(1),
    };
    store.commit_page(&page, Some("c1"), "c2").await.unwrap();

    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c2"));
    assert_eq!(
        store.rows(Kind::Widget).await.unwrap(),
        vec![widget("wid_7", "dsh_1", 5)],
        "the reset dropped every earlier widget, the put after it survived"
    );
    assert_eq!(
        store.rows(Kind::Dashboard).await.unwrap(),
        vec![dashboard("dsh_1", 2)]
    );
    assert_eq!(store.snapshots_of("wid_1").await.unwrap().len(), 2);
    assert_eq!(store.snapshots_of("wid_7").await.unwrap().len(), 1);
    assert_eq!(
        store.widgets_of("dsh_1").await.unwrap(),
        vec![widget("wid_7", "dsh_1", 5)]
    );
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn a_moved_cursor_writes_nothing() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = dump(&store, &["wid_1", "wid_2", "wid_9"]).await;

    // Its writes are issued before the cursor check has answered (the check aborts the
    // transaction), the Query put's version read too: none of them may land.
    let page = ApplyPlan {
        clear_kinds: vec![Kind::Dashboard],
        row_puts: vec![
            widget("wid_9", "dsh_1", 1),
            row(
                Kind::Query,
                "qry_9",
                3,
                json!({"ownerId": "usr_web", "name_i18n": {"default": "Stale"}}),
            ),
        ],
        snapshot_puts: vec![snapshot("wid_9", "2024-05-03T00:00:00Z", 2.5)],
        ..ApplyPlan::default()
    };
    // A stale page fetched at cold start, and one fetched with a cursor never stored.
    for expected in [None, Some("c0")] {
        let result = store.commit_page(&page, expected, "c2").await;
        assert_eq!(
            result,
            Err(StoreError::CursorMoved),
            "expected {expected:?}"
        );
        assert_eq!(dump(&store, &["wid_1", "wid_2", "wid_9"]).await, before);
    }
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn wipe_drops_only_the_named_kinds_and_optionally_the_cursor() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    store.set_access_revoked(true).await.unwrap();

    store
        .wipe(&[Kind::Widget, Kind::WidgetSnapshot], false)
        .await
        .unwrap();
    assert!(store.rows(Kind::Widget).await.unwrap().is_empty());
    assert!(store.snapshots_of("wid_1").await.unwrap().is_empty());
    assert!(store.widgets_of("dsh_1").await.unwrap().is_empty());
    assert_eq!(store.rows(Kind::Dashboard).await.unwrap().len(), 2);
    assert_eq!(store.rows(Kind::Query).await.unwrap().len(), 1);
    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c1"));

    store.wipe(&Kind::ALL, true).await.unwrap();
    let after = dump(&store, &["wid_1", "wid_2"]).await;
    assert!(after.rows.values().all(Vec::is_empty), "{after:?}");
    assert!(after.snapshots.values().all(Vec::is_empty));
    assert_eq!(
        after.meta,
        SyncMeta {
            cursor: None,
            access_revoked: true,
            replacing: true,
            orphan_sweep: false,
            settled_epoch: 0,
            page_serial: 3, // one commit, two wipes
        },
        "a wipe keeps the flag; only a successful pull clears it"
    );
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn a_write_the_browser_refuses_aborts_the_whole_page_with_a_typed_error() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = dump(&store, &["wid_1", "wid_2"]).await;

    // A row routed to the snapshot store lacks its key path: IndexedDB throws DataError on
    // the put, after the clear and the first put of the page were already issued.
    let page = ApplyPlan {
        clear_kinds: vec![Kind::Dashboard],
        row_puts: vec![
            widget("wid_8", "dsh_1", 1),
            row(Kind::WidgetSnapshot, "not-a-snapshot", 1, json!({})),
        ],
        ..ApplyPlan::default()
    };
    let error = store
        .commit_page(&page, Some("c1"), "c2")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Aborted(m) if m.contains("DataError")),
        "{error:?}"
    );
    assert_eq!(dump(&store, &["wid_1", "wid_2"]).await, before);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn holds_any_counts_without_reading_records() {
    let (identity, store) = open_fresh().await;
    assert!(!store.holds_any(Kind::Dashboard).await.unwrap());
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    assert!(store.holds_any(Kind::Dashboard).await.unwrap());
    assert!(store.holds_any(Kind::WidgetSnapshot).await.unwrap());
    store.wipe(&[Kind::Dashboard], false).await.unwrap();
    assert!(!store.holds_any(Kind::Dashboard).await.unwrap());
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn widget_references_read_without_rows_equal_those_of_the_rows() {
    let (identity, store) = open_fresh().await;
    let mut plan = seed_plan();
    // References that are not strings, or missing, read as none.
    plan.row_puts.push(row(
        Kind::Widget,
        "wid_odd",
        1,
        json!({"dashboardId": 5, "title_i18n": {"default": "Odd"}}),
    ));
    store.commit_page(&plan, None, "c1").await.unwrap();
    let from_rows: Vec<WidgetRef> = store
        .rows(Kind::Widget)
        .await
        .unwrap()
        .iter()
        .map(WidgetRef::of)
        .collect();
    assert_eq!(from_rows.len(), 4);
    assert_eq!(store.widget_refs().await.unwrap(), from_rows);
    discard(&identity, store).await;
}
