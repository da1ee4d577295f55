//! The pull loop against scripted server behaviour: paging, every row of the contract's
//! error table (PROTOCOL §3), and the cursor rule.

use crate::support::*;
use serde_json::json;
use sync_core::engine::{HttpResponse, PullConfig, ServerLog, StoreError, TransportError};
use sync_core::protocol::Kind;

fn seeded_items() -> Vec<sync_core::protocol::PullItem> {
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
fn unauthorized_is_retried_once() {
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.respond(401, r#"{"error":"unauthorized"}"#);
    let mut h = Harness::new(t);
    let report = h.pull().unwrap();
    assert_eq!(report.retries, 1);
    assert_eq!(h.transport.requests().len(), 2);
    assert!(h.clock.sleeps().is_empty());

    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.respond(401, "{}").respond(401, "{}");
    let mut h = Harness::new(t);
    let e = h.pull().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("unauthorized", false));
    assert_eq!(h.transport.requests().len(), 2);
    assert_eq!(h.store.contents(), Default::default());

    let t = sync_core::engine::ScriptedTransport::new();
    t.fail(TransportError::Token("host callback threw".into()));
    let mut h = Harness::new(t);
    assert_eq!(h.pull().unwrap_err().code(), "unauthorized");
    assert_eq!(h.transport.requests().len(), 1);
}

#[test]
fn rate_limit_waits_at_least_retry_after_in_both_forms() {
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.rate_limit("7");
    // T0 + 7 s is where the clock stands after the first wait; ask for 20 s more.
    t.rate_limit("Thu, 01 Jan 2026 00:00:27 GMT");
    let mut h = Harness::new(t);
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(h.clock.sleeps(), vec![7_000, 20_000]);
    assert_eq!(report.retries, 2);

    // Longer than the call may wait: reported, not slept.
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.rate_limit("3600");
    let mut h = Harness::new(t);
    let e = h.pull().unwrap_err();
    assert_eq!(
        e,
        sync_core::engine::PullError::RateLimited {
            retry_after_ms: 3_600_000
        }
    );
    assert!(e.retryable());
    assert!(h.clock.sleeps().is_empty());

    // Without a usable Retry-After, backoff applies.
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(vec![]));
    t.rate_limit("later");
    let mut h = Harness::new(t);
    h.pull().unwrap();
    assert_eq!(h.clock.sleeps().len(), 1);
    assert!(h.clock.sleeps()[0] < h.config.backoff.base_ms);
}

#[test]
fn rate_limited_fresh_refresh_is_reported_at_once_not_slept() {
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.rate_limit("30");
    let mut h = Harness::new(t);
    h.config.fresh = true;
    let e = h.pull().unwrap_err();
    assert_eq!(
        e,
        sync_core::engine::PullError::RateLimited {
            retry_after_ms: 30_000
        }
    );
    assert!(h.clock.sleeps().is_empty());
    assert_eq!(h.cursor(), None, "nothing applied");
    // The next ordinary pull goes through.
    h.config.fresh = false;
    assert!(h.pull().unwrap().drained);
}

#[test]
fn server_errors_then_success_back_off_with_jitter() {
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.respond(500, "oops")
        .respond(503, "")
        .fail(TransportError::Timeout);
    t.fail(TransportError::Network("connection reset".into()));
    let mut h = Harness::new(t);
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(report.retries, 4);
    let sleeps = h.clock.sleeps();
    assert_eq!(sleeps.len(), 4);
    let b = h.config.backoff;
    for (i, s) in sleeps.iter().enumerate() {
        assert!(*s < (b.base_ms << i).min(b.cap_ms), "sleep {i} = {s}");
    }
    // Jittered: another random source gives another schedule.
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(vec![]));
    t.respond(500, "")
        .respond(500, "")
        .respond(500, "")
        .respond(500, "");
    let mut other = Harness::new(t);
    other.random = sync_core::engine::SeededRandom::new(7);
    other.pull().unwrap();
    assert_ne!(other.clock.sleeps(), sleeps);
}

