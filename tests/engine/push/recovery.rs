//! Crash safety of the push path: a batch stored in flight when the page died is re-sent
//! first, byte-identical, and the server applies it once; a lost response is answered from
//! the server's idempotency store; the outbox survives pull's cold start (410) and the
//! wipe of a 403, which only pauses pushing.

use crate::support::push::*;
use serde_json::json;
use sync_core::engine::PushError;

#[test]
fn an_in_flight_batch_of_a_page_that_died_is_resent_first_and_applied_once() {
    let mut h = PushHarness::with_server(2);
    let a = h.rename("qry_000", "A").unwrap();
    // The server applies the batch, but the page dies before the answer arrives.
    assert!(h.push_and_crash());
    assert_eq!(h.server().applications()[&a.op_id], 1);
    let stored = h.outbox().in_flight.unwrap();
    // On the next start, more edits were made meanwhile.
    let b = h.rename("qry_000", "B").unwrap();
    let c = h.rename("qry_001", "C").unwrap();
    assert_ne!(b.op_id, a.op_id);

    let report = h.push().unwrap();
    assert!(report.resent_in_flight);
    let requests = h.push_requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[1], requests[0], "re-sent byte-identical, same key");
    assert_eq!(requests[1].body.as_deref(), Some(stored.body.as_str()));
    assert_eq!(
        body_op_ids(&requests[2]),
        vec![b.op_id.clone(), c.op_id.clone()]
    );
    assert_eq!(
        (report.batches, report.ops_applied, report.conflicts),
        (2, 3, 0)
    );
    for (op, times) in h.server().applications() {
        assert_eq!(times, 1, "{op} applied once");
    }
    // B was made on version 1 while A was in flight; it was rebased on A's version.
    assert_eq!(h.stored("qry_000"), Some((3, "B".into())));
    assert_eq!(h.server().query("qry_000").unwrap().version, 3);
}

#[test]
fn a_batch_stored_before_the_request_left_is_sent_on_the_next_start() {
    let mut h = PushHarness::with_server(1);
    let a = h.rename("qry_000", "A").unwrap();
    // The page dies after storing the batch but before the request reached the server.
    h.server().inject(sync_core::engine::Fault::Network);
    assert!(h.push_and_crash());
    assert!(h.server().applications().is_empty());
    assert!(h.outbox().in_flight.is_some());
    let report = h.push().unwrap();
    assert!(report.resent_in_flight);
    assert_eq!(h.server().applications()[&a.op_id], 1);
}

#[test]
fn a_lost_response_is_replayed_from_the_servers_idempotency_store() {
    let mut h = PushHarness::with_server(1);
    let a = h.rename("qry_000", "A").unwrap();
    h.server().inject(sync_core::engine::Fault::LoseResponse);
    let report = h.push().unwrap();
    assert_eq!((report.retries, report.ops_applied), (1, 1));
    assert_eq!(h.server().applications()[&a.op_id], 1);
    let requests = h.push_requests();
    assert_eq!(requests[0], requests[1]);
}

#[test]
fn the_outbox_survives_a_cold_start_and_a_forbidden_wipe() {
    let mut h = PushHarness::with_server(2);
    h.rename("qry_000", "A").unwrap();
    h.command(
        "POST",
        "/api/v1/analytics/dashboards",
        json!({"name_i18n": {"default": "D"}}),
        None,
    )
    .unwrap();
    let before = h.outbox();

    // 410: every replicated row and the cursor dropped, cold start refills them.
    h.transport.respond(410, r#"{"error":"cursor_invalid"}"#);
    let pulled = h.pull().unwrap();
    assert_eq!(pulled.cold_restarts, 1);
    assert_eq!(h.outbox(), before);
    assert_eq!(h.shown("qry_000"), Some((1, "A".into(), true)));

    // 403: rows of every kind wiped, pushing paused, the outbox kept.
    h.transport.respond(403, r#"{"error":"forbidden"}"#);
    assert_eq!(h.pull().unwrap_err().code(), "forbidden");
    assert!(h.store.contents().rows.is_empty());
    assert_eq!(h.outbox(), before);
    assert_eq!(h.push().unwrap_err(), PushError::Forbidden);
    assert_eq!(h.outbox(), before);

    // Access back: pull refills, push sends the kept edits.
    h.pull().unwrap();
    let report = h.push().unwrap();
    assert_eq!((report.ops_applied, report.commands_done), (1, 1));
    assert!(h.pending().is_empty());
}
