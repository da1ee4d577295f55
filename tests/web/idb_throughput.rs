//! How fast pulled pages land in IndexedDB: 10 pages of 2000 items (widgets and snapshots,
//! the bulk of a cold start), each one `commit_page`, measured end to end including the
//! record encoding. Prints items/s; fails only if something is badly wrong.

use super::idb_fixtures::{discard, open_fresh, snapshot, widget};
use sync_core::engine::{ApplyPlan, Store};
use sync_core::protocol::Kind;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

const PAGES: usize = 10;
const ITEMS_PER_PAGE: usize = 2_000;

fn page(n: usize) -> ApplyPlan {
    let widgets = ITEMS_PER_PAGE / 4;
    let row_puts = (0..widgets)
        .map(|i| widget(&format!("wid_{n:02}_{i:04}"), &format!("dsh_{n:02}"), 1))
        .collect();
    let snapshot_puts = (0..ITEMS_PER_PAGE - widgets)
        .map(|i| {
            snapshot(
                &format!("wid_{n:02}_{:04}", i % widgets),
                &format!("2024-05-01T{:02}:{:02}:00Z", i / widgets, n),
                i as f64 + 0.5,
            )
        })
        .collect();
    ApplyPlan {
        row_puts,
        snapshot_puts,
        ..ApplyPlan::default()
    }
}

#[wasm_bindgen_test]
async fn ten_pages_of_two_thousand_items() {
    let (identity, store) = open_fresh().await;
    let pages: Vec<ApplyPlan> = (0..PAGES).map(page).collect();
    let started = js_sys::Date::now();
    let mut cursor: Option<String> = None;
    for (n, plan) in pages.iter().enumerate() {
        let next = format!("c{n}");
        store
            .commit_page(plan, cursor.as_deref(), &next)
            .await
            .unwrap();
        cursor = Some(next);
    }
    let elapsed_ms = js_sys::Date::now() - started;
    let items = (PAGES * ITEMS_PER_PAGE) as f64;
    console_log!(
        "commit_page: {} items in {:.0} ms = {:.0} items/s",
        items,
        elapsed_ms,
        items / (elapsed_ms / 1000.0)
    );
    assert_eq!(
        store.rows(Kind::Widget).await.unwrap().len(),
        PAGES * ITEMS_PER_PAGE / 4
    );
    assert_eq!(store.snapshots_of("wid_03_0007").await.unwrap().len(), 3);
    assert!(elapsed_ms < 60_000.0, "{elapsed_ms} ms");
    discard(&identity, store).await;
}
