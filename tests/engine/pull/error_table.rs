//! The pull loop against every row of the contract's error table (PROTOCOL §3): token,
//! rate limits, server errors and their bounded retries, bad bodies, bad requests, a full
//! disk, statuses the contract does not name.

use crate::support::*;
use sync_core::engine::{HttpResponse, PullConfig, ServerLog, StoreError, TransportError};

use super::page_loop::seeded_items;

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
    assert!(h.clock.sleeps()[0] < h.config.retry.backoff.base_ms);
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
    let b = h.config.retry.backoff;
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
        h.config.retry.max_attempts = 3;
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
        h.config.retry.max_attempts = 2;
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
