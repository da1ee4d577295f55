//! A pulled page never lowers a stored version in IndexedDB, even when the row was written
//! after the page's state read by something that does not move the cursor (a push settling
//! a rename in another tab): the commit re-reads Query versions in its own transaction.

use super::idb_fixtures::{dashboard, discard, open_fresh, row};
use serde_json::json;
use sync_core::engine::{ApplyPlan, Store, StoredRow};
use sync_core::protocol::Kind;
use sync_core::web::idb::records::encode_row;
use sync_core::web::Durability;
use wasm_bindgen_test::wasm_bindgen_test;

fn query(version: u64, name: &str) -> StoredRow {
    row(
        Kind::Query,
        "qry_1",
        version,
        json!({"ownerId": "usr_web", "name_i18n": {"default": name}}),
    )
}

fn puts(rows: Vec<StoredRow>) -> ApplyPlan {
    ApplyPlan {
        row_puts: rows,
        ..ApplyPlan::default()
    }
}

#[wasm_bindgen_test]
async fn a_page_planned_before_a_settled_rename_does_not_lower_its_version() {
    let (identity, store) = open_fresh().await;
    store
        .commit_page(&puts(vec![query(1, "v1")]), None, "c1")
        .await
        .unwrap();
    // The next page was planned against version 1 (it puts version 2). Before it commits,
    // another tab settles a pushed rename: version 5, written without the cursor.
    let planned = puts(vec![query(2, "v2"), dashboard("dsh_1", 1)]);
    let mut tx = store.begin_write(&["Query"], Durability::Strict).unwrap();
    tx.put(
        "Query",
        &encode_row(&query(5, "renamed")).unwrap(),
        Some(&"qry_1".into()),
    )
    .unwrap();
    tx.commit().await.unwrap();

    store.commit_page(&planned, Some("c1"), "c2").await.unwrap();
    let held = store.row(Kind::Query, "qry_1").await.unwrap().unwrap();
    assert_eq!(
        (held.version, held.row["name_i18n"]["default"].clone()),
        (5, json!("renamed"))
    );
    // The rest of the page landed with its cursor.
    assert!(store.row(Kind::Dashboard, "dsh_1").await.unwrap().is_some());
    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c2"));

    // A newer version still replaces it.
    store
        .commit_page(&puts(vec![query(6, "v6")]), Some("c2"), "c3")
        .await
        .unwrap();
    assert_eq!(
        store
            .row(Kind::Query, "qry_1")
            .await
            .unwrap()
            .unwrap()
            .version,
        6
    );
    discard(&identity, store).await;
}

/// Bumps the settle epoch as a settlement in another context does (`idb/outbox_settle.rs`).
async fn settle_elsewhere(store: &sync_core::web::IdbStore, version: u64) {
    let epoch = store.meta().await.unwrap().settled_epoch;
    let mut tx = store
        .begin_write(&["Query", "meta"], Durability::Strict)
        .unwrap();
    tx.put(
        "Query",
        &encode_row(&query(version, "renamed")).unwrap(),
        Some(&"qry_1".into()),
    )
    .unwrap();
    tx.put(
        "meta",
        &wasm_bindgen::JsValue::from_f64((epoch + 1) as f64),
        Some(&"settledEpoch".into()),
    )
    .unwrap();
    tx.commit().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_plan_exact_at_a_settle_epoch_is_refused_once_a_settlement_lands() {
    let (identity, store) = open_fresh().await;
    store
        .commit_page(&puts(vec![query(1, "v1")]), None, "c1")
        .await
        .unwrap();
    let at_epoch = |rows: Vec<StoredRow>, epoch: u64| ApplyPlan {
        settled_epoch: Some(epoch),
        ..puts(rows)
    };
    // Planned at epoch 0 (its Query put is not re-checked in the commit): a settlement lands
    // first, so the commit is refused and writes nothing.
    settle_elsewhere(&store, 5).await;
    assert_eq!(store.meta().await.unwrap().settled_epoch, 1);
    let refused = store
        .commit_page(
            &at_epoch(vec![query(2, "v2"), dashboard("dsh_1", 1)], 0),
            Some("c1"),
            "c2",
        )
        .await;
    assert!(matches!(
        refused,
        Err(sync_core::engine::StoreError::CursorMoved)
    ));
    assert!(store.row(Kind::Dashboard, "dsh_1").await.unwrap().is_none());
    assert_eq!(store.meta().await.unwrap().cursor.as_deref(), Some("c1"));
    assert_eq!(
        store
            .row(Kind::Query, "qry_1")
            .await
            .unwrap()
            .unwrap()
            .version,
        5
    );
    // Planned at the stored epoch, it lands whole.
    store
        .commit_page(
            &at_epoch(vec![query(6, "v6"), dashboard("dsh_1", 1)], 1),
            Some("c1"),
            "c2",
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .row(Kind::Query, "qry_1")
            .await
            .unwrap()
            .unwrap()
            .version,
        6
    );
    assert!(store.row(Kind::Dashboard, "dsh_1").await.unwrap().is_some());
    discard(&identity, store).await;
}
