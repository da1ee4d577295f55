//! The outbox as a store (MemoryStore, held to the `OutboxStore` contract the IndexedDB
//! store also keeps) and the local-write entry points: validation, coalescing, rebasing,
//! refused writes that write nothing, and reads that show pending names.

use crate::support::push::*;
use serde_json::json;
use sync_core::engine::build_batch;
use sync_core::engine::{
    edit, ApplyPlan, DeferredCommand, EditError, Method, OpSettlement, OutboxStore, Pending,
    PushBatch, Requeue, Resolution, Store, StoreError,
};
use sync_core::protocol::Kind;

#[test]
fn several_renames_coalesce_into_one_op_with_the_latest_name() {
    let h = PushHarness::scripted(2);
    let first = h.rename("qry_000", "A").unwrap();
    h.clock.advance(1_000);
    let second = h.rename("qry_000", "B").unwrap();
    let third = h.rename("qry_000", "C").unwrap();
    assert!(first.op_id.starts_with("op_") && first.op_id.len() == 35);
    assert_eq!(second.op_id, first.op_id);
    assert_eq!(third.op_id, first.op_id);
    let ops = h.ops();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].name_i18n["default"], "C");
    assert_eq!(ops[0].expected_version, 1);
    assert_eq!(ops[0].created_at_ms, T0);
    assert_eq!(ops[0].updated_at_ms, T0 + 1_000);
    // Reads show the pending name at once; the stored row keeps the server's.
    assert_eq!(h.shown("qry_000"), Some((1, "C".into(), true)));
    assert_eq!(h.shown("qry_001"), Some((1, "Q1".into(), false)));
    assert_eq!(h.stored("qry_000"), Some((1, "Q0".into())));
    // Another query gets its own op, after the first.
    let other = h.rename("qry_001", "X").unwrap();
    assert_ne!(other.op_id, first.op_id);
    assert!(other.seq > first.seq);
}

#[test]
fn a_rename_while_in_flight_is_a_new_op_rebased_when_the_first_is_applied() {
    let h = PushHarness::scripted(1);
    let first = h.rename("qry_000", "A").unwrap();
    let batch = build_batch(&h.ops(), T0).unwrap();
    block_on(h.store.begin_batch(&batch)).unwrap();
    assert!(h.ops()[0].in_flight);
    let second = h.rename("qry_000", "B").unwrap();
    assert_ne!(
        second.op_id, first.op_id,
        "an in-flight op is never coalesced into"
    );
    assert_eq!(second.expected_version, 1);
    assert_eq!(h.shown("qry_000"), Some((1, "B".into(), true)));

    let applied = OpSettlement::Applied {
        seq: first.seq,
        query_id: "qry_000".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: first.name_i18n.clone(),
    };
    block_on(h.store.settle_batch(&batch.key, &[applied])).unwrap();
    let ops = h.ops();
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].op_id.as_str(), ops[0].expected_version),
        (second.op_id.as_str(), 2)
    );
    assert_eq!(h.stored("qry_000"), Some((2, "A".into())));
    assert!(h.outbox().in_flight.is_none());
}

#[test]
fn applied_never_moves_a_row_back_and_rebases_only_that_querys_ops_on_that_version() {
    let h = PushHarness::scripted(2);
    let first = h.rename("qry_000", "A").unwrap();
    let batch = build_batch(&h.ops(), T0).unwrap();
    block_on(h.store.begin_batch(&batch)).unwrap();
    let second = h.rename("qry_000", "B").unwrap();
    let other = h.rename("qry_001", "X").unwrap();
    // Meanwhile pull brought version 5 of the query (renamed elsewhere after ours landed).
    let plan = ApplyPlan {
        row_puts: vec![query_row("qry_000", 5, "S")],
        ..ApplyPlan::default()
    };
    block_on(h.store.commit_page(&plan, None, "c1")).unwrap();
    let applied = OpSettlement::Applied {
        seq: first.seq,
        query_id: "qry_000".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: first.name_i18n.clone(),
    };
    block_on(h.store.settle_batch(&batch.key, &[applied])).unwrap();
    assert_eq!(
        h.stored("qry_000"),
        Some((5, "S".into())),
        "never moved back"
    );
    let ops = h.ops();
    assert_eq!(ops.len(), 2);
    assert_eq!((ops[0].seq, ops[0].expected_version), (second.seq, 2));
    assert_eq!((ops[1].seq, ops[1].expected_version), (other.seq, 1));
}

