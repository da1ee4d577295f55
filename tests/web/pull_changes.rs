//! What a pull brings after the first one: only the server's changes (an updated widget, a
//! tombstoned dashboard with its widgets, a new snapshot), and after an epoch bump a reset
//! that empties the kind and refills it, without a widget deleted meanwhile.

use super::pull_support::{PullEnv, RawDump};
use super::server_admin::TenantSize;
use serde_json::{json, Value};
use sync_core::protocol::{Kind, KindCounts};
use wasm_bindgen_test::wasm_bindgen_test;

/// Keys of the held widgets of `dashboard`.
fn widgets_of(dump: &RawDump, dashboard: &str) -> Vec<String> {
    dump.stores[&Kind::Widget]
        .iter()
        .filter(|w| w["row"]["dashboardId"] == dashboard)
        .map(|w| w["key"].as_str().unwrap().to_string())
        .collect()
}

fn snapshot_key(record: &Value) -> (String, String) {
    (
        record["widgetId"].as_str().unwrap().to_string(),
        record["generatedAt"].as_str().unwrap().to_string(),
    )
}

#[wasm_bindgen_test]
async fn an_incremental_pull_applies_exactly_the_server_changes() {
    let env = PullEnv::new("incr", TenantSize::SMALL).await;
    env.pull_drained().await;
    let before = env.dump().await;

    let gone = before.keys(Kind::Dashboard)[0].clone();
    let gone_widgets = widgets_of(&before, &gone);
    assert!(!gone_widgets.is_empty());
    let kept: Vec<String> = before
        .keys(Kind::Widget)
        .into_iter()
        .filter(|w| !gone_widgets.contains(w))
        .collect();
    let (renamed, snapped) = (kept[0].clone(), kept[1].clone());

    let mut row = env.tenant.server_row(Kind::Widget, &renamed).await["row"].clone();
    row["title_i18n"] = json!({"default": "Occupancy (renamed)"});
    let version = env.tenant.upsert(Kind::Widget, row.clone()).await["version"]
        .as_u64()
        .unwrap();
    env.tenant.tombstone(Kind::Dashboard, &gone).await;
    let appended = env
        .tenant
        .append_snapshot(
            &snapped,
            json!([{"date": "2030-01-01", "value": 0.91}]),
            None,
        )
        .await;
    let generated_at = appended["generatedAt"].as_str().unwrap().to_string();

    let report = env.pull_drained().await;
    assert_eq!(report.pages, 1);
    let expected = KindCounts::from([
        (Kind::Dashboard, 1),
        (Kind::Widget, 1 + gone_widgets.len() as u64),
        (Kind::WidgetSnapshot, 1),
    ]);
    assert_eq!(report.applied, expected, "{report:?}");
    assert_eq!(report.duplicates_skipped, 0, "nothing old was sent again");
    assert!(report.resets.is_empty() && report.snapshots_trimmed == 0);
    assert!(report.integrity.is_empty(), "{:?}", report.integrity);

    let after = env.dump().await;
    // The changed rows, as the server sent them.
    assert!(after.record(Kind::Dashboard, &gone).is_none());
    for w in &gone_widgets {
        assert!(after.record(Kind::Widget, w).is_none(), "{w} survived");
        assert!(!after.snapshot_times().contains_key(w), "{w}'s snapshots");
    }
    let stored = after.record(Kind::Widget, &renamed).unwrap();
    assert_eq!(stored["version"], json!(version));
    assert_eq!(stored["row"], row);
    let times = &after.snapshot_times()[&snapped];
    assert_eq!(times.last(), Some(&generated_at));
    assert_eq!(times.len(), before.snapshot_times()[&snapped].len() + 1);

    // Everything else exactly as before.
    let mut expected = before.clone();
    let dropped = |r: &Value| {
        r["key"] == gone.as_str()
            || gone_widgets.iter().any(|w| r["key"] == w.as_str())
            || gone_widgets.iter().any(|w| r["widgetId"] == w.as_str())
    };
    for records in expected.stores.values_mut() {
        records.retain(|r| !dropped(r));
    }
    for r in expected.stores.get_mut(&Kind::Widget).unwrap() {
        if r["key"] == renamed.as_str() {
            *r = stored.clone();
        }
    }
    let snapshots = expected.stores.get_mut(&Kind::WidgetSnapshot).unwrap();
    snapshots.push(
        after.stores[&Kind::WidgetSnapshot]
            .iter()
            .find(|s| s["generatedAt"] == generated_at.as_str())
            .unwrap()
            .clone(),
    );
    snapshots.sort_by_key(snapshot_key);
    assert_eq!(after.stores, expected.stores);
    assert_ne!(after.cursor(), before.cursor());

    // Nothing more to bring.
    let again = env.pull_drained().await;
    assert_eq!((again.pages, again.items_applied()), (1, 0));
    assert_eq!(env.dump().await.stores, after.stores);
    env.finish().await;
}

#[wasm_bindgen_test]
async fn an_epoch_bump_resets_the_kind_and_refills_it_without_deleted_rows() {
    let env = PullEnv::new("reset", TenantSize::SMALL).await;
    env.pull_drained().await;
    let before = env.dump().await;
    let widgets = before.keys(Kind::Widget);
    let victim = widgets[1].clone();

    env.tenant.tombstone(Kind::Widget, &victim).await;
    env.tenant.bump_epoch(Kind::Widget).await;
    let report = env.pull_drained().await;

    assert_eq!(report.resets, vec![Kind::Widget]);
    assert_eq!(
        report.applied,
        KindCounts::from([(Kind::Widget, widgets.len() as u64 - 1)]),
        "the kind is refilled from scratch: {report:?}"
    );
    assert_eq!(report.cold_restarts, 0);

    let after = env.dump().await;
    let expected: Vec<String> = widgets.iter().filter(|w| **w != victim).cloned().collect();
    assert_eq!(after.keys(Kind::Widget), expected);
    let mut expected_widgets = before.stores[&Kind::Widget].clone();
    expected_widgets.retain(|w| w["key"] != victim.as_str());
    assert_eq!(after.stores[&Kind::Widget], expected_widgets);
    for kind in [
        Kind::Dashboard,
        Kind::MetricDefinition,
        Kind::Query,
        Kind::Projection,
        Kind::DqAlertOpen,
    ] {
        assert_eq!(after.stores[&kind], before.stores[&kind], "{kind}");
    }
    // Snapshots are another kind: a Widget-only reset does not touch them. (The victim's own
    // stay behind, unreported: the device never receives its tombstone, and the integrity
    // gate only checks widgets that received snapshots. The server bumps Widget and
    // WidgetSnapshot together whenever visibility really changes, so only this admin-made
    // Widget-only bump leaves them; not asserted either way.)
    let others = |d: &RawDump| -> Vec<Value> {
        d.stores[&Kind::WidgetSnapshot]
            .iter()
            .filter(|s| s["widgetId"] != victim.as_str())
            .cloned()
            .collect()
    };
    assert_eq!(others(&after), others(&before));
    env.finish().await;
}
