//! Full replacement in IndexedDB (PROTOCOL §9.1, engine `replacement.rs`): the marks and
//! flags live in `meta` and are read and written in the page's transaction; the draining
//! page sweeps rows not sent and snapshots of widgets no longer held. Every step is checked
//! against `MemoryStore`, the model the native tests run.

use super::idb_fixtures::{dashboard, discard, open_fresh, snapshot, widget};
use sync_core::engine::{
    ApplyPlan, MemoryStore, ReplacementStep, StateRequest, Store, StoreError, Swept,
};
use sync_core::protocol::Kind;
use wasm_bindgen_test::wasm_bindgen_test;

fn key(kind: Kind, k: &str) -> (Kind, String) {
    (kind, k.to_string())
}

/// Two dashboards with a widget each, two snapshots per widget; drains.
fn first_sync() -> ApplyPlan {
    let row_puts = vec![
        dashboard("dsh_keep", 1),
        dashboard("dsh_gone", 1),
        widget("wid_keep", "dsh_keep", 1),
        widget("wid_gone", "dsh_gone", 1),
    ];
    ApplyPlan {
        replacement: ReplacementStep {
            sent: row_puts.iter().map(|r| (r.kind, r.key.clone())).collect(),
            drains: true,
            resets_widgets: false,
            into_empty: false,
        },
        row_puts,
        snapshot_puts: vec![
            snapshot("wid_keep", "2024-05-01T07:00:00Z", 0.5),
            snapshot("wid_keep", "2024-05-01T07:05:00Z", 0.6),
            snapshot("wid_gone", "2024-05-01T07:00:00Z", 0.7),
            snapshot("wid_gone", "2024-05-01T07:05:00Z", 0.8),
        ],
        ..ApplyPlan::default()
    }
}

/// A page of a replacement that re-sends only `keys` (already held, so nothing is written).
fn resend(keys: &[(Kind, String)], drains: bool) -> ApplyPlan {
    ApplyPlan {
        replacement: ReplacementStep {
            sent: keys.to_vec(),
            drains,
            resets_widgets: false,
            into_empty: false,
        },
        ..ApplyPlan::default()
    }
}

/// Commits `plan` on both stores and checks they answer alike.
async fn commit_both(
    idb: &impl Store,
    memory: &MemoryStore,
    plan: &ApplyPlan,
    expected: Option<&str>,
    next: &str,
) -> Swept {
    let a = idb.commit_page(plan, expected, next).await.unwrap();
    let b = memory.commit_page(plan, expected, next).await.unwrap();
    assert_eq!(a, b, "IdbStore and MemoryStore swept differently");
    assert_eq!(idb.meta().await.unwrap(), memory.meta().await.unwrap());
    a
}

async fn held(store: &impl Store) -> (Vec<String>, Vec<String>, Vec<String>) {
    let keys = |rows: Vec<sync_core::engine::StoredRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.key).collect()
    };
    let mut snaps = Vec::new();
    for w in ["wid_keep", "wid_gone"] {
        for s in store.snapshots_of(w).await.unwrap() {
            snaps.push(format!("{}@{}", s.widget_id, s.generated_at));
        }
    }
    (
        keys(store.rows(Kind::Dashboard).await.unwrap()),
        keys(store.rows(Kind::Widget).await.unwrap()),
        snaps,
    )
}