#[test]
fn settle_clears_in_flight_marks_of_unsettled_ops_and_refuses_bad_input() {
    let h = PushHarness::scripted(3);
    for i in 0..3 {
        h.rename(&query_id(i), "N").unwrap();
    }
    let ops = h.ops();
    let batch = build_batch(&ops, T0).unwrap();
    block_on(h.store.begin_batch(&batch)).unwrap();
    let other = PushBatch {
        key: "other".into(),
        ..batch.clone()
    };
    let before = h.outbox();
    assert!(matches!(
        block_on(h.store.begin_batch(&other)),
        Err(StoreError::Aborted(_))
    ));
    assert!(block_on(h.store.settle_batch("other", &[])).is_err());
    let foreign = OpSettlement::Applied {
        seq: 999,
        query_id: "qry_000".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: ops[0].name_i18n.clone(),
    };
    assert!(block_on(h.store.settle_batch(&batch.key, &[foreign])).is_err());
    assert_eq!(h.outbox(), before, "refused writes change nothing");

    let applied = OpSettlement::Applied {
        seq: ops[1].seq,
        query_id: ops[1].entity_id.clone(),
        applied_on: 1,
        new_version: 2,
        name_i18n: ops[1].name_i18n.clone(),
    };
    block_on(h.store.settle_batch(&batch.key, &[applied])).unwrap();
    let left = h.ops();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|o| !o.in_flight));
    assert_eq!(
        left.iter().map(|o| o.seq).collect::<Vec<_>>(),
        vec![ops[0].seq, ops[2].seq]
    );
}

#[test]
fn edits_other_than_a_query_name_are_not_editable_and_write_nothing() {
    let h = PushHarness::scripted(1);
    let before = (h.store.contents(), h.outbox());
    let refused = [
        ("Dashboard", "dsh_1", json!({"name_i18n": {"default": "D"}})),
        ("Widget", "wid_1", json!({"title_i18n": {"default": "W"}})),
        ("Query", "qry_000", json!({"sql_template": "select 1"})),
        (
            "Query",
            "qry_000",
            json!({"name_i18n": {"default": "N"}, "ownerId": "usr_bob"}),
        ),
        ("Query", "qry_000", json!({})),
        ("Query", "qry_000", json!("name")),
        ("Nope", "x", json!({"name_i18n": {"default": "N"}})),
    ];
    for (kind, id, patch) in refused {
        let e = block_on(edit(&h.store, &h.clock, &h.random, kind, id, &patch)).unwrap_err();
        assert_eq!(e.code(), "not_editable", "{kind} {patch}");
        assert!(!e.retryable());
    }
    assert_eq!((h.store.contents(), h.outbox()), before);
    let op = block_on(edit(
        &h.store,
        &h.clock,
        &h.random,
        "Query",
        "qry_000",
        &json!({"name_i18n": {"default": "N"}}),
    ))
    .unwrap();
    assert_eq!(op.name_i18n["default"], "N");
}

#[test]
fn invalid_names_and_unknown_queries_write_nothing() {
    let h = PushHarness::scripted(1);
    let before = h.outbox();
    for bad in [json!({"default": ""}), json!({"default": 1}), json!(null)] {
        let e = block_on(sync_core::engine::rename_query(
            &h.store, &h.clock, &h.random, "qry_000", &bad,
        ))
        .unwrap_err();
        assert_eq!(e.code(), "invalid_name");
    }
    let e = h.rename("qry_missing", "N").unwrap_err();
    assert_eq!(
        e,
        EditError::NotFound("query qry_missing is not held locally".into())
    );
    assert_eq!(e.code(), "not_found");
    assert_eq!(h.outbox(), before);
}

#[test]
fn a_quota_error_on_rename_writes_nothing() {
    let h = PushHarness::scripted(1);
    h.rename("qry_000", "A").unwrap();
    let before = (h.store.contents(), h.outbox());
    h.store.fail_next_outbox_write(StoreError::QuotaExceeded);
    let e = h.rename("qry_000", "B").unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("quota_exceeded", false));
    assert_eq!((h.store.contents(), h.outbox()), before);
    assert_eq!(h.shown("qry_000"), Some((1, "A".into(), true)));
    h.store
        .fail_next_outbox_write(StoreError::Unavailable("connection closed".into()));
    let e = h.rename("qry_000", "B").unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("storage_unavailable", true));
    // The hook is one-shot: the next write goes through.
    h.rename("qry_000", "B").unwrap();
    assert_eq!(h.ops()[0].name_i18n["default"], "B");
}

#[test]
fn pull_wipes_never_touch_the_outbox() {
    let h = PushHarness::scripted(2);
    h.rename("qry_000", "A").unwrap();
    h.command(
        "PUT",
        "/api/v1/analytics/dashboards/dsh_1",
        json!({"x": 1}),
        Some("1"),
    )
    .unwrap();
    let batch = build_batch(&h.ops(), T0).unwrap();
    block_on(h.store.begin_batch(&batch)).unwrap();
    let before = h.outbox();
    block_on(h.store.wipe(&Kind::ALL, true)).unwrap();
    assert!(h.store.contents().rows.is_empty());
    assert_eq!(h.outbox(), before);
}