#[test]
fn retries_are_bounded_then_a_typed_retryable_error() {
    type Script = Box<dyn Fn(&sync_core::engine::ScriptedTransport)>;
    let cases: Vec<(Script, &str)> = vec![
        (
            Box::new(|t| {
                t.respond(502, "bad gateway");
            }),
            "server_error",
        ),
        (
            Box::new(|t| {
                t.fail(TransportError::Network("down".into()));
            }),
            "offline",
        ),
        (
            Box::new(|t| {
                t.respond(200, &br#"{"items":[{"kind":"Widget""#[..]);
            }),
            "bad_response",
        ),
        (
            Box::new(|t| {
                t.rate_limit("1");
            }),
            "rate_limited",
        ),
    ];
    for (script, code) in cases {
        let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
        for _ in 0..10 {
            script(&t);
        }
        let mut h = Harness::new(t);
        h.config.max_attempts = 3;
        let e = h.pull().unwrap_err();
        assert_eq!((e.code(), e.retryable()), (code, true), "{e}");
        assert_eq!(h.transport.requests().len(), 3, "{code}");
        assert_eq!(h.clock.sleeps().len(), 2, "{code}");
        assert_eq!(h.store.contents(), Default::default(), "{code}");
    }
}

#[test]
fn bad_bodies_apply_nothing_and_leave_the_cursor() {
    let bad_bodies: Vec<Vec<u8>> = vec![
        br#"{"items":[{"kind":"Dashboard","op":"upsert","row":{"id":"dsh_9","name_i18n":{}},"ver"#.to_vec(),
        b"<html>proxy error</html>".to_vec(),
        br#"{"items":[{"kind":"Dashboard","op":"upsert","row":{"id":"dsh_9","name_i18n":{}},"version":9},{"kind":"Hotel","op":"upsert","row":{"id":"h"},"version":1}],"nextCursor":"x","drained":true}"#.to_vec(),
        br#"{"items":[{"kind":"Dashboard","op":"upsert","row":{"id":"dsh_9","name_i18n":{}},"version":9},{"kind":"Widget","op":"merge","row":{}}],"nextCursor":"x","drained":true}"#.to_vec(),
        br#"{"items":[{"kind":"Dashboard","op":"upsert","row":{"id":"dsh_9","name_i18n":{}},"version":"9"}],"nextCursor":"x","drained":true}"#.to_vec(),
        br#"{"items":[],"nextCursor":7,"drained":true}"#.to_vec(),
    ];
    for bad in bad_bodies {
        let mut h = Harness::with_log(seeded_items());
        h.pull().unwrap();
        let before = h.store.contents();
        let t = sync_core::engine::ScriptedTransport::new();
        t.respond(200, bad.clone()).respond(200, bad.clone());
        h.transport = t;
        h.config.max_attempts = 2;
        let e = h.pull().unwrap_err();
        assert_eq!(
            e.code(),
            "bad_response",
            "{}",
            String::from_utf8_lossy(&bad)
        );
        assert_eq!(h.store.contents(), before);
        assert_eq!(h.cursor().as_deref(), Some("log.5"));
    }
}

#[test]
fn bad_request_is_not_retried() {
    let t = sync_core::engine::ScriptedTransport::new();
    t.respond(400, r#"{"error":"bad_identity"}"#);
    let mut h = Harness::new(t);
    let e = h.pull().unwrap_err();
    assert_eq!(
        e,
        sync_core::engine::PullError::BadRequest {
            status: 400,
            error: "bad_identity".into()
        }
    );
    assert!(!e.retryable());
    assert_eq!(h.transport.requests().len(), 1);

    let mut h = Harness::with_log(vec![]);
    h.config = PullConfig {
        page_size: 2001,
        ..PullConfig::new(USER)
    };
    assert_eq!(h.pull().unwrap_err().code(), "bad_request");
    assert!(h.transport.requests().is_empty());
}

#[test]
fn quota_exceeded_surfaces_with_nothing_written() {
    let mut h = Harness::with_log(seeded_items());
    h.store.fail_next_commit(StoreError::QuotaExceeded);
    let e = h.pull().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("quota_exceeded", false));
    assert_eq!(h.store.contents(), Default::default());
    assert_eq!(h.transport.requests().len(), 1);
    // Once space is freed, the same pull succeeds.
    assert!(h.pull().unwrap().drained);
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
    });
    let report = h.pull().unwrap();
    assert!(report.drained);
    assert_eq!(report.pages, 2);
    let clean = {
        let mut c = Harness::with_log(seeded_items());
        c.pull().unwrap();
        c.store.contents()
    };
    assert_eq!(h.store.contents(), clean);
    assert_eq!(
        h.paths(),
        vec![
            "/internal/sync/pull?pageSize=2",
            "/internal/sync/pull?pageSize=2&cursor=log.2",
            "/internal/sync/pull?pageSize=2&cursor=log.4",
        ]
    );
}

#[test]
fn responses_the_contract_does_not_know_are_retried_as_bad_responses() {
    let t = sync_core::engine::ScriptedTransport::with_log(ServerLog::new(seeded_items()));
    t.push(Ok(HttpResponse {
        status: 302,
        retry_after: None,
        body: vec![],
    }));
    t.respond(204, "");
    let mut h = Harness::new(t);
    let report = h.pull().unwrap();
    assert_eq!(report.retries, 2);
    assert!(report.drained);
}
