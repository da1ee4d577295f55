//! After the pull: the integrity gate's findings, dashboard freshness from local data, and
//! the report handed to JS.

use crate::support::*;
use serde_json::json;
use sync_core::engine::{freshness, latest_snapshot, IntegrityFinding, Store};
use sync_core::protocol::Kind;

#[test]
fn integrity_reports_orphans_on_both_sides() {
    let mut h = Harness::with_log(vec![
        dashboard("dsh_1", 1, &[]),
        dashboard("dsh_2", 1, &[]),
        metric("occ", 1),
        widget("wid_ok", 1, "dsh_1", "occ"),
        widget("wid_no_dash", 1, "dsh_missing", "occ"),
        widget("wid_no_metric", 1, "dsh_1", "adr"),
        widget("wid_on_2", 1, "dsh_2", "occ"),
        snapshot("wid_ok", 0, "p", json!(1)),
    ]);
    h.config.page_size = 8;
    let cold = h.pull().unwrap();
    // A cold start into an empty store: the gate answers from what the pull wrote.
    assert_eq!(h.store.row_reads(), 0);
    // A snapshot of a widget the server never sent, in an incremental pull. (In a cold pull
    // it would be swept at the end: `engine/pull/replacement.rs`.)
    h.transport
        .log()
        .unwrap()
        .extend([snapshot("wid_ghost", 0, "p", json!(1))]);
    let report = h.pull().unwrap();
    assert_eq!(cold.snapshots_swept, 0);
    let f = |source_kind, source_id: &str, field, target_kind, target_id: &str| IntegrityFinding {
        source_kind,
        source_id: source_id.into(),
        field,
        target_kind,
        target_id: target_id.into(),
    };
    let mut found = cold.integrity.clone();
    found.extend(report.integrity.clone());
    assert_eq!(
        found,
        vec![
            f(
                Kind::Widget,
                "wid_no_dash",
                "dashboardId",
                Kind::Dashboard,
                "dsh_missing"
            ),
            f(
                Kind::Widget,
                "wid_no_metric",
                "metricKey",
                Kind::MetricDefinition,
                "adr"
            ),
            f(
                Kind::WidgetSnapshot,
                "wid_ghost",
                "widgetId",
                Kind::Widget,
                "wid_ghost"
            ),
        ]
    );
    // Target side: the pull only tombstones a dashboard and resets metrics; the widgets
    // still pointing at them are found although the pull did not touch them.
    h.transport.log().unwrap().extend([
        tombstone(Kind::Dashboard, "dsh_2"),
        reset(Kind::MetricDefinition),
        metric("adr", 1),
    ]);
    let report = h.pull().unwrap();
    let mut expected = vec![
        f(
            Kind::Widget,
            "wid_no_dash",
            "dashboardId",
            Kind::Dashboard,
            "dsh_missing",
        ),
        f(
            Kind::Widget,
            "wid_no_dash",
            "metricKey",
            Kind::MetricDefinition,
            "occ",
        ),
        f(
            Kind::Widget,
            "wid_ok",
            "metricKey",
            Kind::MetricDefinition,
            "occ",
        ),
        f(
            Kind::Widget,
            "wid_on_2",
            "dashboardId",
            Kind::Dashboard,
            "dsh_2",
        ),
        f(
            Kind::Widget,
            "wid_on_2",
            "metricKey",
            Kind::MetricDefinition,
            "occ",
        ),
    ];
    expected.sort();
    assert_eq!(report.integrity, expected);
}

