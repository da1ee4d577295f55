//! The push loop against the fake server and scripted failures: batches and their keys,
//! byte-identical retries, every whole-request outcome (401, 403, 429, 5xx, network,
//! unreadable bodies, 400 too_many_ops (split), bad_identity), and `sync`. Crash safety is in
//! `engine/push/recovery.rs`.

use crate::support::push::*;
use sync_core::engine::{HttpResponse, PushError, StoreError, TransportError};
use sync_core::protocol::push::idempotency_key;
use sync_core::protocol::Kind;

#[test]
fn sixty_renames_go_out_as_fifty_then_ten_with_sha256_keys() {
    let mut h = PushHarness::with_server(60);
    let mut op_ids = Vec::new();
    for i in 0..60 {
        op_ids.push(
            h.rename(&query_id(i), &format!("Renamed {i}"))
                .unwrap()
                .op_id,
        );
    }
    let report = h.push().unwrap();
    assert_eq!((report.batches, report.ops_applied), (2, 60));
    assert_eq!(
        (report.conflicts, report.dead_letters, report.retries),
        (0, 0, 0)
    );
    assert!(!report.resent_in_flight);
    assert!(report.changed_kinds.contains(&Kind::Query));
    let requests = h.push_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(body_op_ids(&requests[0]), op_ids[..50].to_vec());
    assert_eq!(body_op_ids(&requests[1]), op_ids[50..].to_vec());
    for (request, ids) in requests.iter().zip([&op_ids[..50], &op_ids[50..]]) {
        assert_eq!(request.method, sync_core::engine::Method::Post);
        assert_eq!(
            header(request, "Idempotency-Key"),
            Some(idempotency_key(ids.iter().map(String::as_str)).as_str())
        );
    }
    let batches: Vec<u64> = h.progress.iter().map(|p| p.batches).collect();
    assert_eq!(batches, vec![1, 2]);
    assert!(h.ops().is_empty());
    assert!(h.outbox().in_flight.is_none());
    for i in [0, 49, 50, 59] {
        assert_eq!(h.stored(&query_id(i)), Some((2, format!("Renamed {i}"))));
        assert_eq!(h.server().query(&query_id(i)).unwrap().version, 2);
    }
    // Pull then brings our own versions back: nothing newer, nothing rewritten.
    let pulled = h.pull().unwrap();
    assert_eq!(pulled.applied.get(&Kind::Query), None);
    assert_eq!(pulled.duplicates_skipped, 60);
    // Nothing left: a second push sends nothing.
    let again = h.push().unwrap();
    assert_eq!(again.batches, 0);
    assert_eq!(h.push_requests().len(), 2);
}

#[test]
fn a_smaller_batch_size_is_honoured() {
    let mut h = PushHarness::with_server(5);
    for i in 0..5 {
        h.rename(&query_id(i), "N").unwrap();
    }
    h.config.batch_size = 2;
    assert_eq!(h.push().unwrap().batches, 3);
    let sizes: Vec<usize> = h
        .push_requests()
        .iter()
        .map(|r| body_op_ids(r).len())
        .collect();
    assert_eq!(sizes, vec![2, 2, 1]);
}

#[test]
fn retries_are_byte_identical_and_back_off() {
    let mut h = PushHarness::with_server(2);
    h.rename("qry_000", "A").unwrap();
    h.rename("qry_001", "B").unwrap();
    h.transport.respond(503, "{}");
    h.transport.fail(TransportError::Timeout);
    h.transport.respond(502, "bad gateway");
    let report = h.push().unwrap();
    assert_eq!((report.retries, report.ops_applied), (3, 2));
    let requests = h.push_requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests.windows(2).all(|w| w[0] == w[1]),
        "same body, same key"
    );
    assert_eq!(h.clock.sleeps().len(), 3);
    // Full jitter below min(cap, base·2^n).
    for (n, sleep) in h.clock.sleeps().iter().enumerate() {
        assert!(*sleep < 500 << n, "{sleep}");
    }
}

