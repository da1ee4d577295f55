//! Snapshot retention end to end: a widget that receives 15 snapshots holds its newest 12
//! (newest first through the read API), and a snapshot identical to the newest held one
//! (same rows, same paramsHash, later generatedAt) is skipped with zero snapshot writes.

use super::pull_support::{PullEnv, RecordingStore};
use super::server_admin::TenantSize;
use serde_json::{json, Value};
use sync_core::engine::Store;
use sync_core::protocol::{Kind, KindCounts};
use wasm_bindgen_test::wasm_bindgen_test;

const SIZE: TenantSize = TenantSize {
    dashboards: 2,
    widgets_per_dashboard: 2,
    snapshots_per_widget: 1,
    alerts: 1,
    queries: 1,
};

fn rows(n: usize) -> Value {
    json!([{"date": "2030-01-01", "value": n as f64 / 100.0}, {"date": "2030-01-02", "value": n}])
}

#[wasm_bindgen_test]
async fn fifteen_snapshots_leave_the_newest_twelve_and_a_duplicate_writes_nothing() {
    let env = PullEnv::new("keep", SIZE).await;
    env.pull_drained().await;
    let widget = env.dump().await.keys(Kind::Widget)[0].clone();
    assert_eq!(env.dump().await.snapshot_times()[&widget].len(), 1);

    let mut appended = Vec::new();
    for n in 0..15 {
        let answer = env.tenant.append_snapshot(&widget, rows(n), None).await;
        appended.push(answer["generatedAt"].as_str().unwrap().to_string());
    }
    let report = env.pull_drained().await;
    // 1 held + 15 new = 16 → 12 kept: the 3 oldest new ones and the held one are trimmed.
    assert_eq!(
        report.applied,
        KindCounts::from([(Kind::WidgetSnapshot, 12)])
    );
    assert_eq!(report.snapshots_trimmed, 4);
    assert_eq!(report.duplicates_skipped, 0);

    let newest_twelve: Vec<String> = appended[3..].to_vec();
    let held = env.dump().await;
    assert_eq!(held.snapshot_times()[&widget], newest_twelve);
    let read: Vec<String> = env
        .store
        .snapshots_of(&widget)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.generated_at)
        .collect();
    let mut newest_first = newest_twelve.clone();
    newest_first.reverse();
    assert_eq!(read, newest_first, "the read API gives newest first");

    // The same content as the newest, generated later: a duplicate.
    let duplicate = env.tenant.append_snapshot(&widget, rows(14), None).await;
    let recording = RecordingStore::new(&env.store);
    let report = env.pull_into(&recording, &env.config()).await.unwrap();
    assert!(report.drained);
    assert_eq!(report.duplicates_skipped, 1, "{report:?}");
    assert!(report.applied.is_empty(), "{report:?}");
    assert!(report.changed_kinds.is_empty(), "{report:?}");
    let commits = recording.commits.borrow().clone();
    assert_eq!(commits.len(), 1, "one page, committed for its cursor");
    assert!(
        commits[0].snapshot_puts.is_empty() && commits[0].snapshot_deletes.is_empty(),
        "snapshot writes for a duplicate: {:?}",
        commits[0]
    );
    assert!(commits[0].is_empty(), "{:?}", commits[0]);
    let after = env.dump().await;
    assert_eq!(
        after.stores[&Kind::WidgetSnapshot],
        held.stores[&Kind::WidgetSnapshot],
        "the held snapshots are exactly the same records"
    );
    assert!(!after.snapshot_times()[&widget]
        .contains(&duplicate["generatedAt"].as_str().unwrap().to_string()));
    assert_ne!(after.cursor(), held.cursor(), "the cursor still moves");
    env.finish().await;
}
