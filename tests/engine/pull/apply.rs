//! What happens to a pulled page: versions, tombstones, resets, snapshot retention and
//! dedupe, the size budget and privacy.

use crate::support::*;
use serde_json::json;
use sync_core::engine::{
    apply_page, latest_snapshot, plan_page, state_request, MemoryStore, PullConfig,
};
use sync_core::protocol::{Kind, PullItem};

/// Applies `items` as one page on top of whatever `store` holds, like the pull loop does.
/// The page does not drain: these tests are about one page's plan, and many hold snapshots
/// of widgets they never created, which the sweep that ends a cold pull would remove
/// (`engine/pull/replacement.rs` tests that sweep).
fn apply(
    store: &MemoryStore,
    items: Vec<PullItem>,
    config: &PullConfig,
) -> sync_core::engine::PagePlan {
    let sent = store.contents().meta.cursor;
    let next = format!("c{}", store.commits() + 1);
    block_on(apply_page(
        store,
        page(items, &next, false),
        sent.as_deref(),
        config,
    ))
    .unwrap()
}

fn versions(store: &MemoryStore, kind: Kind) -> Vec<(String, u64)> {
    store
        .contents()
        .rows
        .values()
        .filter(|r| r.kind == kind)
        .map(|r| (r.key.clone(), r.version))
        .collect()
}

fn snapshot_times(store: &MemoryStore, widget_id: &str) -> Vec<String> {
    block_on(sync_core::engine::snapshots(store, widget_id, usize::MAX))
        .unwrap()
        .into_iter()
        .map(|s| s.generated_at)
        .collect()
}

#[test]
fn lower_or_equal_versions_are_ignored() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    apply(&store, vec![dashboard("dsh_1", 2, &[])], &config);
    let p = apply(
        &store,
        vec![dashboard("dsh_1", 1, &[]), dashboard("dsh_1", 2, &[])],
        &config,
    );
    assert_eq!(p.summary.duplicates_skipped, 2);
    assert!(p.plan.is_empty());
    let p = apply(
        &store,
        vec![
            dashboard("dsh_1", 4, &[]),
            dashboard("dsh_1", 3, &[]),
            metric("adr", 1),
        ],
        &config,
    );
    assert_eq!(p.summary.duplicates_skipped, 1);
    assert_eq!(versions(&store, Kind::Dashboard), vec![("dsh_1".into(), 4)]);
    assert_eq!(
        p.summary.changed.iter().collect::<Vec<_>>(),
        vec![Kind::Dashboard, Kind::MetricDefinition]
    );
}

#[test]
fn a_tombstoned_widget_takes_its_snapshots() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    apply(
        &store,
        vec![
            widget("wid_1", 1, "dsh_1", "occ"),
            widget("wid_2", 1, "dsh_1", "occ"),
            snapshot("wid_1", 0, "p", json!(1)),
            snapshot("wid_1", 5, "p", json!(2)),
            snapshot("wid_2", 5, "p", json!(3)),
        ],
        &config,
    );
    let p = apply(&store, vec![tombstone(Kind::Widget, "wid_1")], &config);
    assert_eq!(
        p.plan.row_deletes,
        vec![(Kind::Widget, "wid_1".to_string())]
    );
    assert_eq!(
        p.plan.snapshot_deletes,
        vec![("wid_1".to_string(), at(0)), ("wid_1".to_string(), at(5))]
    );
    assert!(snapshot_times(&store, "wid_1").is_empty());
    assert_eq!(snapshot_times(&store, "wid_2"), vec![at(5)]);
    // A tombstone for what is not held writes nothing.
    assert!(
        apply(&store, vec![tombstone(Kind::Widget, "wid_1")], &config)
            .plan
            .is_empty()
    );
}

#[test]
fn within_a_page_later_items_see_earlier_ones() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    apply(&store, vec![dashboard("dsh_old", 1, &[])], &config);
    let p = apply(
        &store,
        vec![
            dashboard("dsh_1", 1, &[]),
            tombstone(Kind::Dashboard, "dsh_1"),
            tombstone(Kind::Dashboard, "dsh_2"),
            dashboard("dsh_2", 1, &[]),
            tombstone(Kind::Dashboard, "dsh_old"),
            dashboard("dsh_old", 1, &[]),
        ],
        &config,
    );
    // dsh_1 never lands; dsh_2 and the re-created dsh_old do (after a tombstone any version
    // is new).
    assert_eq!(p.plan.row_deletes, vec![]);
    let puts: Vec<_> = p.plan.row_puts.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(puts, vec!["dsh_2", "dsh_old"]);
}