#[test]
fn server_errors_and_network_failures_are_bounded_and_keep_the_batch() {
    let mut h = PushHarness::with_server(1);
    h.config.retry.max_attempts = 3;
    h.rename("qry_000", "A").unwrap();
    for _ in 0..3 {
        h.transport.respond(500, "{}");
    }
    let e = h.push().unwrap_err();
    assert_eq!(
        e,
        PushError::ServerError {
            status: 500,
            attempts: 3
        }
    );
    assert!(e.retryable());
    let stored = h.outbox().in_flight.expect("the batch stays stored");
    assert!(h.ops()[0].in_flight);
    // A rename now does not touch the in-flight op: it becomes a second op.
    h.rename("qry_000", "B").unwrap();
    assert_eq!(h.ops().len(), 2);

    for _ in 0..3 {
        h.transport.fail(TransportError::Network("offline".into()));
    }
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("offline", true));
    assert_eq!(h.outbox().in_flight.as_ref(), Some(&stored));
    let sent = h.push_requests();
    assert_eq!(sent.len(), 6);
    assert!(sent
        .iter()
        .all(|r| r.body.as_deref() == Some(stored.body.as_str())));

    // Back online: the stored batch goes first, then the second op, rebased on it.
    let report = h.push().unwrap();
    assert!(report.resent_in_flight);
    assert_eq!(
        (report.batches, report.ops_applied, report.conflicts),
        (2, 2, 0)
    );
    assert_eq!(
        h.push_requests()[6].body.as_deref(),
        Some(stored.body.as_str())
    );
    assert_eq!(h.stored("qry_000"), Some((3, "B".into())));
    assert_eq!(h.server().query("qry_000").unwrap().version, 3);
}

#[test]
fn unauthorized_is_retried_once_then_surfaced_with_the_batch_kept() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.transport.respond(401, r#"{"error":"unauthorized"}"#);
    let report = h.push().unwrap();
    assert_eq!((report.retries, report.ops_applied), (1, 1));

    h.rename("qry_000", "B").unwrap();
    h.transport.respond(401, "{}");
    h.transport.respond(401, "{}");
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("unauthorized", false));
    assert!(h.outbox().in_flight.is_some());
    h.transport
        .fail(TransportError::Token("host refused".into()));
    assert_eq!(h.push().unwrap_err().code(), "unauthorized");
    assert!(h.outbox().in_flight.is_some());
    assert_eq!(h.push().unwrap().ops_applied, 1);
}

#[test]
fn forbidden_pauses_pushing_and_keeps_everything() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.transport.respond(403, r#"{"error":"forbidden"}"#);
    assert_eq!(h.push().unwrap_err(), PushError::Forbidden);
    assert!(h.store.contents().meta.access_revoked);
    let kept = h.outbox();
    assert!(kept.in_flight.is_some());
    // Paused: nothing is sent while access is revoked.
    let sent = h.transport.requests().len();
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("forbidden", false));
    assert_eq!(h.transport.requests().len(), sent);
    assert_eq!(h.outbox(), kept);
    // A successful pull clears the flag; the kept batch then goes out as it was.
    h.pull().unwrap();
    assert!(!h.store.contents().meta.access_revoked);
    let report = h.push().unwrap();
    assert!(report.resent_in_flight);
    assert_eq!(report.ops_applied, 1);
}

#[test]
fn rate_limits_wait_retry_after() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.transport.rate_limit("7");
    let report = h.push().unwrap();
    assert_eq!(h.clock.sleeps(), vec![7_000]);
    assert_eq!((report.retries, report.ops_applied), (1, 1));

    h.rename("qry_000", "B").unwrap();
    h.transport.rate_limit("3600");
    let e = h.push().unwrap_err();
    assert_eq!(
        e,
        PushError::RateLimited {
            retry_after_ms: 3_600_000
        }
    );
    assert!(e.retryable());
    assert!(h.outbox().in_flight.is_some());
    assert_eq!(h.push().unwrap().ops_applied, 1);
}

#[test]
fn malformed_bodies_are_retried_and_a_truncated_answer_applies_once() {
    let mut h = PushHarness::with_server(1);
    h.config.retry.max_attempts = 2;
    let op = h.rename("qry_000", "A").unwrap();
    h.transport.respond(200, "{\"results\": [");
    h.transport.respond(200, "not json");
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("bad_response", true));
    assert!(h.outbox().in_flight.is_some());
    assert!(h.server().applications().is_empty());

    // The server applies, but the body arrives cut: the retry gets the stored answer.
    h.server()
        .inject(sync_core::engine::Fault::TruncateResponse);
    let report = h.push().unwrap();
    assert_eq!((report.retries, report.ops_applied), (1, 1));
    assert_eq!(h.server().applications()[&op.op_id], 1);
    assert_eq!(h.stored("qry_000"), Some((2, "A".into())));
}

#[test]
fn too_many_ops_splits_the_batch_and_never_dead_letters_its_ops() {
    // This test used to assert that a whole-request `400 too_many_ops` sent every op of the
    // batch to the dead letters; PROTOCOL §9.3 halves the batch instead.
    let mut h = PushHarness::with_server(3);
    h.config.batch_size = 2;
    for i in 0..3 {
        h.rename(&query_id(i), "N").unwrap();
    }
    h.transport.respond(400, r#"{"error":"too_many_ops"}"#);
    let report = h.push().unwrap();
    assert_eq!(
        (report.dead_letters, report.ops_applied, report.batches),
        (0, 3, 3)
    );
    assert!(h.dead_letters().is_empty());
    let sizes: Vec<usize> = h
        .push_requests()
        .iter()
        .map(|r| body_op_ids(r).len())
        .collect();
    assert_eq!(sizes, vec![2, 1, 1, 1]);
    assert!(h.outbox().in_flight.is_none());
    for i in 0..3 {
        assert_eq!(h.stored(&query_id(i)), Some((2, "N".into())));
    }
}

#[test]
fn bad_identity_is_a_programming_error_that_keeps_the_batch() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "N").unwrap();
    h.transport.respond(400, r#"{"error":"bad_identity"}"#);
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("bad_request", false));
    assert!(h.dead_letters().is_empty());
    assert!(h.outbox().in_flight.is_some());
}

