//! The pull loop against scripted server behaviour: paging, the cursor rule, 410 and 403.
//! The rest of the contract's error table is `error_table.rs`.

use crate::support::*;
use serde_json::json;
use sync_core::engine::ServerLog;
use sync_core::protocol::Kind;

pub(super) fn seeded_items() -> Vec<sync_core::protocol::PullItem> {
    vec![
        dashboard("dsh_1", 1, &["fact_res"]),
        metric("occupancy", 1),
        widget("wid_1", 1, "dsh_1", "occupancy"),
        snapshot("wid_1", 0, "p", json!(0.8)),
        projection("fact_res", 1, "2026-01-01T00:00:00Z", 3.0),
    ]
}

#[test]
fn pulls_page_by_page_until_drained() {
    let mut h = Harness::with_log(seeded_items());
    h.config.page_size = 2;
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(report.pages, 3);
    assert_eq!(report.items_applied(), 5);
    assert_eq!(report.applied.get(&Kind::WidgetSnapshot), Some(&1));
    assert!(report.integrity.is_empty());
    assert_eq!(h.cursor().as_deref(), Some("log.5"));
    assert_eq!(
        h.paths(),
        vec![
            "/internal/sync/pull?pageSize=2",
            "/internal/sync/pull?pageSize=2&cursor=log.2",
            "/internal/sync/pull?pageSize=2&cursor=log.4",
        ]
    );
    let pages: Vec<u64> = h.progress.iter().map(|p| p.pages).collect();
    assert_eq!(pages, vec![1, 2, 3]);
    assert_eq!(h.progress.last().unwrap().items_applied, 5);
    assert_eq!(report.bytes_pulled, h.progress.last().unwrap().bytes_pulled);
    assert!(report.bytes_pulled > 0);

    // Incremental: only what the server added since.
    h.transport
        .log()
        .unwrap()
        .extend([dashboard("dsh_1", 2, &["fact_res"])]);
    let report = h.pull().unwrap();
    assert_eq!((report.pages, report.items_applied()), (1, 1));
    assert_eq!(
        h.paths().last().unwrap(),
        "/internal/sync/pull?pageSize=2&cursor=log.5"
    );
    assert_eq!(
        h.store.contents().rows[&(Kind::Dashboard, "dsh_1".into())].version,
        2
    );
}

#[test]
fn stops_at_max_pages_and_resumes() {
    let mut h = Harness::with_log(seeded_items());
    h.config.page_size = 1;
    h.config.max_pages = 2;
    let report = h.pull().unwrap();
    assert!(!report.drained);
    assert_eq!(report.pages, 2);
    assert_eq!(h.cursor().as_deref(), Some("log.2"));
    h.config.max_pages = 10;
    assert!(h.pull().unwrap().drained);
    assert_eq!(h.cursor().as_deref(), Some("log.5"));
}

#[test]
fn cursor_is_url_encoded_and_fresh_sent_once() {
    let t = sync_core::engine::ScriptedTransport::new();
    t.respond(200, body(vec![], "a+b/c=d&e", false));
    t.respond(200, body(vec![], "z", true));
    let mut h = Harness::new(t);
    h.config.fresh = true;
    h.pull().unwrap();
    assert_eq!(
        h.paths(),
        vec![
            "/internal/sync/pull?pageSize=500&fresh=true",
            "/internal/sync/pull?pageSize=500&cursor=a%2Bb%2Fc%3Dd%26e",
        ]
    );
}

