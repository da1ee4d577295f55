//! Push idempotency: a repeated `Idempotency-Key` gets the first answer byte for byte and
//! applies nothing; an op id applied once is never applied again under another key; a
//! response lost after the server applied the batch is recovered by a replay; every push
//! fault; answers and applied ops survive a restart.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use sync_core::protocol::push::PushResponse;
use sync_server::{Db, ServerOptions};

#[tokio::test]
async fn same_key_returns_the_first_answer_and_applies_nothing() {
    let s = server();
    let t = s.tenant(small_spec("tnt_r1")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = s.query_ids(&alice).await;
    let ops = vec![
        op("op_a", &qs[0], 1, "First"),
        op("op_b", &qs[1], 9, "Stale"),
    ];
    let first = s.push(&alice, &ops).await;
    assert_eq!(first.status, StatusCode::OK);
    let again = s.push(&alice, &ops).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body, "byte for byte");
    assert_eq!(again.headers["content-type"], "application/json");

    // Even a body that changed since (same key) gets the first answer.
    let changed = json!({"ops":[op("op_a", &qs[0], 2, "Second"), op("op_b", &qs[1], 1, "Now")]});
    let r = s
        .push_raw(&alice, Some(&key_of(&ops)), &changed.to_string())
        .await;
    assert_eq!(r.body, first.body);
    assert_eq!(s.row("tnt_r1", "Query", &qs[0]).await["version"], 2);
    assert_eq!(s.row("tnt_r1", "Query", &qs[1]).await["version"], 1);

    let log = s.push_log("tnt_r1").await;
    assert_eq!(s.applied("tnt_r1", "op_a").await, 1);
    assert_eq!(s.applied("tnt_r1", "op_b").await, 0, "a 409 is not applied");
    let answers = log["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "{log}");
    assert_eq!(answers[0]["replays"], 2);
    assert_eq!(answers[0]["scope"], "push");

    // Keys are per user: bob's identical key is a new request for bob (a 404 for him).
    let bob = TestServer::device(&t, 1, "dev_b");
    let r = s.push(&bob, &ops).await;
    assert_eq!(r.json()["results"][0]["status"], 404);
}

#[tokio::test]
async fn an_applied_op_id_is_never_applied_again_under_another_key() {
    let s = server();
    let t = s.tenant(small_spec("tnt_r2")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = s.query_ids(&alice).await;
    let first = s.push_ok(&alice, &[op("op_1", &qs[0], 1, "Once")]).await;
    assert_eq!(
        first[0],
        json!({"opId":"op_1","id":qs[0],"ok":true,"version":2})
    );

    // Rebuilt into a new batch (new key), still claiming version 1, and sent twice in it.
    let ops = vec![
        op("op_1", &qs[0], 1, "Once"),
        op("op_2", &qs[1], 1, "Other"),
        op("op_1", &qs[0], 1, "Once"),
    ];
    let results = s.push_ok(&alice, &ops).await;
    assert_eq!(results[0], first[0], "the first result, not a 409");
    assert_eq!(results[1]["ok"], true);
    assert_eq!(results[2], first[0]);
    assert_eq!(s.row("tnt_r2", "Query", &qs[0]).await["version"], 2);
    assert_eq!(s.applied("tnt_r2", "op_1").await, 1);
    let log = s.push_log("tnt_r2").await;
    let op1 = log["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["opId"] == "op_1")
        .unwrap()
        .clone();
    assert_eq!(op1["duplicates"], 2);
    assert_eq!(op1["versions"], json!([2]));
}

#[tokio::test]
async fn a_lost_response_is_recovered_by_replaying_the_same_key() {
    let s = server();
    let t = s.tenant(small_spec("tnt_r3")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let q = s.query_ids(&alice).await[0].clone();
    let ops = vec![op("op_lost", &q, 1, "Applied in the dark")];

    s.inject("tnt_r3", "push", json!({"type":"lose_response"}))
        .await;
    let r = s.push(&alice, &ops).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.json(), json!({"error":"response_lost"}));
    assert_eq!(r.headers["connection"], "close");
    assert_eq!(
        s.row("tnt_r3", "Query", &q).await["version"],
        2,
        "applied before the answer was lost"
    );

    let r = s.push(&alice, &ops).await;
    assert_eq!(r.status, StatusCode::OK);
    let parsed: PushResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(parsed.results[0].version, Some(2));
    assert!(parsed.results[0].ok);
    assert_eq!(s.row("tnt_r3", "Query", &q).await["version"], 2);
    assert_eq!(s.applied("tnt_r3", "op_lost").await, 1);
    assert_eq!(s.push_log("tnt_r3").await["answers"][0]["replays"], 1);
}

#[tokio::test]
async fn every_push_fault() {
    let s = server();
    let t = s.tenant(small_spec("tnt_r4")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let q = s.query_ids(&alice).await[0].clone();
    let mut version = 1;
    let mut next_op = |n: &str| {
        let o = vec![op(n, &q, version, n)];
        version += 1;
        o
    };

    // Replacing faults apply nothing.
    let ops = next_op("op_s");
    s.inject("tnt_r4", "push", json!({"type":"status","status":503}))
        .await;
    let r = s.push(&alice, &ops).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(s.applied("tnt_r4", "op_s").await, 0);
    s.inject(
        "tnt_r4",
        "push",
        json!({"type":"rate_limit","retryAfter":4}),
    )
    .await;
    let r = s.push(&alice, &ops).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "4");
    s.inject("tnt_r4", "push", json!({"type":"malformed"}))
        .await;
    let r = s.push(&alice, &ops).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_ok());
    assert!(serde_json::from_slice::<PushResponse>(&r.body).is_err());
    assert_eq!(s.applied("tnt_r4", "op_s").await, 0);
    let full = s.push(&alice, &ops).await;
    assert_eq!(full.json()["results"][0]["ok"], true);

    // Truncate and drop apply, then damage the answer; the replay is whole.
    let ops = next_op("op_t");
    s.inject("tnt_r4", "push", json!({"type":"truncate"})).await;
    let cut = s.push(&alice, &ops).await;
    assert_eq!(cut.status, StatusCode::OK);
    assert!(serde_json::from_slice::<PushResponse>(&cut.body).is_err());
    assert_eq!(s.applied("tnt_r4", "op_t").await, 1);
    let whole = s.push(&alice, &ops).await;
    assert_eq!(&whole.body[..cut.body.len()], &cut.body[..]);
    assert_eq!(whole.body.len() / 2, cut.body.len());

    let ops = next_op("op_d");
    s.inject("tnt_r4", "push", json!({"type":"drop"})).await;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/internal/sync/push")
        .header("X-Tenant-Id", &alice.tenant)
        .header("X-User-Id", &alice.user)
        .header("X-Device-Id", &alice.device)
        .header("Authorization", format!("Bearer {}", alice.token))
        .header("Idempotency-Key", key_of(&ops))
        .body(axum::body::Body::from(json!({ "ops": ops }).to_string()))
        .unwrap();
    let res = tower::ServiceExt::oneshot(s.router.clone(), req)
        .await
        .unwrap();
    assert!(http_body_util::BodyExt::collect(res.into_body())
        .await
        .is_err());
    assert_eq!(s.applied("tnt_r4", "op_d").await, 1);
    assert_eq!(s.push(&alice, &ops).await.json()["results"][0]["ok"], true);

    let ops = next_op("op_w");
    s.inject("tnt_r4", "push", json!({"type":"delay","ms":200}))
        .await;
    let started = std::time::Instant::now();
    let r = s.push(&alice, &ops).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(r.json()["results"][0]["ok"], true);

    assert_eq!(s.row("tnt_r4", "Query", &q).await["version"], 5);
    for op_id in ["op_s", "op_t", "op_d", "op_w"] {
        assert_eq!(s.applied("tnt_r4", op_id).await, 1, "{op_id}");
    }
    // Pull is not affected by push faults.
    s.inject("tnt_r4", "push", json!({"type":"status","status":500}))
        .await;
    assert_eq!(s.pull(&alice, None, 10).await.status, StatusCode::OK);
}

#[tokio::test]
async fn answers_and_applied_ops_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("sync-server-push-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("push.db");
    let _ = std::fs::remove_file(&path);
    let path = path.to_str().unwrap().to_string();

    let s = server_with(Db::open(&path).unwrap(), ServerOptions::for_tests());
    let t = s.tenant(small_spec("tnt_r5")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = s.query_ids(&alice).await;
    let ops = vec![op("op_1", &qs[0], 1, "Durable")];
    let first = s.push(&alice, &ops).await;
    drop(s);

    let s = server_with(Db::open(&path).unwrap(), ServerOptions::for_tests());
    assert_eq!(s.push(&alice, &ops).await.body, first.body);
    let results = s
        .push_ok(
            &alice,
            &[op("op_1", &qs[0], 1, "Durable"), op("op_2", &qs[1], 1, "B")],
        )
        .await;
    assert_eq!(results[0]["version"], 2);
    assert_eq!(s.applied("tnt_r5", "op_1").await, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
