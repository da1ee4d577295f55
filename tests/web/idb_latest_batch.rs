//! `IdbStore::latest_snapshots`: first render's read of the newest snapshot of every widget on
//! screen in one readonly transaction (one reverse cursor per widget, issued together). Each
//! answer must be what `latest_snapshot` gives for that id alone, and what `MemoryStore`
//! gives for the same writes — including ids that are prefixes of one another.

use super::idb_fixtures::{discard, open_fresh, snapshot};
use sync_core::engine::{latest_snapshot, latest_snapshots, ApplyPlan, MemoryStore, Store};
use sync_core::protocol::Kind;
use wasm_bindgen_test::wasm_bindgen_test;

/// 48 widgets (a full dashboard page) with 5 snapshots each, written in a scrambled time
/// order, plus widgets whose ids are prefixes or extensions of one another.
fn plan() -> ApplyPlan {
    let mut snapshot_puts = Vec::new();
    for w in 0..48u32 {
        for i in 0..5u32 {
            let minute = (i * 3 + w) % 5;
            let value = f64::from(w * 10 + minute) + 0.5;
            snapshot_puts.push(snapshot(
                &format!("wid_r{w:02}"),
                &format!("2024-05-01T07:{minute:02}:00Z"),
                value,
            ));
        }
    }
    snapshot_puts.push(snapshot("wid_1", "2024-05-01T06:00:00Z", 1.5));
    snapshot_puts.push(snapshot("wid_1", "2024-05-01T05:00:00Z", 1.25));
    snapshot_puts.push(snapshot("wid_10", "2024-05-02T00:00:00Z", 10.5));
    snapshot_puts.push(snapshot("wid_1x", "2024-05-03T00:00:00Z", 11.5));
    ApplyPlan {
        snapshot_puts,
        ..ApplyPlan::default()
    }
}

/// The rendered widgets, then the prefix family, a missing widget, `wid_` (a prefix of every
/// id) and a repeat.
fn asked() -> Vec<String> {
    let mut ids: Vec<String> = (0..48u32).map(|w| format!("wid_r{w:02}")).collect();
    for id in ["wid_1", "wid_10", "wid_1x", "wid_none", "wid_", "wid_r07"] {
        ids.push(id.to_string());
    }
    ids
}

#[wasm_bindgen_test]
async fn latest_snapshots_are_the_newest_of_each_widget_in_order() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&plan(), None, "c1").await.unwrap();
    let memory = MemoryStore::new();
    memory.commit_page(&plan(), None, "c1").await.unwrap();

    let ids = asked();
    let batch = latest_snapshots(&store, &ids).await.unwrap();
    assert_eq!(batch.len(), ids.len());
    assert_eq!(batch, latest_snapshots(&memory, &ids).await.unwrap());
    for (id, got) in ids.iter().zip(&batch) {
        assert_eq!(got, &latest_snapshot(&store, id).await.unwrap(), "{id}");
    }
    // The newest is minute 4 of every rendered widget, whatever order it was written in.
    for (w, got) in batch.iter().take(48).enumerate() {
        let got = got.as_ref().unwrap();
        assert_eq!(got.widget_id, format!("wid_r{w:02}"));
        assert_eq!(got.generated_at, "2024-05-01T07:04:00Z");
        assert_eq!(got.rows_digest, format!("digest-{}.5", w * 10 + 4));
    }
    let newest_of = |i: usize| batch[i].as_ref().map(|s| s.generated_at.as_str());
    assert_eq!(newest_of(48), Some("2024-05-01T06:00:00Z"), "wid_1");
    assert_eq!(newest_of(49), Some("2024-05-02T00:00:00Z"), "wid_10");
    assert_eq!(newest_of(50), Some("2024-05-03T00:00:00Z"), "wid_1x");
    assert_eq!(
        (newest_of(51), newest_of(52)),
        (None, None),
        "wid_none, wid_"
    );
    assert_eq!(batch[53], batch[7], "a repeated id");
    assert!(latest_snapshots(&store, &[]).await.unwrap().is_empty());

    store.wipe(&[Kind::WidgetSnapshot], false).await.unwrap();
    let wiped = latest_snapshots(&store, &ids).await.unwrap();
    assert!(wiped.iter().all(Option::is_none), "{wiped:?}");
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn latest_snapshots_of_a_closed_store_fail_as_a_whole() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&plan(), None, "c1").await.unwrap();
    store.close();
    assert!(latest_snapshots(&store, &asked()).await.is_err());
    discard(&identity, store).await;
}