#[test]
fn gone_cursor_wipes_everything_and_cold_starts_once() {
    let mut h = Harness::with_log(seeded_items());
    h.pull().unwrap();
    assert_eq!(h.keys(Kind::Widget), vec!["wid_1"]);
    // The server no longer accepts our cursor (key retired) and the log was rebuilt.
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(vec![dashboard(
        "dsh_2",
        1,
        &[],
    )]));
    t.respond(410, r#"{"error":"cursor_invalid"}"#);
    h.transport = t;
    let report = h.pull().unwrap();
    assert_eq!(report.cold_restarts, 1);
    assert!(report.drained);
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_2"]);
    assert!(h.keys(Kind::Widget).is_empty());
    assert!(h.snapshot_keys().is_empty());
    assert_eq!(
        h.paths(),
        vec![
            "/internal/sync/pull?pageSize=500&cursor=log.5",
            "/internal/sync/pull?pageSize=500",
        ]
    );
    assert!(report.changed_kinds.contains(&Kind::Widget));

    // A second 410 in the same call is not looped on.
    let t = sync_core::engine::ScriptedTransport::new();
    t.respond(410, "{}").respond(410, "{}");
    h.transport = t;
    let e = h.pull().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("cursor_invalid", true));
    assert_eq!(h.transport.requests().len(), 2);
    assert_eq!(h.cursor(), None);
}

#[test]
fn forbidden_wipes_named_kinds_and_sets_the_flag_until_a_page_lands() {
    let mut h = Harness::with_log(seeded_items());
    h.pull().unwrap();
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.respond(
        403,
        r#"{"error":"forbidden","kinds":["Widget","WidgetSnapshot","Bogus"]}"#,
    );
    h.transport = t;
    let e = h.pull().unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert!(!e.retryable());
    let meta = h.store.contents().meta;
    assert!(meta.access_revoked);
    assert_eq!(meta.cursor, None);
    assert!(h.keys(Kind::Widget).is_empty());
    assert!(h.snapshot_keys().is_empty());
    assert_eq!(h.keys(Kind::Dashboard), vec!["dsh_1"]);
    assert_eq!(h.keys(Kind::MetricDefinition), vec!["occupancy"]);

    // Access restored: the next successful page clears the flag.
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert!(!h.store.contents().meta.access_revoked);
    assert_eq!(h.keys(Kind::Widget), vec!["wid_1"]);
}

#[test]
fn forbidden_without_kinds_wipes_every_kind() {
    let mut h = Harness::with_log(seeded_items());
    h.pull().unwrap();
    let t = sync_core::engine::ScriptedTransport::new();
    t.respond(403, r#"{"error":"forbidden"}"#);
    h.transport = t;
    assert_eq!(h.pull().unwrap_err().code(), "forbidden");
    let c = h.store.contents();
    assert!(c.rows.is_empty() && c.snapshots.is_empty() && c.meta.access_revoked);
}

#[test]
fn another_tab_applying_the_page_first_is_followed() {
    let log = ServerLog::new(seeded_items());
    let pages = log.clean_pass(2);
    let mut h = Harness::new(sync_core::engine::ScriptedTransport::with_log(log));
    h.config.page_size = 2;
    // While we fetched page 1, another tab committed it (and moved the cursor on).
    let other_tab_next = pages[0].1.next_cursor.clone();
    let other_tab_plan = {
        let tmp = sync_core::engine::MemoryStore::new();
        block_on(sync_core::engine::apply_page(
            &tmp,
            pages[0].1.clone(),
            None,
            &h.config,
        ))
        .unwrap();
        tmp.contents()
    };
    h.store.before_next_commit(move |c| {
        c.rows = other_tab_plan.rows;
        c.snapshots = other_tab_plan.snapshots;
        c.meta.cursor = Some(other_tab_next);
        c.meta.page_serial += 1;
    });
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(report.pages, 2);
    let clean = {
        let mut c = Harness::with_log(seeded_items());
        c.pull().unwrap();
        data(&c.store)
    };
    assert_eq!(data(&h.store), clean);
    assert_eq!(
        h.paths(),
        vec![
            "/internal/sync/pull?pageSize=2",
            "/internal/sync/pull?pageSize=2&cursor=log.2",
            "/internal/sync/pull?pageSize=2&cursor=log.4",
        ]
    );
}
