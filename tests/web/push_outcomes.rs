//! Batching and final refusals against the real server: 60 queued renames go out as 50 + 10,
//! and ops the server refuses for good go to the dead letters without holding back the op
//! behind them.
//!
//! Where the 422 comes from: the client validates names with the same rules as the server
//! (`engine::validate_name` and the server's `names.rs`), so a rename made through the API
//! today can never be refused as `invalid_name`. What the device can still hold is an op
//! queued by an earlier client release with laxer rules (the blank-name rule is what this
//! test plants) or a record damaged on disk. The test writes that record into IndexedDB
//! directly — exactly what such a device would open with — and the real server refuses it
//! with `422 invalid_name`. The 404 is a rename of a query the server deleted meanwhile.

use super::push_raw::raw_set_op_field;
use super::push_support::{
    answers, applied, pending_ops, pulled_env, push_config, push_log, push_ok, push_with,
    query_ids, rename, server_query, RecordingTransport,
};
use serde_json::json;
use sync_core::engine::{dead_letters, Store};
use sync_core::protocol::Kind;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn sixty_queued_renames_go_out_as_two_batches() {
    let env = pulled_env("sixty", 60).await;
    let ids = query_ids(&env.store).await;
    assert_eq!(ids.len(), 60);
    let mut op_ids = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        op_ids.push(
            rename(&env.store, id, &format!("Batch rename {i}"))
                .await
                .op_id,
        );
    }
    assert_eq!(pending_ops(&env.store).await.len(), 60);

    let recording = RecordingTransport::new(&env.transport);
    let report = push_with(&env.store, &recording, &push_config(3))
        .await
        .unwrap();
    assert_eq!((report.batches, report.ops_applied), (2, 60), "{report:?}");
    let bodies = recording.push_bodies();
    assert_eq!(bodies.iter().map(Vec::len).collect::<Vec<_>>(), [50, 10]);
    assert_eq!(bodies.concat(), op_ids, "queue order");
    let keys = recording.keys("/internal/sync/push");
    assert_ne!(keys[0], keys[1]);

    let log = push_log(&env.tenant).await;
    assert_eq!(answers(&log, "push").len(), 2);
    assert!(op_ids.iter().all(|op| applied(&log, op) == 1));
    assert!(pending_ops(&env.store).await.is_empty());
    assert_eq!(
        server_query(&env.tenant, &ids[59]).await.1,
        "Batch rename 59"
    );
    env.finish().await;
}

#[wasm_bindgen_test]
async fn final_refusals_go_to_the_dead_letters_and_the_next_op_still_succeeds() {
    let env = pulled_env("dead", 3).await;
    let ids = query_ids(&env.store).await;
    let (deleted, legacy, fine) = (&ids[0], &ids[1], &ids[2]);

    // 404: renamed here, deleted on the server before the push.
    let op_404 = rename(&env.store, deleted, "Renamed, but gone").await;
    env.tenant.tombstone(Kind::Query, deleted).await;
    // 422: an op an earlier client queued with a blank name (see the module docs).
    let op_422 = rename(&env.store, legacy, "placeholder").await;
    raw_set_op_field(
        env.store.database_name(),
        op_422.seq,
        "name_i18n",
        &json!({"default": "   "}),
    )
    .await;
    let op_ok = rename(&env.store, fine, "Still goes through").await;
    let (v_fine, _) = server_query(&env.tenant, fine).await;

    let report = push_ok(&env).await;
    assert_eq!(
        (report.batches, report.ops_applied, report.dead_letters),
        (1, 1, 2),
        "{report:?}"
    );
    let letters = dead_letters(&env.store).await.unwrap();
    let summary: Vec<(&str, u16, &str)> = letters
        .iter()
        .map(|d| (d.entity_id.as_str(), d.status, d.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (deleted.as_str(), 404, "not_found"),
            (legacy.as_str(), 422, "invalid_name")
        ]
    );
    assert_eq!(letters[0].source, "op");
    assert_eq!(letters[0].payload["opId"], op_404.op_id.as_str());
    assert_eq!(letters[1].payload["opId"], op_422.op_id.as_str());
    assert_eq!(
        server_query(&env.tenant, fine).await,
        (v_fine + 1, "Still goes through".into())
    );
    let log = push_log(&env.tenant).await;
    assert_eq!(applied(&log, &op_ok.op_id), 1);
    assert_eq!(applied(&log, &op_422.op_id), 0);
    assert!(pending_ops(&env.store).await.is_empty());
    // The legacy query keeps the server's name; the deleted one disappears on pull.
    let (_, legacy_name) = server_query(&env.tenant, legacy).await;
    env.pull_drained().await;
    let held = env.store.row(Kind::Query, legacy).await.unwrap().unwrap();
    assert_eq!(held.row["name_i18n"]["default"], legacy_name.as_str());
    assert!(env.store.row(Kind::Query, deleted).await.unwrap().is_none());
    env.finish().await;
}
