//! Requeueing and dropping dead letters (API.md `requeueDeadLetter`/`dropDeadLetter`): a
//! requeued op goes to the END of the queue as a new op (new op id) re-based on the query's
//! version held now; a requeued command gets a new command id; the dead letter goes in the
//! same transaction. Unknown ids are `not_found` and write nothing.

use crate::support::push::*;
use serde_json::json;
use sync_core::engine::{drop_dead_letter, requeue_dead_letter, Pending, StoreError};

const DASHBOARDS: &str = "/api/v1/analytics/dashboards";

fn requeue(h: &PushHarness, id: &str) -> Result<Pending, sync_core::engine::EditError> {
    block_on(requeue_dead_letter(&h.store, &h.clock, &h.random, id))
}

/// A server-backed harness whose rename of `qry_000` (named "A") was refused with a 422.
fn dead_lettered_rename() -> PushHarness {
    let mut h = PushHarness::with_server(2);
    let op = h.rename("qry_000", "A").unwrap();
    h.transport.respond(
        200,
        results_body(json!([
            {"opId": op.op_id, "id": "qry_000", "ok": false, "status": 422, "error": "field_not_editable"},
        ])),
    );
    assert_eq!(h.push().unwrap().dead_letters, 1);
    h
}

#[test]
fn a_requeued_op_is_a_new_op_at_the_end_rebased_on_the_held_version() {
    let mut h = dead_lettered_rename();
    let dead = h.dead_letters();
    let old_op_id = dead[0].payload["opId"].as_str().unwrap().to_string();
    // Meanwhile the query changed on the server (version 2, pulled) and another rename queued.
    h.server().rename_on_server("qry_000", "Server");
    h.pull().unwrap();
    assert_eq!(h.stored("qry_000"), Some((2, "Server".into())));
    let other = h.rename("qry_001", "B").unwrap();
    h.clock.advance(5_000);

    let Pending::Op(op) = requeue(&h, &dead[0].id).unwrap() else {
        panic!("an op dead letter requeues as an op");
    };
    assert_ne!(op.op_id, old_op_id);
    assert!(op.op_id.starts_with("op_"));
    assert_eq!(op.entity_id, "qry_000");
    assert_eq!(op.expected_version, 2, "re-based on the version held now");
    assert_eq!(op.name_i18n["default"], "A");
    assert!(op.seq > other.seq, "at the end of the queue");
    assert_eq!(op.created_at_ms, T0 + 5_000);
    assert!(h.dead_letters().is_empty());
    let order: Vec<String> = h.ops().into_iter().map(|o| o.entity_id).collect();
    assert_eq!(order, vec!["qry_001", "qry_000"]);
    assert_eq!(h.shown("qry_000"), Some((2, "A".into(), true)));

    let report = h.push().unwrap();
    assert_eq!((report.ops_applied, report.dead_letters), (2, 0));
    assert_eq!(h.server().query("qry_000").unwrap().version, 3);
    assert!(h.ops().is_empty());
}

#[test]
fn a_requeued_command_gets_a_new_id_at_the_end_of_the_commands() {
    let mut h = PushHarness::with_server(1);
    let refused = h
        .command(
            "PUT",
            &format!("{DASHBOARDS}/dsh_7"),
            json!({"name_i18n": {"default": "X"}}),
            Some("1"),
        )
        .unwrap();
    assert_eq!(h.push().unwrap().dead_letters, 1);
    let dead = h.dead_letters();
    assert_eq!((dead[0].source.as_str(), dead[0].status), ("command", 404));
    // The dashboard exists now; another command was queued meanwhile.
    h.server().add_dashboard("dsh_7", "Seven");
    let later = h
        .command(
            "POST",
            DASHBOARDS,
            json!({"name_i18n": {"default": "New"}}),
            None,
        )
        .unwrap();

    let Pending::Command(command) = requeue(&h, &dead[0].id).unwrap() else {
        panic!("a command dead letter requeues as a command");
    };
    assert_ne!(command.command_id, refused.command_id);
    assert!(command.command_id.starts_with("cmd_"));
    assert_eq!(
        (
            command.path.as_str(),
            command.if_match.as_deref(),
            command.body.clone()
        ),
        (refused.path.as_str(), Some("1"), refused.body.clone())
    );
    assert!(command.seq > later.seq, "at the end of the queue");
    assert!(h.dead_letters().is_empty());

    let report = h.push().unwrap();
    assert_eq!((report.commands_done, report.dead_letters), (2, 0));
    assert!(h.pending().is_empty());
}

#[test]
fn drop_removes_the_dead_letter_and_queues_nothing() {
    let h = dead_lettered_rename();
    let dead = h.dead_letters();
    let dropped = block_on(drop_dead_letter(&h.store, &dead[0].id)).unwrap();
    assert_eq!(dropped, dead[0]);
    assert!(h.dead_letters().is_empty());
    assert!(h.pending().is_empty());
    // Gone for good: a second drop or a requeue of it is not_found.
    let again = block_on(drop_dead_letter(&h.store, &dead[0].id)).unwrap_err();
    assert_eq!((again.code(), again.retryable()), ("not_found", false));
    assert_eq!(requeue(&h, &dead[0].id).unwrap_err().code(), "not_found");
}

#[test]
fn unknown_ids_are_not_found_and_write_nothing() {
    let h = dead_lettered_rename();
    let before = (h.outbox(), h.store.contents());
    assert_eq!(requeue(&h, "dlt_nope").unwrap_err().code(), "not_found");
    assert_eq!(
        block_on(drop_dead_letter(&h.store, "dlt_nope"))
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!((h.outbox(), h.store.contents()), before);
}

#[test]
fn an_op_of_a_query_no_longer_held_is_not_requeued() {
    let h = dead_lettered_rename();
    h.server().delete_query("qry_000");
    h.pull().unwrap();
    assert_eq!(h.stored("qry_000"), None);
    let before = h.outbox();
    let dead = h.dead_letters();
    let e = requeue(&h, &dead[0].id).unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert!(e.to_string().contains("qry_000"), "{e}");
    assert_eq!(
        h.outbox(),
        before,
        "the dead letter is kept, nothing queued"
    );
}

#[test]
fn a_failed_write_changes_nothing() {
    let h = dead_lettered_rename();
    let before = h.outbox();
    let id = h.dead_letters()[0].id.clone();
    h.store.fail_next_outbox_write(StoreError::QuotaExceeded);
    assert_eq!(requeue(&h, &id).unwrap_err().code(), "quota_exceeded");
    h.store.fail_next_outbox_write(StoreError::QuotaExceeded);
    assert_eq!(
        block_on(drop_dead_letter(&h.store, &id))
            .unwrap_err()
            .code(),
        "quota_exceeded"
    );
    assert_eq!(h.outbox(), before);
}
