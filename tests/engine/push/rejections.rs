//! PROTOCOL §9.3–§9.4: whole-request push answers the contract does not name (a proxy's error
//! page, a 405, a body that is not a results list of the batch) never dead-letter the user's
//! edits; `too_many_ops` and 413 halve the batch; an op, once sent, never changes, and an op
//! answered with a transient per-op status is resent under a new opId.

use crate::support::push::*;
use serde_json::json;
use sync_core::engine::PushError;

const PROXY_PAGE: &str = "<html><body><h1>404 Not Found</h1>nginx</body></html>";

fn renamed(n: usize) -> PushHarness {
    let h = PushHarness::with_server(n);
    for i in 0..n {
        h.rename(&query_id(i), &format!("N{i}")).unwrap();
    }
    h
}

fn rejected_status(e: &PushError) -> Option<u16> {
    match e {
        PushError::Rejected { status, .. } => Some(*status),
        _ => None,
    }
}

#[test]
fn unexpected_whole_request_answers_keep_every_op_queued_in_order() {
    let answers: [(u16, &[u8]); 6] = [
        (404, PROXY_PAGE.as_bytes()),
        (405, b"Method Not Allowed"),
        (415, b""),
        (400, br#"{"error":"bad_json"}"#),
        (418, br#"{"error":"teapot"}"#),
        (413, b"<html>too large</html>"), // 413 of a single op cannot be split further
    ];
    for (status, body) in answers {
        let mut h = renamed(if status == 413 { 1 } else { 3 });
        let before = h.ops();
        h.transport.respond(status, body);
        let e = h.push().unwrap_err();
        assert_eq!(e.code(), "push_rejected", "{status}: {e}");
        assert!(e.retryable(), "{status}");
        assert_eq!(rejected_status(&e), Some(status));
        assert!(h.dead_letters().is_empty(), "{status}");
        assert_eq!(
            h.push_requests().len(),
            1,
            "{status}: not retried in the same call"
        );
        let after = h.ops();
        assert_eq!(after.len(), before.len(), "{status}");
        for (a, b) in after.iter().zip(&before) {
            assert_eq!(
                (a.seq, &a.op_id, &a.name_i18n),
                (b.seq, &b.op_id, &b.name_i18n)
            );
        }
        // The next call (the proxy is fixed) applies every op exactly once.
        let report = h.push().unwrap();
        assert_eq!(report.ops_applied as usize, before.len(), "{status}");
        assert!(h.ops().is_empty());
        for op in &before {
            assert_eq!(h.server().applications()[&op.op_id], 1);
        }
    }
}

#[test]
fn a_2xx_that_is_not_a_results_list_of_the_batch_is_rejected_not_retried() {
    // JSON that is not this batch's results. (A body that is not JSON at all, e.g. a captive
    // portal's page, is retried like a truncated body: engine/push/batch_loop.rs.)
    let bodies = [
        json!({"results": []}).to_string(),
        json!({"results": "none"}).to_string(),
        json!({"ok": true}).to_string(),
    ];
    for body in bodies {
        let mut h = renamed(2);
        h.transport.respond(200, body.clone());
        let e = h.push().unwrap_err();
        assert_eq!(rejected_status(&e), Some(200), "{body}");
        assert!(h.dead_letters().is_empty());
        assert_eq!(h.ops().len(), 2);
        assert_eq!(h.push().unwrap().ops_applied, 2, "{body}");
    }
    // One result of two: the other op's fate is unknown, so the answer is refused whole.
    let mut h = renamed(2);
    let first = h.ops()[0].clone();
    h.transport.respond(
        200,
        results_body(
            json!([{"opId": first.op_id, "id": first.entity_id, "ok": true, "version": 2}]),
        ),
    );
    assert_eq!(rejected_status(&h.push().unwrap_err()), Some(200));
    assert_eq!(h.ops().len(), 2);
}

#[test]
fn too_many_ops_and_413_halve_the_batch_until_it_fits() {
    for (status, body) in [
        (400, r#"{"error":"too_many_ops"}"#),
        (413, "<html>Request Entity Too Large</html>"),
    ] {
        let mut h = renamed(4);
        h.transport.respond(status, body).respond(status, body);
        let report = h.push().unwrap();
        assert_eq!(report.ops_applied, 4, "{status}");
        assert!(h.dead_letters().is_empty());
        let sizes: Vec<usize> = h
            .push_requests()
            .iter()
            .map(|r| body_op_ids(r).len())
            .collect();
        // 4 refused, 2 refused, then batches of 1.
        assert_eq!(sizes, vec![4, 2, 1, 1, 1, 1], "{status}");
    }
}

#[test]
fn an_op_once_sent_is_never_coalesced_into() {
    let mut h = PushHarness::with_server(1);
    let first = h.rename(&query_id(0), "A").unwrap();
    // The server answers the op with a transient status: it was sent, not applied, and it
    // is no longer in flight.
    h.transport.respond(
        200,
        results_body(json!([
            {"opId": first.op_id, "id": first.entity_id, "ok": false, "status": 503, "error": "busy"}
        ])),
    );
    h.push().unwrap();
    assert!(h.outbox().in_flight.is_none());
    let sent = h.ops()[0].clone();
    let second = h.rename(&query_id(0), "B").unwrap();
    assert_ne!(second.op_id, sent.op_id, "a sent op is immutable");
    let ops = h.ops();
    assert_eq!(ops.len(), 2);
    assert_eq!(
        (ops[0].op_id.as_str(), &ops[0].name_i18n["default"]),
        (sent.op_id.as_str(), &json!("A"))
    );
    // Never-sent ops still coalesce.
    let third = h.rename(&query_id(0), "C").unwrap();
    assert_eq!(third.op_id, second.op_id);
    h.push().unwrap();
    // "A" applies, then "C" conflicts with the version "A" made (the user resolves it).
    assert_eq!(h.server().applications()[&sent.op_id], 1);
    assert!(h.dead_letters().is_empty());
}

#[test]
fn a_transient_per_op_result_is_resent_under_a_new_op_id() {
    let mut h = renamed(2);
    let ops = h.ops();
    h.transport.respond(
        200,
        results_body(json!([
            {"opId": ops[0].op_id, "id": ops[0].entity_id, "ok": false, "status": 503, "error": "busy"},
            {"opId": ops[1].op_id, "id": ops[1].entity_id, "ok": false, "status": 429, "error": "slow_down"},
        ])),
    );
    let report = h.push().unwrap();
    assert_eq!(report.ops_applied, 0);
    let waiting = h.ops();
    assert_eq!(waiting.len(), 2);
    for (w, o) in waiting.iter().zip(&ops) {
        assert_eq!(w.seq, o.seq, "keeps its place in the queue");
        assert_ne!(w.op_id, o.op_id, "a new opId");
        assert_eq!(w.name_i18n, o.name_i18n, "the same edit");
    }
    let report = h.push().unwrap();
    assert_eq!(report.ops_applied, 2);
    let keys: Vec<String> = h
        .push_requests()
        .iter()
        .map(|r| header(r, "Idempotency-Key").unwrap().to_string())
        .collect();
    assert_ne!(keys[0], keys[1], "a new batch key");
    assert!(h.dead_letters().is_empty());
}
