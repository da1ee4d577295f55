//! `IdbStore` as an `OutboxStore`, without a server: the schema 2 → 3 upgrade keeps every
//! row, renames coalesce and survive a reopen, settling stores versions, rebases exactly the
//! ops it should and keeps conflicts and dead letters in recording order (not key order).
//! Refusals and atomicity are in `push_idb_refusals.rs`.

use super::idb_fixtures::{discard, dump, fresh_identity, open_fresh, seed_plan};
use super::push_idb_fixtures::{command, conflict, dead_letter, intent, query, store_with_queries};
use super::push_raw::raw_outbox;
use super::push_support::name;
use serde_json::json;
use sync_core::engine::build_batch;
use sync_core::engine::{
    ApplyPlan, CommandSettlement, ConflictSource, MemoryStore, OpSettlement, OutboxOp, OutboxStore,
    Requeue, Resolution, Store, StoreError,
};
use sync_core::protocol::Kind;
use sync_core::web::IdbStore;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn upgrading_from_schema_2_keeps_every_row_and_adds_the_outbox() {
    // 3 → 4 has its own upgrade test (idb_snapshot_reads.rs).
    let identity = fresh_identity();
    let old = IdbStore::open_at_version(&identity, 2).await.unwrap();
    old.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let before = dump(&old, &["wid_1", "wid_2"]).await;
    // Version 2 has no outbox yet.
    assert!(matches!(
        old.outbox().await,
        Err(StoreError::Unavailable(m)) if m.contains("NotFoundError")
    ));
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert_eq!(dump(&store, &["wid_1", "wid_2"]).await, before);
    let op = store
        .enqueue_rename(&intent("qry_1", "Renamed", "op_1", 7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((op.seq, op.expected_version), (1, 1));
    assert_eq!(store.outbox().await.unwrap(), vec![op]);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn renames_coalesce_and_survive_a_reopen() {
    let (identity, store) = store_with_queries().await;
    let first = store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 100))
        .await
        .unwrap()
        .unwrap();
    let second = store
        .enqueue_rename(&intent("qry_1", "B", "op_unused", 200))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.seq, second.op_id.as_str()), (first.seq, "op_1"));
    assert_eq!(second.name_i18n["default"], "B");
    assert_eq!((second.created_at_ms, second.updated_at_ms), (100, 200));
    let other = store
        .enqueue_rename(&intent("qry_2", "X", "op_2", 300))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((other.seq, other.expected_version), (2, 3));
    // Not held: nothing written.
    let raw = raw_outbox(store.database_name()).await;
    assert_eq!(
        store
            .enqueue_rename(&intent("qry_9", "Z", "op_9", 1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(raw_outbox(store.database_name()).await, raw);
    let ops = store.outbox().await.unwrap();
    store.close();
    drop(store);

    let store = IdbStore::open(&identity).await.unwrap();
    assert_eq!(store.outbox().await.unwrap(), ops);
    assert_eq!(ops.len(), 2);
    assert_eq!(
        raw_outbox(store.database_name()).await["outbox_meta"][0].1,
        2
    );
    // The counter continues after the reopen: seqs are never reused.
    let third = store
        .enqueue_rename(&intent("qry_2", "Y", "op_3", 400))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.seq, 2, "coalesced into the waiting op of qry_2");
    let stored = store.enqueue_command(&command("dsh_1")).await.unwrap();
    assert_eq!(stored.seq, 3);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn settling_stores_versions_rebases_and_records_in_order() {
    let (identity, store) = store_with_queries().await;
    let first = store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    let bad = store
        .enqueue_rename(&intent("qry_2", "X", "op_2", 1))
        .await
        .unwrap()
        .unwrap();
    let batch = build_batch(&store.outbox().await.unwrap(), 2).unwrap();
    store.begin_batch(&batch).await.unwrap();
    assert_eq!(store.in_flight_batch().await.unwrap(), Some(batch.clone()));
    assert!(store.outbox().await.unwrap().iter().all(|o| o.in_flight));
    // A rename while in flight is a new op on the version the first was made on.
    let second = store
        .enqueue_rename(&intent("qry_1", "B", "op_3", 3))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.seq, first.seq);
    assert_eq!(second.expected_version, 1);

    let settled = [
        OpSettlement::DeadLetter {
            seq: bad.seq,
            dead_letter: dead_letter("dlt_z"),
        },
        OpSettlement::Applied {
            seq: first.seq,
            query_id: "qry_1".into(),
            applied_on: 1,
            new_version: 2,
            name_i18n: first.name_i18n.clone(),
        },
    ];
    store.settle_batch(&batch.key, &settled).await.unwrap();
    assert_eq!(store.in_flight_batch().await.unwrap(), None);
    let ops = store.outbox().await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].seq, ops[0].expected_version), (second.seq, 2));
    assert!(!ops[0].in_flight);
    let row = store.row(Kind::Query, "qry_1").await.unwrap().unwrap();
    assert_eq!(
        (row.version, row.row["name_i18n"]["default"].clone()),
        (2, json!("A"))
    );

    // Conflicts and dead letters come back in recording order, whatever their ids.
    let batch = build_batch(&ops, 4).unwrap();
    store.begin_batch(&batch).await.unwrap();
    let c = conflict("cfl_z", &second.op_id);
    store
        .settle_batch(
            &batch.key,
            &[OpSettlement::Conflict {
                seq: second.seq,
                conflict: c.clone(),
            }],
        )
        .await
        .unwrap();
    let cmd = store.enqueue_command(&command("dsh_1")).await.unwrap();
    let mut c2 = conflict("cfl_a", "unused");
    c2.source = ConflictSource::Command {
        command: cmd.clone(),
    };
    store
        .settle_command(cmd.seq, &CommandSettlement::Conflict(c2.clone()))
        .await
        .unwrap();
    let cmd2 = store.enqueue_command(&command("dsh_2")).await.unwrap();
    store
        .settle_command(
            cmd2.seq,
            &CommandSettlement::DeadLetter(dead_letter("dlt_a")),
        )
        .await
        .unwrap();
    assert_eq!(store.all_conflicts().await.unwrap(), vec![c.clone(), c2]);
    let letters: Vec<String> = store
        .dead_letters()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(letters, ["dlt_z", "dlt_a"]);
    assert!(store.commands().await.unwrap().is_empty());

    // Keep local: resolved in place, the edit re-queued with the next seq.
    let requeue = Requeue::Op {
        op_id: "op_4".into(),
        query_id: "qry_1".into(),
        expected_version: 4,
        name_i18n: c.local["name_i18n"].as_object().cloned().unwrap(),
        now_ms: 11,
    };
    assert!(store
        .resolve_conflict("cfl_z", Resolution::KeepLocal, 11, Some(&requeue))
        .await
        .unwrap());
    let conflicts = store.all_conflicts().await.unwrap();
    assert_eq!(conflicts[0].resolution, Some(Resolution::KeepLocal));
    assert_eq!(conflicts[0].resolved_at_ms, Some(11));
    let ops = store.outbox().await.unwrap();
    assert_eq!(
        (ops[0].op_id.as_str(), ops[0].expected_version, ops[0].seq),
        ("op_4", 4, cmd2.seq + 1)
    );
    discard(&identity, store).await;
}

