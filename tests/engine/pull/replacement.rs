//! PROTOCOL §9.1–§9.2: a pull that starts without a cursor is a full replacement. When it
//! drains, the local rows are exactly what the server sent in that pull (snapshot history of
//! a widget that came back is kept); until then the old rows stay readable. This is what keeps
//! a dashboard deleted or unshared while the client held no cursor (after a 403, a 410, a
//! reset database) from staying on the device forever.

use crate::support::*;
use serde_json::json;
use sync_core::engine::{ScriptedTransport, ServerLog, StoreError};
use sync_core::protocol::{Kind, PullItem};

/// Two dashboards, each with a widget and two snapshots, one metric, one projection, one query.
fn two_dashboards() -> Vec<PullItem> {
    vec![
        dashboard("dsh_keep", 1, &["fact_res"]),
        dashboard("dsh_gone", 1, &["fact_res"]),
        metric("occupancy", 1),
        widget("wid_keep", 1, "dsh_keep", "occupancy"),
        widget("wid_gone", 1, "dsh_gone", "occupancy"),
        snapshot("wid_keep", 0, "p", json!(0.5)),
        snapshot("wid_keep", 5, "p", json!(0.6)),
        snapshot("wid_gone", 0, "p", json!(0.7)),
        snapshot("wid_gone", 5, "p", json!(0.8)),
        projection("fact_res", 1, "2026-01-01T00:00:00Z", 3.0),
        query("qry_gone", 1),
    ]
}

fn query(id: &str, version: u64) -> PullItem {
    upsert(
        Kind::Query,
        version,
        json!({"id": id, "ownerId": USER, "name_i18n": {"default": id}}),
    )
}

/// What the server holds after `dsh_gone` (and its widget) was unshared and the query deleted
/// while the client held no cursor. A cold pull of it sends no tombstone: the rows are simply
/// not there. Only the newest snapshot of the kept widget is in the log.
fn after_unshare() -> Vec<PullItem> {
    vec![
        dashboard("dsh_keep", 1, &["fact_res"]),
        metric("occupancy", 1),
        widget("wid_keep", 1, "dsh_keep", "occupancy"),
        snapshot("wid_keep", 5, "p", json!(0.6)),
        projection("fact_res", 1, "2026-01-01T00:00:00Z", 3.0),
    ]
}

fn synced_harness() -> Harness {
    let mut h = Harness::with_log(two_dashboards());
    h.pull().unwrap();
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(h.snapshot_keys().len(), 4);
    h
}

fn assert_replaced(h: &Harness) {
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_keep"]);
    assert_eq!(h.keys(Kind::Widget), vec!["wid_keep"]);
    assert!(h.keys(Kind::Query).is_empty());
    assert_eq!(h.keys(Kind::MetricDefinition), vec!["occupancy"]);
    assert_eq!(h.keys(Kind::Projection), vec!["fact_res"]);
    // The kept widget's history stays (retention decides), the other widget's is gone.
    assert_eq!(
        h.snapshot_keys(),
        vec![("wid_keep".into(), at(0)), ("wid_keep".into(), at(5))]
    );
    assert!(!h.store.contents().meta.replacing);
}

