//! What each per-op result does (PROTOCOL §4, §9.4): ok, 409 → conflict, 422 and 404 → dead
//! letters that never block the ops behind them, a transient status → the op waits under a
//! new opId; a results list that is not one result per op → `push_rejected`; and
//! conflicts made by server-side renames, settled both ways.

use crate::support::push::*;
use serde_json::json;
use sync_core::engine::{ConflictSource, OutboxStore, Requeue, Resolution};
use sync_core::protocol::Kind;

#[test]
fn every_result_outcome_in_one_batch() {
    let mut h = PushHarness::scripted(5);
    let ops: Vec<_> = (0..5)
        .map(|i| h.rename(&query_id(i), &format!("N{i}")).unwrap())
        .collect();
    let id = |i: usize| ops[i].op_id.clone();
    h.transport.respond(
        200,
        results_body(json!([
            {"opId": id(0), "id": "qry_000", "ok": true, "version": 2},
            {"opId": id(1), "id": "qry_001", "ok": false, "status": 409, "error": "version_conflict",
             "current": {"version": 3, "name_i18n": {"default": "Server"}}},
            {"opId": id(2), "id": "qry_002", "ok": false, "status": 422, "error": "field_not_editable"},
            {"opId": id(3), "id": "qry_003", "ok": false, "status": 404, "error": "not_found"},
            {"opId": id(4), "id": "qry_004", "ok": false, "status": 503, "error": "busy"},
        ])),
    );
    let report = h.push().unwrap();
    assert_eq!(
        (
            report.batches,
            report.ops_applied,
            report.conflicts,
            report.dead_letters
        ),
        (1, 1, 1, 2)
    );
    assert_eq!(report.ops_unanswered, 1);
    // The op answered 503 waits under a new opId; the loop stopped so it keeps its place.
    assert_eq!(h.push_requests().len(), 1);
    let left = h.ops();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].seq, left[0].in_flight), (ops[4].seq, false));
    assert_ne!(left[0].op_id, id(4));
    let resent = left[0].op_id.clone();
    assert!(h.outbox().in_flight.is_none());

    // ok: version and name stored, the pending overlay gone.
    assert_eq!(h.stored("qry_000"), Some((2, "N0".into())));
    assert_eq!(h.shown("qry_000"), Some((2, "N0".into(), false)));
    // 409: a conflict with the local name and the server's state.
    let conflicts = h.conflicts();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!((c.kind, c.entity_id.as_str()), (Kind::Query, "qry_001"));
    assert_eq!(c.local, json!({"name_i18n": {"default": "N1"}}));
    assert_eq!(
        c.server,
        json!({"version": 3, "name_i18n": {"default": "Server"}})
    );
    assert_eq!(c.source, ConflictSource::Op { op_id: id(1) });
    assert_eq!(report.new_conflicts, vec![c.id.clone()]);
    assert_eq!(h.shown("qry_001"), Some((1, "Q1".into(), false)));
    // 422 and 404: dead letters with status and reason.
    let dead: Vec<_> = h
        .dead_letters()
        .into_iter()
        .map(|d| (d.entity_id, d.status, d.reason))
        .collect();
    assert_eq!(
        dead,
        vec![
            ("qry_002".into(), 422, "field_not_editable".into()),
            ("qry_003".into(), 404, "not_found".into()),
        ]
    );

    // Next call: the waiting op goes out alone, under its new opId.
    h.transport.respond(
        200,
        results_body(json!([{"opId": resent, "id": "qry_004", "ok": true, "version": 2}])),
    );
    assert_eq!(h.push().unwrap().ops_applied, 1);
    assert_eq!(body_op_ids(&h.push_requests()[1]), vec![resent]);
    assert!(h.pending().is_empty());
}

#[test]
fn a_dead_letter_never_blocks_the_op_behind_it() {
    let mut h = PushHarness::scripted(2);
    let a = h.rename("qry_000", "A").unwrap();
    let b = h.rename("qry_001", "B").unwrap();
    h.transport.respond(
        200,
        results_body(json!([
            {"opId": a.op_id, "id": "qry_000", "ok": false, "status": 422, "error": "field_not_editable"},
            {"opId": b.op_id, "id": "qry_001", "ok": true, "version": 7},
        ])),
    );
    let report = h.push().unwrap();
    assert_eq!((report.dead_letters, report.ops_applied), (1, 1));
    assert_eq!(h.stored("qry_001"), Some((7, "B".into())));
    assert!(h.ops().is_empty());
}