/// Rebasing touches exactly the waiting ops of the applied query made on the version the
/// applied op was made on: not the other ops of the batch, not ops on other versions.
async fn rebase_scenario<S: Store + OutboxStore>(store: &S) -> Vec<OutboxOp> {
    let plan = ApplyPlan {
        row_puts: vec![query("qry_1", 1, "One")],
        ..ApplyPlan::default()
    };
    store.commit_page(&plan, None, "c1").await.unwrap();
    let op1 = store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    let first = build_batch(std::slice::from_ref(&op1), 2).unwrap();
    store.begin_batch(&first).await.unwrap();
    let op2 = store
        .enqueue_rename(&intent("qry_1", "B", "op_2", 3))
        .await
        .unwrap()
        .unwrap();
    // Unanswered: both wait again, and go out together.
    store.settle_batch(&first.key, &[]).await.unwrap();
    let both = build_batch(&store.outbox().await.unwrap(), 4).unwrap();
    assert_eq!(both.op_seqs, [op1.seq, op2.seq]);
    store.begin_batch(&both).await.unwrap();
    let op3 = store
        .enqueue_rename(&intent("qry_1", "C", "op_3", 5))
        .await
        .unwrap()
        .unwrap();
    let cmd = store.enqueue_command(&command("dsh_1")).await.unwrap();
    store
        .settle_command(
            cmd.seq,
            &CommandSettlement::Conflict(conflict("cfl_1", "x")),
        )
        .await
        .unwrap();
    let requeue = Requeue::Op {
        op_id: "op_4".into(),
        query_id: "qry_1".into(),
        expected_version: 7,
        name_i18n: name("D").as_object().cloned().unwrap(),
        now_ms: 6,
    };
    store
        .resolve_conflict("cfl_1", Resolution::KeepLocal, 6, Some(&requeue))
        .await
        .unwrap();
    let applied = OpSettlement::Applied {
        seq: op1.seq,
        query_id: "qry_1".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: op1.name_i18n.clone(),
    };
    store.settle_batch(&both.key, &[applied]).await.unwrap();
    let ops = store.outbox().await.unwrap();
    let summary: Vec<(u64, u64, bool)> = ops
        .iter()
        .map(|o| (o.seq, o.expected_version, o.in_flight))
        .collect();
    assert_eq!(
        summary,
        [
            (op2.seq, 1, false),
            (op3.seq, 2, false),
            (cmd.seq + 1, 7, false)
        ]
    );
    ops
}

#[wasm_bindgen_test]
async fn rebasing_touches_only_waiting_ops_on_the_applied_version() {
    let (identity, store) = open_fresh().await;
    let reference = rebase_scenario(&MemoryStore::new()).await;
    assert_eq!(rebase_scenario(&store).await, reference);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_4_keeps_the_cache_and_the_queued_rename_and_drops_the_redundant_index(
) {
    // Schema 5 drops `WidgetSnapshot.by_widget_generated`, an index whose key path is the
    // store's own primary key: every snapshot write maintained it for nothing.
    let identity = fresh_identity();
    let old = IdbStore::open_at_version(&identity, 4).await.unwrap();
    old.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let op = old
        .enqueue_rename(&intent("qry_1", "Queued before the upgrade", "op_1", 7))
        .await
        .unwrap()
        .unwrap();
    let before = dump(&old, &["wid_1", "wid_2"]).await;
    let latest_before = old.latest_snapshot("wid_1").await.unwrap();
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    assert_eq!(dump(&store, &["wid_1", "wid_2"]).await, before);
    assert_eq!(store.latest_snapshot("wid_1").await.unwrap(), latest_before);
    assert_eq!(store.outbox().await.unwrap(), vec![op]);
    let request = super::support::idb_factory()
        .unwrap()
        .open(&identity.database_name())
        .unwrap();
    let db = super::support::request_done(&request).await.unwrap();
    let db: web_sys::IdbDatabase = wasm_bindgen::JsCast::unchecked_into(db);
    let tx = db.transaction_with_str("WidgetSnapshot").unwrap();
    let names = tx.object_store("WidgetSnapshot").unwrap().index_names();
    assert_eq!(names.length(), 0, "no index left on WidgetSnapshot");
    db.close();
    discard(&identity, store).await;
}
