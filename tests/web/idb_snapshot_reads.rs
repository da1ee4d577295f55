//! The snapshot reads of `IdbStore` that the pull path and first render depend on: the
//! planner's snapshot metadata (read from the snapshot records since schema 8), including
//! snapshots that were on disk before an upgrade from 3, and `latest_snapshot` (one record
//! through a reverse cursor). Each is checked against `MemoryStore` fed the same pages.

use super::idb_fixtures::{discard, fresh_identity, open_fresh, seed_plan, snapshot};
use sync_core::engine::{latest_snapshot, ApplyPlan, MemoryStore, StateRequest, Store};
use sync_core::protocol::Kind;
use sync_core::web::IdbStore;
use wasm_bindgen_test::wasm_bindgen_test;

/// Widgets whose ids share prefixes, so a range that leaked into a neighbour would show.
const WIDGETS: [&str; 4] = ["wid_1", "wid_10", "wid_1x", "wid_2"];

pub fn request() -> StateRequest {
    StateRequest {
        keys: vec![
            (Kind::Widget, "wid_1".into()),
            (Kind::Dashboard, "dsh_2".into()),
            (Kind::Query, "qry_missing".into()),
        ],
        widgets: WIDGETS
            .iter()
            .map(|w| w.to_string())
            .chain(["wid_none".to_string()])
            .collect(),
    }
}

/// A second page: more snapshots, some of neighbouring widgets, out of time order, and a
/// retention trim of the oldest `wid_1` snapshot.
pub fn second_plan() -> ApplyPlan {
    ApplyPlan {
        snapshot_deletes: vec![("wid_1".into(), "2024-05-01T07:00:00Z".into())],
        snapshot_puts: vec![
            snapshot("wid_1", "2024-05-01T07:20:00Z", 0.9),
            snapshot("wid_1", "2024-05-01T07:15:00Z", 0.85),
            snapshot("wid_10", "2024-05-01T09:00:00Z", 1.0),
            snapshot("wid_1x", "2024-05-01T06:00:00Z", 2.0),
        ],
        ..ApplyPlan::default()
    }
}

/// Asserts that `store` answers the planner's state read as `MemoryStore` does after `plans`.
pub async fn assert_state_as_after(store: &IdbStore, plans: &[ApplyPlan]) {
    let memory = memory_after(plans).await;
    assert_eq!(
        store.local_state(&request()).await.unwrap(),
        memory.local_state(&request()).await.unwrap()
    );
}

async fn memory_after(plans: &[ApplyPlan]) -> MemoryStore {
    let memory = MemoryStore::new();
    let mut cursor: Option<String> = None;
    for (i, plan) in plans.iter().enumerate() {
        let next = format!("c{}", i + 1);
        memory
            .commit_page(plan, cursor.as_deref(), &next)
            .await
            .unwrap();
        cursor = Some(next);
    }
    memory
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_3_reads_the_snapshots_already_held() {
    // 4 → 5 has its own upgrade test (push_idb_store.rs).
    let identity = fresh_identity();
    let old = IdbStore::open_at_version(&identity, 3).await.unwrap();
    old.commit_page(&seed_plan(), None, "c1").await.unwrap();
    // The metadata is read from the snapshots themselves: the planner's read needs no store
    // a later schema added.
    assert_state_as_after(&old, &[seed_plan()]).await;
    let held_v3 = old.snapshots_of("wid_1").await.unwrap();
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert_state_as_after(&store, &[seed_plan()]).await;
    let state = store.local_state(&request()).await.unwrap();
    // The snapshots written under v3 are found, oldest first.
    let generated: Vec<&str> = state.snapshots["wid_1"]
        .iter()
        .map(|m| m.generated_at.as_str())
        .collect();
    assert_eq!(
        generated,
        [
            "2024-05-01T07:00:00Z",
            "2024-05-01T07:05:00Z",
            "2024-05-01T07:10:00Z"
        ]
    );
    assert_eq!(state.snapshots["wid_1"][2].rows_digest, "digest-0.835");
    assert_eq!(store.snapshots_of("wid_1").await.unwrap(), held_v3);

    // Writes after the upgrade (appends and a trim) are read back the same way.
    store
        .commit_page(&second_plan(), Some("c1"), "c2")
        .await
        .unwrap();
    assert_state_as_after(&store, &[seed_plan(), second_plan()]).await;
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn snapshot_metadata_survives_a_reopen_and_follows_wipes() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    store
        .commit_page(&second_plan(), Some("c1"), "c2")
        .await
        .unwrap();
    store.close();
    drop(store);

    let store = IdbStore::open(&identity).await.unwrap();
    let memory = memory_after(&[seed_plan(), second_plan()]).await;
    let state = store.local_state(&request()).await.unwrap();
    assert_eq!(state, memory.local_state(&request()).await.unwrap());
    assert_eq!(state.snapshots["wid_1"].len(), 4);
    assert!(!state.snapshots.contains_key("wid_none"));

    store.wipe(&[Kind::WidgetSnapshot], false).await.unwrap();
    let state = store.local_state(&request()).await.unwrap();
    assert!(state.snapshots.is_empty(), "{state:?}");
    assert_eq!(state.versions.len(), 2, "rows are not wiped: {state:?}");
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn latest_snapshot_is_the_newest_of_many() {
    let (identity, store) = open_fresh().await;
    // 40 snapshots of one widget written in a scrambled order, plus neighbours.
    let mut puts: Vec<_> = (0..40u32)
        .map(|i| (i * 17) % 40)
        .map(|i| {
            snapshot(
                "wid_1",
                &format!("2024-05-01T{:02}:{:02}:00Z", 6 + i / 10, i % 10),
                f64::from(i) + 0.5,
            )
        })
        .collect();
    puts.push(snapshot("wid_10", "2024-06-01T00:00:00Z", 100.5));
    puts.push(snapshot("wid_1x", "2024-06-02T00:00:00Z", 200.5));
    puts.push(snapshot("wid_0", "2024-06-03T00:00:00Z", 300.5));
    let plan = ApplyPlan {
        snapshot_puts: puts,
        ..ApplyPlan::default()
    };
    store.commit_page(&plan, None, "c1").await.unwrap();
    let memory = memory_after(&[plan]).await;

    let newest = latest_snapshot(&store, "wid_1").await.unwrap().unwrap();
    assert_eq!(newest.generated_at, "2024-05-01T09:09:00Z");
    assert_eq!(newest.rows_digest, "digest-39.5");
    assert_eq!(
        Some(newest),
        store
            .snapshots_of("wid_1")
            .await
            .unwrap()
            .into_iter()
            .next()
    );
    for widget in ["wid_1", "wid_10", "wid_1x", "wid_0", "wid_", "wid_2"] {
        assert_eq!(
            latest_snapshot(&store, widget).await.unwrap(),
            latest_snapshot(&memory, widget).await.unwrap(),
            "{widget}"
        );
    }
    discard(&identity, store).await;
}