#[test]
fn reset_drops_the_kind_first_and_discards_earlier_writes() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    apply(
        &store,
        vec![
            dashboard("dsh_1", 5, &[]),
            dashboard("dsh_2", 1, &[]),
            metric("occ", 1),
        ],
        &config,
    );
    let p = apply(
        &store,
        vec![
            dashboard("dsh_3", 1, &[]),
            reset(Kind::Dashboard),
            dashboard("dsh_1", 1, &[]),
            dashboard("dsh_4", 1, &[]),
        ],
        &config,
    );
    assert_eq!(p.plan.clear_kinds, vec![Kind::Dashboard]);
    assert_eq!(p.summary.resets, vec![Kind::Dashboard]);
    // dsh_1 comes back at version 1: the reset dropped the version-5 row first.
    assert_eq!(
        versions(&store, Kind::Dashboard),
        vec![("dsh_1".into(), 1), ("dsh_4".into(), 1)]
    );
    assert_eq!(
        versions(&store, Kind::MetricDefinition),
        vec![("occ".into(), 1)]
    );

    // Snapshots: a reset of the kind empties every widget's history.
    apply(
        &store,
        vec![
            snapshot("wid_1", 0, "p", json!(1)),
            snapshot("wid_2", 0, "p", json!(1)),
        ],
        &config,
    );
    apply(
        &store,
        vec![
            reset(Kind::WidgetSnapshot),
            snapshot("wid_2", 9, "p", json!(2)),
        ],
        &config,
    );
    assert_eq!(h_snapshots(&store), vec![("wid_2".to_string(), at(9))]);
}

fn h_snapshots(store: &MemoryStore) -> Vec<(String, String)> {
    store.contents().snapshots.keys().cloned().collect()
}

#[test]
fn identical_snapshot_causes_zero_writes() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    apply(
        &store,
        vec![snapshot("wid_1", 0, "p", json!({"a": 1, "b": 2}))],
        &config,
    );
    let writes = store.row_writes();
    // Same paramsHash, same rows with keys in another order, newer generatedAt.
    let same = PullItem::Append {
        kind: Kind::WidgetSnapshot,
        row: row(
            json!({"widgetId": "wid_1", "paramsHash": "p", "generatedAt": at(5),
                        "rows": [{"date": "2026-01-01", "occupancy": {"b": 2, "a": 1}}]}),
        ),
    };
    let p = apply(
        &store,
        vec![same.clone(), snapshot("wid_1", 0, "p", json!(9))],
        &config,
    );
    assert_eq!(p.summary.duplicates_skipped, 2);
    assert!(p.plan.is_empty());
    assert_eq!(store.row_writes(), writes);
    // Other params: a different snapshot.
    let p = apply(
        &store,
        vec![snapshot("wid_1", 5, "q", json!({"a": 1, "b": 2}))],
        &config,
    );
    assert_eq!(p.plan.snapshot_puts.len(), 1);
}

#[test]
fn retention_keeps_the_newest_n() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    let items = (0..15)
        .map(|m| snapshot("wid_1", m, "p", json!(m)))
        .collect();
    let p = apply(&store, items, &config);
    assert_eq!(p.summary.snapshots_trimmed, 3);
    assert_eq!(p.plan.snapshot_puts.len(), 12);
    let held = snapshot_times(&store, "wid_1");
    assert_eq!(held.len(), 12);
    assert_eq!(held.first(), Some(&at(14)));
    assert_eq!(held.last(), Some(&at(3)));
    assert_eq!(
        block_on(latest_snapshot(&store, "wid_1"))
            .unwrap()
            .unwrap()
            .generated_at,
        at(14)
    );

    // Configurable; a later append trims held ones with deletes.
    let config = PullConfig {
        retention: 3,
        ..PullConfig::new(USER)
    };
    let p = apply(&store, vec![snapshot("wid_1", 20, "p", json!(20))], &config);
    assert_eq!(p.plan.snapshot_deletes.len(), 10);
    assert_eq!(
        snapshot_times(&store, "wid_1"),
        vec![at(20), at(14), at(13)]
    );
    // Older than everything held at full retention: skipped.
    assert!(
        apply(&store, vec![snapshot("wid_1", 1, "p", json!(1))], &config)
            .plan
            .is_empty()
    );
}