#[test]
fn conflicts_resolve_once_and_stay_immutable() {
    let h = PushHarness::scripted(1);
    let op = h.rename("qry_000", "Mine").unwrap();
    let batch = build_batch(&h.ops(), T0).unwrap();
    block_on(h.store.begin_batch(&batch)).unwrap();
    let conflict = sync_core::engine::Conflict {
        id: "cfl_1".into(),
        kind: Kind::Query,
        entity_id: "qry_000".into(),
        local: json!({"name_i18n": {"default": "Mine"}}),
        server: json!({"version": 3, "name_i18n": {"default": "Theirs"}}),
        source: sync_core::engine::ConflictSource::Op {
            op_id: op.op_id.clone(),
        },
        created_at_ms: T0,
        resolution: None,
        resolved_at_ms: None,
    };
    let settled = OpSettlement::Conflict {
        seq: op.seq,
        conflict: conflict.clone(),
    };
    block_on(h.store.settle_batch(&batch.key, &[settled])).unwrap();
    assert!(h.ops().is_empty());
    assert_eq!(h.conflicts(), vec![conflict.clone()]);
    // While the conflict is open the row shows the stored (server) name.
    assert_eq!(h.shown("qry_000"), Some((1, "Q0".into(), false)));

    h.clock.advance(5);
    let resolved = h.resolve("cfl_1", Resolution::KeepLocal).unwrap();
    assert_eq!(resolved.conflict.resolution, Some(Resolution::KeepLocal));
    assert_eq!(resolved.conflict.resolved_at_ms, Some(T0 + 5));
    let Some(Requeue::Op {
        op_id,
        expected_version,
        ..
    }) = &resolved.requeue
    else {
        panic!("keep-local re-queues the op: {:?}", resolved.requeue);
    };
    assert_ne!(op_id, &op.op_id);
    assert_eq!(*expected_version, 3);
    let ops = h.ops();
    assert_eq!((ops.len(), ops[0].expected_version), (1, 3));
    assert_eq!(ops[0].name_i18n["default"], "Mine");
    assert_eq!(h.shown("qry_000"), Some((1, "Mine".into(), true)));

    // Resolved: no longer listed, kept for audit, and cannot be resolved again.
    assert!(h.conflicts().is_empty());
    let stored = block_on(h.store.all_conflicts()).unwrap();
    assert_eq!(stored, vec![resolved.conflict.clone()]);
    let before = h.outbox();
    for resolution in [Resolution::AcceptServer, Resolution::KeepLocal] {
        let e = h.resolve("cfl_1", resolution).unwrap_err();
        assert_eq!(e.code(), "not_found");
    }
    assert_eq!(
        h.resolve("cfl_nope", Resolution::AcceptServer)
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert!(!block_on(
        h.store
            .resolve_conflict("cfl_1", Resolution::AcceptServer, T0, None)
    )
    .unwrap());
    assert_eq!(h.outbox(), before);
}

#[test]
fn pending_lists_ops_then_commands_in_order_tagged() {
    let h = PushHarness::scripted(2);
    h.command(
        "POST",
        "/api/v1/analytics/dashboards",
        json!({"name_i18n": {"default": "D"}}),
        None,
    )
    .unwrap();
    h.rename("qry_001", "B").unwrap();
    h.rename("qry_000", "A").unwrap();
    h.command(
        "PUT",
        "/api/v1/analytics/dashboards/dsh_1",
        json!({"x": 1}),
        Some("2"),
    )
    .unwrap();
    let pending = h.pending();
    let shape: Vec<String> = pending
        .iter()
        .map(|p| match p {
            Pending::Op(op) => format!("op {}", op.entity_id),
            Pending::Command(c) => format!("command {} {}", c.method.as_str(), c.path),
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            "op qry_001",
            "op qry_000",
            "command POST /api/v1/analytics/dashboards",
            "command PUT /api/v1/analytics/dashboards/dsh_1",
        ]
    );
    let js = serde_json::to_value(&pending).unwrap();
    assert_eq!(js[0]["type"], "op");
    assert_eq!(js[0]["entityId"], "qry_001");
    assert_eq!(js[0]["name_i18n"]["default"], "B");
    assert_eq!(js[3]["type"], "command");
    assert_eq!(js[3]["method"], "PUT");
    assert_eq!(js[3]["ifMatch"], "2");
    let counts = block_on(sync_core::engine::outbox_counts(&h.store)).unwrap();
    assert_eq!(
        (counts.pending, counts.conflicts, counts.dead_letters),
        (4, 0, 0)
    );
}

#[test]
fn invalid_commands_write_nothing() {
    let h = PushHarness::scripted(0);
    let before = h.outbox();
    for (method, path) in [
        ("GET", "/api/v1/analytics/dashboards"),
        ("POST", "/internal/sync/push"),
        ("PUT", "/api/v1/analytics/dashboardsX/1"),
    ] {
        let e = h.command(method, path, json!({}), None).unwrap_err();
        assert_eq!(e.code(), "bad_command");
    }
    h.store.fail_next_outbox_write(StoreError::QuotaExceeded);
    let e = h
        .command("POST", "/api/v1/analytics/dashboards", json!({}), None)
        .unwrap_err();
    assert_eq!(e.code(), "quota_exceeded");
    assert_eq!(h.outbox(), before);
    let c: DeferredCommand = h
        .command("post", "/api/v1/analytics/dashboards", json!({}), None)
        .unwrap();
    assert_eq!((c.method, c.seq), (Method::Post, 1));
    assert!(c.command_id.starts_with("cmd_") && c.command_id.len() == 36);
}
