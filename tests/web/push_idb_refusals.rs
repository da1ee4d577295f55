//! Outbox writes on `IdbStore` that must write nothing: refusals (a batch already in
//! flight, unknown keys and seqs, a settlement list with a bad entry after a good one,
//! unknown conflicts), transactions that die after some of their writes were issued, and
//! `wipe` (403/410), which never reaches the outbox.

use super::idb_fixtures::discard;
use super::push_idb_fixtures::{command, conflict, dead_letter, intent, store_with_queries};
use super::push_raw::raw_outbox;
use sync_core::engine::build_batch;
use sync_core::engine::{
    CommandSettlement, OpSettlement, OutboxStore, PushBatch, Requeue, Resolution, Store, StoreError,
};
use sync_core::protocol::Kind;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn refused_outbox_writes_write_nothing() {
    let (identity, store) = store_with_queries().await;
    let op = store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    let batch = build_batch(&store.outbox().await.unwrap(), 2).unwrap();
    store.begin_batch(&batch).await.unwrap();
    let raw = raw_outbox(store.database_name()).await;
    let rows = store.rows(Kind::Query).await.unwrap();

    let other = PushBatch {
        key: "other".into(),
        ..batch.clone()
    };
    assert!(matches!(
        store.begin_batch(&other).await,
        Err(StoreError::Aborted(m)) if m.contains("already in flight")
    ));
    assert!(store.settle_batch("other", &[]).await.is_err());
    let foreign = OpSettlement::Applied {
        seq: 999,
        query_id: "qry_1".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: op.name_i18n.clone(),
    };
    // The valid settlement first: the refusal of the second must undo it too.
    let applied = OpSettlement::Applied {
        seq: op.seq,
        query_id: "qry_1".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: op.name_i18n.clone(),
    };
    assert!(store
        .settle_batch(&batch.key, &[applied.clone(), foreign])
        .await
        .is_err());
    assert!(store
        .settle_batch(&batch.key, &[applied.clone(), applied])
        .await
        .is_err());
    assert!(store
        .settle_command(42, &CommandSettlement::Done)
        .await
        .is_err());
    assert!(!store
        .resolve_conflict("cfl_none", Resolution::AcceptServer, 1, None)
        .await
        .unwrap());
    assert_eq!(raw_outbox(store.database_name()).await, raw);
    assert_eq!(store.rows(Kind::Query).await.unwrap(), rows);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn every_outbox_write_is_all_or_nothing() {
    let (identity, store) = store_with_queries().await;
    let name_of = store.database_name().to_string();
    // Each write, tried with the transaction aborted after its first write and just
    // before its commit, must leave everything as it was; then it succeeds.
    for after in [0, 1, 100] {
        let raw = raw_outbox(&name_of).await;
        store.fail_next_outbox_write_after(after);
        let failed = store.enqueue_rename(&intent("qry_1", "A", "op_1", 1)).await;
        assert!(matches!(failed, Err(StoreError::Aborted(_))), "{failed:?}");
        assert_eq!(raw_outbox(&name_of).await, raw, "rename, after {after}");
    }
    let op = store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    let batch = build_batch(std::slice::from_ref(&op), 2).unwrap();
    let cmd = command("dsh_1");
    let settled = [OpSettlement::Applied {
        seq: op.seq,
        query_id: "qry_1".into(),
        applied_on: 1,
        new_version: 2,
        name_i18n: op.name_i18n.clone(),
    }];
    for step in 0..5 {
        for after in [1, 100] {
            let raw = raw_outbox(&name_of).await;
            let rows = store.rows(Kind::Query).await.unwrap();
            store.fail_next_outbox_write_after(after);
            let failed = match step {
                0 => store.begin_batch(&batch).await,
                1 => store.settle_batch(&batch.key, &settled).await,
                2 => store.enqueue_command(&cmd).await.map(|_| ()),
                3 => {
                    store
                        .settle_command(2, &CommandSettlement::Conflict(conflict("cfl_1", "x")))
                        .await
                }
                _ => store
                    .resolve_conflict(
                        "cfl_1",
                        Resolution::KeepLocal,
                        5,
                        Some(&Requeue::Command(command("dsh_1"))),
                    )
                    .await
                    .map(|_| ()),
            };
            assert!(
                matches!(failed, Err(StoreError::Aborted(_))),
                "step {step}: {failed:?}"
            );
            assert_eq!(raw_outbox(&name_of).await, raw, "step {step} after {after}");
            assert_eq!(store.rows(Kind::Query).await.unwrap(), rows);
        }
        match step {
            0 => store.begin_batch(&batch).await.unwrap(),
            1 => store.settle_batch(&batch.key, &settled).await.unwrap(),
            2 => assert_eq!(store.enqueue_command(&cmd).await.unwrap().seq, 2),
            3 => store
                .settle_command(2, &CommandSettlement::Conflict(conflict("cfl_1", "x")))
                .await
                .unwrap(),
            _ => assert!(store
                .resolve_conflict(
                    "cfl_1",
                    Resolution::KeepLocal,
                    5,
                    Some(&Requeue::Command(command("dsh_1"))),
                )
                .await
                .unwrap()),
        }
    }
    assert_eq!(
        store
            .row(Kind::Query, "qry_1")
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert_eq!(store.commands().await.unwrap().len(), 1);
    discard(&identity, store).await;
}

/// An integer a JS number would round (here 2^53 + 1) in anything an outbox record holds
/// (a command body, a conflict's server state, a dead letter's payload) refuses the write
/// with the number in the message and writes nothing: stored, it would come back as another
/// number.
#[wasm_bindgen_test]
async fn integers_a_js_number_would_round_are_refused() {
    let (identity, store) = store_with_queries().await;
    let name_of = store.database_name().to_string();
    let big = serde_json::json!({"n": [1, {"deep": 9007199254740993u64}]});
    let refused = |what: &str, result: Result<(), StoreError>| {
        let message = format!("{result:?}");
        assert!(
            result.is_err() && message.contains("9007199254740993"),
            "{what}: {message}"
        );
    };

    let raw = raw_outbox(&name_of).await;
    let mut cmd = command("dsh_1");
    cmd.body = Some(big.clone());
    refused(
        "command body",
        store.enqueue_command(&cmd).await.map(|_| ()),
    );
    assert_eq!(raw_outbox(&name_of).await, raw);

    let seq = store.enqueue_command(&command("dsh_1")).await.unwrap().seq;
    let raw = raw_outbox(&name_of).await;
    let mut c = conflict("cfl_1", "x");
    c.server = big.clone();
    refused(
        "conflict",
        store
            .settle_command(seq, &CommandSettlement::Conflict(c))
            .await,
    );
    assert_eq!(raw_outbox(&name_of).await, raw);

    let op = store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 1))
        .await
        .unwrap()
        .unwrap();
    let batch = build_batch(std::slice::from_ref(&op), 2).unwrap();
    store.begin_batch(&batch).await.unwrap();
    let raw = raw_outbox(&name_of).await;
    let mut d = dead_letter("dlq_1");
    d.payload = big;
    let settled = [OpSettlement::DeadLetter {
        seq: op.seq,
        dead_letter: d,
    }];
    refused(
        "dead letter",
        store.settle_batch(&batch.key, &settled).await,
    );
    assert_eq!(raw_outbox(&name_of).await, raw);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn wipe_never_touches_the_outbox() {
    let (identity, store) = store_with_queries().await;
    store
        .enqueue_rename(&intent("qry_1", "A", "op_1", 1))
        .await
        .unwrap();
    store
        .enqueue_rename(&intent("qry_2", "B", "op_2", 1))
        .await
        .unwrap();
    let batch = build_batch(&store.outbox().await.unwrap()[..1], 2).unwrap();
    store.begin_batch(&batch).await.unwrap();
    let cmd = store.enqueue_command(&command("dsh_1")).await.unwrap();
    store
        .settle_command(
            cmd.seq,
            &CommandSettlement::DeadLetter(dead_letter("dlt_1")),
        )
        .await
        .unwrap();
    let cmd = store.enqueue_command(&command("dsh_2")).await.unwrap();
    store
        .settle_command(
            cmd.seq,
            &CommandSettlement::Conflict(conflict("cfl_1", "x")),
        )
        .await
        .unwrap();
    store.enqueue_command(&command("dsh_3")).await.unwrap();
    let raw = raw_outbox(store.database_name()).await;
    assert!(raw.values().all(|records| !records.is_empty()), "{raw:?}");

    store.wipe(&Kind::ALL, true).await.unwrap();
    assert!(store.rows(Kind::Query).await.unwrap().is_empty());
    assert_eq!(store.meta().await.unwrap().cursor, None);
    assert_eq!(raw_outbox(store.database_name()).await, raw);
    discard(&identity, store).await;
}