#[wasm_bindgen_test]
async fn a_cold_pull_replaces_what_it_did_not_send_in_its_last_transaction() {
    let (identity, idb) = open_fresh().await;
    let memory = MemoryStore::new();
    let swept = commit_both(&idb, &memory, &first_sync(), None, "c1").await;
    assert!(swept.is_empty());
    assert!(!idb.meta().await.unwrap().replacing);

    // The cursor is dropped (a 403 or 410); a cold pull re-sends only the kept dashboard and
    // widget, over two pages.
    idb.wipe(&[], true).await.unwrap();
    memory.wipe(&[], true).await.unwrap();
    let page1 = resend(&[key(Kind::Dashboard, "dsh_keep")], false);
    commit_both(&idb, &memory, &page1, None, "r1").await;
    assert!(idb.meta().await.unwrap().replacing);
    // Mid-replacement the old rows are all still readable.
    assert_eq!(held(&idb).await.0, vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(held(&idb).await.2.len(), 4);

    // The tab was closed here: a new connection resumes from the stored cursor.
    idb.close();
    let idb = sync_core::web::IdbStore::open(&identity).await.unwrap();
    let page2 = resend(&[key(Kind::Widget, "wid_keep")], true);
    let swept = commit_both(&idb, &memory, &page2, Some("r1"), "r2").await;
    assert_eq!(
        swept.rows,
        vec![
            key(Kind::Dashboard, "dsh_gone"),
            key(Kind::Widget, "wid_gone")
        ]
    );
    assert_eq!(swept.snapshots.len(), 2);
    let after = held(&idb).await;
    assert_eq!(after, held(&memory).await);
    assert_eq!(after.0, vec!["dsh_keep"]);
    assert_eq!(after.1, vec!["wid_keep"]);
    assert_eq!(
        after.2,
        vec![
            "wid_keep@2024-05-01T07:05:00Z",
            "wid_keep@2024-05-01T07:00:00Z"
        ]
    );
    // The snapshot metadata the planner reads went with the snapshots.
    let state = idb
        .local_state(&StateRequest {
            keys: vec![],
            widgets: vec!["wid_gone".into(), "wid_keep".into()],
        })
        .await
        .unwrap();
    assert_eq!(state.snapshots.keys().collect::<Vec<_>>(), vec!["wid_keep"]);
    let meta = idb.meta().await.unwrap();
    assert!(!meta.replacing && !meta.orphan_sweep);
    assert_eq!(meta.cursor.as_deref(), Some("r2"));
    discard(&identity, idb).await;
}

/// PROTOCOL §3 lets a page come back with the cursor it was fetched with. Two pages of one
/// replacement under the same `nextCursor` must both count as sent: the sweep that ends it
/// keeps the rows of each.
#[wasm_bindgen_test]
async fn replacement_pages_that_share_a_cursor_keep_every_row_they_sent() {
    let (identity, idb) = open_fresh().await;
    let memory = MemoryStore::new();
    commit_both(&idb, &memory, &first_sync(), None, "c1").await;
    idb.wipe(&[], true).await.unwrap();
    memory.wipe(&[], true).await.unwrap();
    let page1 = resend(&[key(Kind::Dashboard, "dsh_keep")], false);
    commit_both(&idb, &memory, &page1, None, "r1").await;
    let page2 = resend(&[key(Kind::Widget, "wid_keep")], false);
    commit_both(&idb, &memory, &page2, Some("r1"), "r1").await;
    let page3 = resend(&[key(Kind::Dashboard, "dsh_gone")], true);
    let swept = commit_both(&idb, &memory, &page3, Some("r1"), "r1").await;
    assert_eq!(swept.rows, vec![key(Kind::Widget, "wid_gone")]);
    let after = held(&idb).await;
    assert_eq!(after, held(&memory).await);
    assert_eq!(after.0, vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(after.1, vec!["wid_keep"]);
    discard(&identity, idb).await;
}

#[wasm_bindgen_test]
async fn a_failed_commit_leaves_the_replacement_as_it_was() {
    let (identity, idb) = open_fresh().await;
    idb.commit_page(&first_sync(), None, "c1").await.unwrap();
    idb.wipe(&[], true).await.unwrap();
    idb.commit_page(
        &resend(&[key(Kind::Dashboard, "dsh_keep")], false),
        None,
        "r1",
    )
    .await
    .unwrap();
    // The draining page aborts after its writes were issued: nothing is swept.
    idb.fail_next_commit_after(0);
    let failed = idb
        .commit_page(&resend(&[], true), Some("r1"), "r2")
        .await
        .unwrap_err();
    assert!(matches!(failed, StoreError::Aborted(_)), "{failed:?}");
    assert_eq!(held(&idb).await.0, vec!["dsh_gone", "dsh_keep"]);
    assert!(idb.meta().await.unwrap().replacing);
    // Retried, it sweeps with the marks the first page left.
    let swept = idb
        .commit_page(&resend(&[], true), Some("r1"), "r2")
        .await
        .unwrap();
    assert_eq!(swept.rows.len(), 3, "{swept:?}");
    assert_eq!(held(&idb).await.0, vec!["dsh_keep"]);
    discard(&identity, idb).await;
}

#[wasm_bindgen_test]
async fn a_widget_reset_sweeps_orphan_snapshots_when_the_pull_drains() {
    let (identity, idb) = open_fresh().await;
    let memory = MemoryStore::new();
    commit_both(&idb, &memory, &first_sync(), None, "c1").await;
    let reset = ApplyPlan {
        clear_kinds: vec![Kind::Widget],
        replacement: ReplacementStep {
            sent: vec![],
            drains: false,
            resets_widgets: true,
            into_empty: false,
        },
        ..ApplyPlan::default()
    };
    commit_both(&idb, &memory, &reset, Some("c1"), "c2").await;
    assert!(idb.meta().await.unwrap().orphan_sweep);
    assert_eq!(
        held(&idb).await.2.len(),
        4,
        "swept only when the pull drains"
    );
    let refill = ApplyPlan {
        row_puts: vec![widget("wid_keep", "dsh_keep", 2)],
        replacement: ReplacementStep {
            sent: vec![key(Kind::Widget, "wid_keep")],
            drains: true,
            resets_widgets: false,
            into_empty: false,
        },
        ..ApplyPlan::default()
    };
    let swept = commit_both(&idb, &memory, &refill, Some("c2"), "c3").await;
    assert!(swept.rows.is_empty());
    assert_eq!(swept.snapshots.len(), 2);
    assert_eq!(held(&idb).await, held(&memory).await);
    assert_eq!(held(&idb).await.0, vec!["dsh_gone", "dsh_keep"]);
    discard(&identity, idb).await;
}

/// A cold pull into a store that holds nothing (`ReplacementStep::into_empty`) starts an
/// orphan sweep instead of a replacement: no marks, and the page that drains it drops only
/// the snapshots of widgets that are not held — as `MemoryStore` does.
#[wasm_bindgen_test]
async fn a_replacement_into_an_empty_store_only_sweeps_orphan_snapshots() {
    let (identity, idb) = open_fresh().await;
    let memory = MemoryStore::new();
    let mut page1 = first_sync();
    page1.replacement.drains = false;
    page1.replacement.into_empty = true;
    commit_both(&idb, &memory, &page1, None, "c1").await;
    let meta = idb.meta().await.unwrap();
    assert!(!meta.replacing && meta.orphan_sweep);
    assert!(memory.contents().replacement_marks.is_empty());

    let page2 = ApplyPlan {
        snapshot_puts: vec![snapshot("wid_never_sent", "2024-05-01T07:00:00Z", 0.9)],
        ..resend(&[], true)
    };
    let swept = commit_both(&idb, &memory, &page2, Some("c1"), "c2").await;
    assert!(swept.rows.is_empty());
    assert_eq!(
        swept.snapshots,
        vec![(
            "wid_never_sent".to_string(),
            "2024-05-01T07:00:00Z".to_string()
        )]
    );
    let after = held(&idb).await;
    assert_eq!(after, held(&memory).await);
    assert_eq!(after.0, vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(after.2.len(), 4);
    let meta = idb.meta().await.unwrap();
    assert!(!meta.replacing && !meta.orphan_sweep);
    discard(&identity, idb).await;
}