#[test]
fn freshness_from_local_data() {
    let mut h = Harness::with_log(vec![
        dashboard("dsh_1", 1, &["fact_res", "fact_rate"]),
        projection("fact_res", 1, "2026-01-01T00:40:00Z", 3.0),
        projection("fact_rate", 1, "2026-01-01T00:30:00Z", 4.5),
        widget("wid_fresh", 1, "dsh_1", "occ"),
        widget("wid_old", 1, "dsh_1", "occ"),
        widget("wid_none", 1, "dsh_1", "occ"),
        snapshot("wid_fresh", 55, "p", json!(1)),
        snapshot("wid_old", 10, "p", json!(1)),
        snapshot("wid_old", 40, "p", json!(2)),
    ]);
    h.pull().unwrap();
    // One hour after T0; alertAtMinutes is 15.
    let now = T0 + 60 * 60_000;
    let f = block_on(freshness(&h.store, "dsh_1", now))
        .unwrap()
        .unwrap();
    assert_eq!(f.as_of.as_deref(), Some("2026-01-01T00:30:00Z"));
    assert_eq!(f.lag_minutes, Some(4.5));
    assert!(f.stale);
    assert_eq!(
        f.stale_widget_ids,
        vec!["wid_none".to_string(), "wid_old".to_string()]
    );
    assert_eq!(
        serde_json::to_value(&f).unwrap(),
        json!({"asOf": "2026-01-01T00:30:00Z", "lagMinutes": 4.5, "stale": true,
               "staleWidgetIds": ["wid_none", "wid_old"]})
    );

    // A projection lag over the threshold makes even a new snapshot stale.
    h.transport
        .log()
        .unwrap()
        .extend([projection("fact_rate", 2, "2026-01-01T00:50:00Z", 16.0)]);
    h.pull().unwrap();
    let f = block_on(freshness(&h.store, "dsh_1", now))
        .unwrap()
        .unwrap();
    assert_eq!(f.as_of.as_deref(), Some("2026-01-01T00:40:00Z"));
    assert!(f.stale_widget_ids.contains(&"wid_fresh".to_string()));

    // An unknown table makes "as of" unknown; an unknown dashboard has no freshness.
    h.transport
        .log()
        .unwrap()
        .extend([dashboard("dsh_1", 2, &["fact_res", "fact_missing"])]);
    h.pull().unwrap();
    let f = block_on(freshness(&h.store, "dsh_1", now))
        .unwrap()
        .unwrap();
    assert_eq!(f.as_of, None);
    assert_eq!(
        block_on(freshness(&h.store, "dsh_nope", now)).unwrap(),
        None
    );
}

#[test]
fn latest_snapshot_is_the_newest_held_of_many() {
    // Appended out of time order, next to widgets whose ids share a prefix.
    let mut log: Vec<_> = ["wid_1", "wid_10", "wid_0"]
        .iter()
        .map(|id| widget(id, 1, "dsh_1", "occupancy"))
        .collect();
    log.extend(
        [7u32, 3, 11, 5, 9, 1]
            .iter()
            .map(|&m| snapshot("wid_1", m, "p", json!(m))),
    );
    log.push(snapshot("wid_10", 30, "p", json!(30)));
    log.push(snapshot("wid_0", 40, "p", json!(40)));
    let mut h = Harness::with_log(log);
    h.pull().unwrap();
    let newest = block_on(latest_snapshot(&h.store, "wid_1"))
        .unwrap()
        .unwrap();
    assert_eq!(newest.generated_at, "2026-01-01T00:11:00Z");
    assert_eq!(newest.row["rows"][0]["occupancy"], json!(11));
    assert_eq!(
        Some(newest),
        block_on(h.store.snapshots_of("wid_1"))
            .unwrap()
            .into_iter()
            .next()
    );
    assert_eq!(block_on(latest_snapshot(&h.store, "wid_")).unwrap(), None);
}

#[test]
fn report_serializes_camel_case() {
    let mut h = Harness::with_log(vec![dashboard("dsh_1", 1, &[]), reset(Kind::Query)]);
    let report = h.pull().unwrap();
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["applied"], json!({"Dashboard": 1}));
    assert_eq!(v["resets"], json!(["Query"]));
    assert_eq!(v["changedKinds"], json!(["Dashboard", "Query"]));
    for key in [
        "pages",
        "duplicatesSkipped",
        "snapshotsTrimmed",
        "snapshotsTooLarge",
        "bytesPulled",
        "retries",
        "coldRestarts",
        "integrity",
        "durationMs",
        "drained",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
}

#[test]
fn holds_any_answers_whether_a_kind_has_rows_without_reading_them_all() {
    let mut h = Harness::with_log(vec![dashboard("dsh_1", 1, &[])]);
    assert!(!block_on(h.store.holds_any(Kind::Dashboard)).unwrap());
    h.pull().unwrap();
    assert!(block_on(h.store.holds_any(Kind::Dashboard)).unwrap());
    assert!(!block_on(h.store.holds_any(Kind::Widget)).unwrap());
    block_on(h.store.wipe(&[Kind::Dashboard], false)).unwrap();
    assert!(!block_on(h.store.holds_any(Kind::Dashboard)).unwrap());
}