#[test]
fn oversize_snapshot_is_dropped_and_the_rest_applies() {
    let store = MemoryStore::new();
    let config = PullConfig::new(USER);
    let big = "x".repeat(70 * 1024);
    let p = apply(
        &store,
        vec![
            dashboard("dsh_1", 1, &[]),
            snapshot("wid_big", 0, "p", json!(big)),
            snapshot("wid_ok", 0, "p", json!(1)),
        ],
        &config,
    );
    assert_eq!(p.summary.snapshots_too_large, vec!["wid_big".to_string()]);
    assert_eq!(h_snapshots(&store), vec![("wid_ok".to_string(), at(0))]);
    assert_eq!(versions(&store, Kind::Dashboard).len(), 1);
    // Just under the budget passes.
    let small = PullConfig {
        max_snapshot_bytes: 200 * 1024,
        ..PullConfig::new(USER)
    };
    apply(
        &store,
        vec![snapshot("wid_big", 0, "p", json!(big))],
        &small,
    );
    assert_eq!(snapshot_times(&store, "wid_big"), vec![at(0)]);
}

#[test]
fn privacy_is_applied_before_anything_is_written() {
    let mut h = Harness::with_log(vec![
        upsert(
            Kind::Dashboard,
            1,
            json!({"id": "dsh_1", "name_i18n": {}, "embedToken": "tok",
            "sharedWith": [{"kind": "user", "id": "usr_b"}, {"kind": "embed", "id": "e", "token": "t"}]}),
        ),
        upsert(
            Kind::Query,
            1,
            json!({"id": "qry_1", "ownerId": USER, "name_i18n": {}, "sql_template": "select 1"}),
        ),
        upsert(
            Kind::Query,
            1,
            json!({"id": "qry_2", "ownerId": "usr_bob", "name_i18n": {}, "sql_template": "select 2"}),
        ),
        upsert(
            Kind::DqAlertOpen,
            1,
            json!({"id": "dqc_1", "checkKey": "k", "severity": "critical",
            "observedAt": "2026-01-01T00:00:00Z", "jobId": "job_9", "observedValue": 0.3}),
        ),
    ]);
    h.pull().unwrap();
    let c = h.store.contents();
    let get =
        |k: Kind, id: &str| serde_json::Value::Object(c.rows[&(k, id.to_string())].row.clone());
    assert_eq!(
        get(Kind::Dashboard, "dsh_1"),
        json!({"id": "dsh_1", "name_i18n": {}, "sharedWith": [{"kind": "user", "id": "usr_b"}]})
    );
    assert_eq!(get(Kind::Query, "qry_1")["sql_template"], json!("select 1"));
    assert!(get(Kind::Query, "qry_2").get("sql_template").is_none());
    assert_eq!(
        get(Kind::DqAlertOpen, "dqc_1"),
        json!({"id": "dqc_1", "checkKey": "k", "severity": "critical", "observedAt": "2026-01-01T00:00:00Z"})
    );
}

#[test]
fn replanning_an_applied_page_changes_nothing() {
    let store = MemoryStore::new();
    let config = PullConfig {
        retention: 2,
        ..PullConfig::new(USER)
    };
    let items = vec![
        dashboard("dsh_1", 1, &[]),
        reset(Kind::Widget),
        widget("wid_1", 3, "dsh_1", "occ"),
        snapshot("wid_1", 0, "p", json!(1)),
        snapshot("wid_1", 1, "p", json!(2)),
        snapshot("wid_1", 2, "p", json!(2)),
        snapshot("wid_1", 3, "p", json!(3)),
        tombstone(Kind::Dashboard, "dsh_1"),
    ];
    apply(&store, items.clone(), &config);
    let after = data(&store);
    let state = block_on(sync_core::engine::Store::local_state(
        &store,
        &state_request(&items),
    ))
    .unwrap();
    let again = plan_page(&items, &state, &config).unwrap();
    block_on(sync_core::engine::Store::commit_page(
        &store,
        &again.plan,
        after.meta.cursor.as_deref(),
        "c1",
    ))
    .unwrap();
    assert_eq!(data(&store), after);
    assert_eq!(again.summary.applied.get(&Kind::WidgetSnapshot), None);
}