#[test]
fn results_outside_the_contract_are_rejected_with_the_batch_kept() {
    let mut h = PushHarness::scripted(1);
    let a = h.rename("qry_000", "A").unwrap();
    let bodies = [
        json!([{"opId": a.op_id, "id": "qry_000", "ok": true}]),
        json!([{"opId": a.op_id, "id": "qry_000", "ok": false, "status": 409}]),
        json!([{"opId": "op_other", "id": "qry_000", "ok": true, "version": 2}]),
        json!([{"opId": a.op_id, "id": "qry_999", "ok": true, "version": 2}]),
        json!([]),
    ];
    for (i, b) in bodies.into_iter().enumerate() {
        h.transport.respond(200, results_body(b));
        let e = h.push().unwrap_err();
        assert_eq!((e.code(), e.retryable()), ("push_rejected", true));
        assert_eq!(
            h.push_requests().len(),
            i + 1,
            "not retried within the call"
        );
        assert!(h.outbox().in_flight.is_some());
        assert_eq!(h.stored("qry_000"), Some((1, "Q0".into())));
        assert!(h.conflicts().is_empty() && h.dead_letters().is_empty());
    }
}

#[test]
fn transient_per_op_statuses_leave_the_op_waiting() {
    let mut h = PushHarness::scripted(1);
    let a = h.rename("qry_000", "A").unwrap();
    h.transport.respond(
        200,
        results_body(json!([{"opId": a.op_id, "id": "qry_000", "ok": false, "status": 503}])),
    );
    let report = h.push().unwrap();
    assert_eq!((report.ops_unanswered, report.dead_letters), (1, 0));
    assert_eq!(h.ops().len(), 1);
    assert!(report.changed_kinds.is_empty());
}

#[test]
fn server_side_renames_become_conflicts_that_settle_both_ways() {
    let mut h = PushHarness::with_server(2);
    h.rename("qry_000", "Mine 0").unwrap();
    h.rename("qry_001", "Mine 1").unwrap();
    h.server().rename_on_server("qry_000", "Theirs 0");
    h.server().rename_on_server("qry_001", "Theirs 1");
    let report = h.push().unwrap();
    assert_eq!((report.conflicts, report.ops_applied), (2, 0));
    let conflicts = h.conflicts();
    assert_eq!(conflicts.len(), 2);
    assert_eq!(
        conflicts[0].server,
        json!({"version": 2, "name_i18n": {"default": "Theirs 0"}})
    );

    // Keep local: re-pushed on top of the server's version, and it wins.
    let kept = h.resolve(&conflicts[0].id, Resolution::KeepLocal).unwrap();
    assert!(matches!(
        kept.requeue,
        Some(Requeue::Op {
            expected_version: 2,
            ..
        })
    ));
    // Accept server: nothing re-queued; pull brings the server's name.
    let accepted = h
        .resolve(&conflicts[1].id, Resolution::AcceptServer)
        .unwrap();
    assert_eq!(accepted.requeue, None);
    assert_eq!(h.ops().len(), 1);
    assert_eq!(h.shown("qry_001"), Some((1, "Q1".into(), false)));

    let report = h.push().unwrap();
    assert_eq!((report.ops_applied, report.conflicts), (1, 0));
    h.pull().unwrap();
    assert_eq!(h.server().query("qry_000").unwrap().version, 3);
    assert_eq!(h.stored("qry_000"), Some((3, "Mine 0".into())));
    assert_eq!(h.stored("qry_001"), Some((2, "Theirs 1".into())));

    // Resolved conflicts are kept, immutable, and no longer listed.
    assert!(h.conflicts().is_empty());
    let all = block_on(h.store.all_conflicts()).unwrap();
    assert_eq!(all, vec![kept.conflict.clone(), accepted.conflict.clone()]);
    assert_eq!(
        h.resolve(&kept.conflict.id, Resolution::AcceptServer)
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(block_on(h.store.all_conflicts()).unwrap(), all);
}

#[test]
fn a_query_deleted_on_the_server_dead_letters_the_rename() {
    let mut h = PushHarness::with_server(2);
    h.rename("qry_000", "A").unwrap();
    h.rename("qry_001", "B").unwrap();
    h.server().delete_query("qry_000");
    let report = h.push().unwrap();
    assert_eq!((report.dead_letters, report.ops_applied), (1, 1));
    let dead = h.dead_letters();
    assert_eq!(
        (dead[0].status, dead[0].reason.as_str()),
        (404, "not_found")
    );
    h.pull().unwrap();
    assert_eq!(h.stored("qry_000"), None);
    // A rename of a query no longer held is refused.
    assert_eq!(h.rename("qry_000", "C").unwrap_err().code(), "not_found");
}
