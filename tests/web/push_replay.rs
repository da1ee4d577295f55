//! A push whose answer never arrives — lost on the way back, or the page died after the
//! request left — is sent again byte-identical under the same `Idempotency-Key`, and the
//! real server applies the op once (`/admin/push-log`).

use super::push_support::{
    answers, applied, inject, pending_ops, pulled_env, push_config, push_log, push_with, query_ids,
    rename, server_query, RecordingTransport,
};
use serde_json::json;
use sync_core::engine::{batch_request, build_batch};
use sync_core::engine::{Clock, OutboxStore, PushError, Transport};
use sync_core::web::{IdbStore, WebClock};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn a_lost_push_response_is_replayed_with_the_same_key_and_applied_once() {
    let env = pulled_env("lost", 2).await;
    let ids = query_ids(&env.store).await;
    let (v0, _) = server_query(&env.tenant, &ids[0]).await;

    // Lost once inside a call: the call's own retry gets the stored answer.
    let op = rename(&env.store, &ids[0], "After a lost answer").await;
    inject(&env.tenant, "push", json!({"type": "lose_response"}), 1).await;
    let recording = RecordingTransport::new(&env.transport);
    let report = push_with(&env.store, &recording, &push_config(3))
        .await
        .unwrap();
    assert_eq!(
        (report.ops_applied, report.retries, report.batches),
        (1, 1, 1)
    );
    let sent = recording.sent.borrow().clone();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].1, Some(502), "the first answer was lost");
    assert_eq!(sent[0].0, sent[1].0, "the retry is byte-identical");
    let log = push_log(&env.tenant).await;
    assert_eq!(applied(&log, &op.op_id), 1);
    let stored = answers(&log, "push");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["replays"], 1);
    assert_eq!(
        server_query(&env.tenant, &ids[0]).await,
        (v0 + 1, "After a lost answer".into())
    );

    // Lost on the only attempt of a call: the batch stays stored and the next call sends
    // it again as it was.
    let op = rename(&env.store, &ids[1], "Second loss").await;
    inject(&env.tenant, "push", json!({"type": "lose_response"}), 1).await;
    let recording = RecordingTransport::new(&env.transport);
    let error = push_with(&env.store, &recording, &push_config(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, PushError::ServerError { status: 502, .. }),
        "{error:?}"
    );
    let batch = env.store.in_flight_batch().await.unwrap().unwrap();
    assert_eq!(applied(&push_log(&env.tenant).await, &op.op_id), 1);
    assert_eq!(pending_ops(&env.store).await.len(), 1, "not settled yet");
    let report = push_with(&env.store, &recording, &push_config(1))
        .await
        .unwrap();
    assert!(report.resent_in_flight);
    assert_eq!(report.ops_applied, 1);
    assert_eq!(
        recording.keys("/internal/sync/push"),
        [batch.key.clone(), batch.key.clone()]
    );
    let log = push_log(&env.tenant).await;
    assert_eq!(applied(&log, &op.op_id), 1);
    assert!(pending_ops(&env.store).await.is_empty());
    env.finish().await;
}

#[wasm_bindgen_test]
async fn a_batch_in_flight_when_the_page_died_is_sent_again_on_the_next_open() {
    let mut env = pulled_env("crash", 2).await;
    let ids = query_ids(&env.store).await;
    // Died after the request left (the server applied it), then died before it left.
    for (q, request_left) in [(&ids[0], true), (&ids[1], false)] {
        let (v0, _) = server_query(&env.tenant, q).await;
        let op = rename(&env.store, q, "Before the crash").await;
        let batch = build_batch(&env.store.outbox().await.unwrap(), WebClock.now_ms()).unwrap();
        env.store.begin_batch(&batch).await.unwrap();
        if request_left {
            let answer = env.transport.send(batch_request(&batch)).await.unwrap();
            assert_eq!(answer.status, 200);
            assert_eq!(applied(&push_log(&env.tenant).await, &op.op_id), 1);
        }
        // The page dies: its connection goes away without settling anything; the next
        // start opens the same database.
        env.store.close();
        env.store = IdbStore::open(&env.tenant.identity).await.unwrap();
        assert_eq!(
            env.store.in_flight_batch().await.unwrap(),
            Some(batch.clone())
        );
        assert!(pending_ops(&env.store).await.iter().all(|o| o.in_flight));

        let recording = RecordingTransport::new(&env.transport);
        let report = push_with(&env.store, &recording, &push_config(3))
            .await
            .unwrap();
        assert!(report.resent_in_flight);
        assert_eq!(report.ops_applied, 1, "{report:?}");
        let sent = recording.sent.borrow().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, batch_request(&batch), "same key, same bytes");
        let log = push_log(&env.tenant).await;
        assert_eq!(applied(&log, &op.op_id), 1);
        let replays: u64 = answers(&log, "push")
            .iter()
            .filter(|a| a["key"] == batch.key.as_str())
            .map(|a| a["replays"].as_u64().unwrap())
            .sum();
        assert_eq!(replays, u64::from(request_left));
        assert_eq!(
            server_query(&env.tenant, q).await,
            (v0 + 1, "Before the crash".into())
        );
        assert!(pending_ops(&env.store).await.is_empty());
        assert_eq!(env.store.in_flight_batch().await.unwrap(), None);
    }
    env.finish().await;
}