#[test]
fn a_pull_after_a_query_only_403_removes_what_was_unshared_meanwhile() {
    let mut h = synced_harness();
    let t = ScriptedTransport::with_log(ServerLog::new(after_unshare()));
    t.respond(403, r#"{"error":"forbidden","kinds":["Query"]}"#);
    h.transport = t;
    assert_eq!(h.pull().unwrap_err().code(), "forbidden");
    // Only the named kind is wiped at once; the rest stays readable.
    assert!(h.keys(Kind::Query).is_empty());
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(h.cursor(), None);

    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_replaced(&h);
    assert!(report.changed_kinds.contains(&Kind::Dashboard));
    assert!(report.changed_kinds.contains(&Kind::WidgetSnapshot));
    assert!(!h.store.contents().meta.access_revoked);
}

#[test]
fn a_410_keeps_the_rows_readable_until_the_replacement_drains() {
    let mut h = synced_harness();
    let t = ScriptedTransport::with_log(ServerLog::new(after_unshare()));
    t.respond(410, r#"{"error":"cursor_invalid"}"#);
    h.transport = t;
    h.config.page_size = 2;
    h.config.max_pages = 2; // the 410 answer counts as one of them
    let report = h.pull().unwrap();
    assert_eq!(report.cold_restarts, 1);
    assert!(!report.drained);
    // Mid-replacement: nothing was taken away yet.
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(h.snapshot_keys().len(), 4);
    assert!(h.store.contents().meta.replacing);

    h.config.max_pages = 100;
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_replaced(&h);
}

#[test]
fn an_interrupted_replacement_resumes_and_still_sweeps() {
    // The cursor is gone (as after a 403) while the rows are held; one commit in the
    // middle of the replacement fails (the tab closed).
    let mut h = synced_harness();
    h.transport = ScriptedTransport::with_log(ServerLog::new(after_unshare()));
    block_on(sync_core::engine::Store::wipe(&h.store, &[], true)).unwrap();
    h.config.page_size = 2;
    h.config.max_pages = 1;
    assert!(!h.pull().unwrap().drained);
    h.store
        .fail_next_commit(StoreError::Aborted("tab closed".into()));
    h.config.max_pages = 100;
    assert!(h.pull().is_err());
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_gone", "dsh_keep"]);
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_replaced(&h);
}

#[test]
fn a_cold_start_on_an_empty_store_keeps_everything_it_was_sent() {
    let mut h = Harness::with_log(two_dashboards());
    h.config.page_size = 3;
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(h.snapshot_keys().len(), 4);
    assert!(!h.store.contents().meta.replacing);
    // An incremental pull after it is not a replacement: nothing is swept.
    h.transport
        .log()
        .unwrap()
        .extend([dashboard("dsh_new", 1, &[])]);
    h.pull().unwrap();
    assert_eq!(h.keys(Kind::Dashboard).len(), 3);
}

#[test]
fn rows_tombstoned_and_resent_within_the_replacement_end_as_the_log_says() {
    let mut h = synced_harness();
    let mut log = after_unshare();
    log.push(tombstone(Kind::Dashboard, "dsh_keep"));
    log.push(dashboard("dsh_keep", 2, &["fact_res"]));
    log.push(tombstone(Kind::Projection, "fact_res"));
    h.transport = ScriptedTransport::with_log(ServerLog::new(log));
    block_on(sync_core::engine::Store::wipe(&h.store, &[], true)).unwrap();
    h.config.page_size = 2;
    h.pull().unwrap();
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_keep"]);
    assert!(h.keys(Kind::Projection).is_empty());
    assert_eq!(
        h.store.contents().rows[&(Kind::Dashboard, "dsh_keep".into())].version,
        2
    );
}

#[test]
fn a_widget_only_reset_leaves_no_orphan_snapshots() {
    let mut h = synced_harness();
    h.transport.log().unwrap().extend([
        reset(Kind::Widget),
        widget("wid_keep", 2, "dsh_keep", "occupancy"),
    ]);
    h.config.page_size = 1;
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(h.keys(Kind::Widget), vec!["wid_keep"]);
    assert_eq!(
        h.snapshot_keys(),
        vec![("wid_keep".into(), at(0)), ("wid_keep".into(), at(5))]
    );
    assert!(report.integrity.is_empty(), "{:?}", report.integrity);
}

/// A replacement begun into a store that holds nothing can only sweep orphan snapshots: a
/// first start leaves no marks and no replacement flag, even cut short, keeps everything it
/// was sent, and still drops the snapshots of widgets that never came.
#[test]
fn a_cold_start_into_an_empty_store_begins_no_replacement() {
    let mut h = Harness::with_log(two_dashboards());
    h.config.page_size = 3;
    h.config.max_pages = 1;
    assert!(!h.pull().unwrap().drained);
    let contents = h.store.contents();
    assert!(!contents.meta.replacing);
    assert!(contents.replacement_marks.is_empty());
    h.config.max_pages = 100;
    h.transport
        .log()
        .unwrap()
        .extend([snapshot("wid_never_sent", 7, "p", json!(0.9))]);
    assert!(h.pull().unwrap().drained);
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_gone", "dsh_keep"]);
    assert_eq!(
        h.snapshot_keys().len(),
        4,
        "the orphan went when the pull drained"
    );
    let meta = h.store.contents().meta;
    assert!(!meta.replacing && !meta.orphan_sweep);
}

/// Emptied by a 403 naming every kind (the cursor dropped with them), the store holds nothing:
/// the pull after it writes only what it is sent, and an abandoned replacement's flag goes.
#[test]
fn a_pull_into_a_store_a_403_emptied_begins_no_replacement_and_drops_an_old_one() {
    let mut h = synced_harness();
    // A replacement over the held rows (after a 410) is cut short after one page.
    block_on(sync_core::engine::Store::wipe(&h.store, &[], true)).unwrap();
    h.transport = ScriptedTransport::with_log(ServerLog::new(after_unshare()));
    h.config.page_size = 2;
    h.config.max_pages = 1;
    h.pull().unwrap();
    assert!(h.store.contents().meta.replacing);
    assert!(!h.store.contents().replacement_marks.is_empty());
    block_on(sync_core::engine::Store::wipe(&h.store, &Kind::ALL, true)).unwrap();
    h.pull().unwrap();
    let contents = h.store.contents();
    assert!(!contents.meta.replacing);
    assert!(contents.replacement_marks.is_empty());
    h.config.max_pages = 100;
    assert!(h.pull().unwrap().drained);
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_keep"]);
    assert_eq!(h.keys(Kind::Widget), vec!["wid_keep"]);
    assert!(h.keys(Kind::Query).is_empty());
    // The 403 took the history with the snapshots; what the log sent is back.
    assert_eq!(h.snapshot_keys(), vec![("wid_keep".into(), at(5))]);
    assert!(!h.store.contents().meta.orphan_sweep);
}