#[test]
fn a_storage_failure_while_starting_a_batch_sends_nothing() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    let before = h.outbox();
    h.store.fail_next_outbox_write(StoreError::QuotaExceeded);
    let e = h.push().unwrap_err();
    assert_eq!(e.code(), "quota_exceeded");
    assert!(h
        .transport
        .requests()
        .iter()
        .all(|r| r.path_and_query != "/internal/sync/push"));
    assert_eq!(h.outbox(), before);
    assert_eq!(h.push().unwrap().ops_applied, 1);
}

#[test]
fn unexpected_statuses_are_retried_as_unreadable() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.transport.push(Ok(HttpResponse {
        status: 304,
        retry_after: None,
        body: Vec::new(),
    }));
    let report = h.push().unwrap();
    assert_eq!((report.retries, report.ops_applied), (1, 1));
}

#[test]
fn sync_pushes_then_pulls() {
    let h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.server().rename_on_server("qry_000", "S");
    h.server().add_query("qry_new", USER, "New");
    let report = sync(&h).unwrap();
    let pushed = report.push.unwrap();
    assert_eq!(pushed.conflicts, 1);
    assert!(report.pull.drained);
    assert_eq!(h.stored("qry_000"), Some((2, "S".into())));
    assert_eq!(h.stored("qry_new"), Some((1, "New".into())));
    let js = serde_json::to_value(&pushed).unwrap();
    assert_eq!(js["conflicts"], 1);
    assert_eq!(js["newConflicts"].as_array().unwrap().len(), 1);
    assert_eq!(js["resentInFlight"], false);
}

fn sync(h: &PushHarness) -> Result<sync_core::engine::SyncReport, sync_core::engine::SyncError> {
    futures::executor::block_on(sync_core::engine::sync(
        &h.store,
        &h.transport,
        &h.clock,
        &h.random,
        &h.config,
        &h.pull_config,
    ))
}

/// A push that failed retryably (offline, 5xx, 429) does not keep the device from pulling:
/// `sync` resolves with `push: null` and says why in `pushError`, the edit stays queued.
#[test]
fn sync_pulls_after_a_retryable_push_failure_and_reports_it() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.server().add_query("qry_new", USER, "New");
    h.config.retry.max_attempts = 1;
    h.transport.respond(503, "down");
    let report = sync(&h).unwrap();
    assert!(report.push.is_none());
    assert!(report.pull.drained);
    assert_eq!(h.stored("qry_new"), Some((1, "New".into())));
    assert_eq!(h.outbox().ops.len(), 1);
    let js = serde_json::to_value(&report).unwrap();
    assert_eq!(js["push"], serde_json::Value::Null);
    assert_eq!(js["pushError"]["code"], "server_error");
    assert_eq!(js["pushError"]["retryable"], true);
    assert_eq!(js["pushError"]["status"], 503);
    assert!(js["pushError"].get("retryAfterMs").is_none());
}

/// When the pull fails too, the pull's error is returned and still carries the push's.
#[test]
fn sync_returns_the_pull_error_with_the_push_failure() {
    let mut h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.config.retry.max_attempts = 1;
    h.pull_config.retry.max_attempts = 1;
    h.transport
        .respond(503, "down")
        .respond(400, "{\"error\":\"bad_request\"}");
    match sync(&h).unwrap_err() {
        sync_core::engine::SyncError::Pull { error, push_error } => {
            assert_eq!(error.code(), "bad_request");
            assert_eq!(push_error.unwrap().code, "server_error");
        }
        other => panic!("expected the pull's error, got {other:?}"),
    }
}

/// A push refused for good is the call's error; nothing is pulled.
#[test]
fn sync_stops_at_a_final_push_failure() {
    let h = PushHarness::with_server(1);
    h.rename("qry_000", "A").unwrap();
    h.transport.respond(401, "").respond(401, "");
    let before = h.transport.requests().len();
    let e = sync(&h).unwrap_err();
    assert!(matches!(e, sync_core::engine::SyncError::Push(_)), "{e:?}");
    assert_eq!((e.code(), e.retryable()), ("unauthorized", false));
    assert_eq!(h.transport.requests().len(), before + 2);
}
