//! Authoring commands under `Idempotency-Key`: a replay returns the first answer (success
//! or refusal) and writes nothing; a lost response is recovered by the replay; command
//! faults that replace the answer apply nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

async fn dashboard_count(s: &TestServer, dev: &Device) -> usize {
    s.pulled_rows(dev, "Dashboard").await.len()
}

#[tokio::test]
async fn a_replayed_create_returns_the_first_answer_and_creates_once() {
    let s = server();
    let t = s.tenant(small_spec("tnt_c1")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let before = dashboard_count(&s, &alice).await;
    let body = json!({"name_i18n":{"default":"Once"}});
    let first = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            body.clone(),
            None,
            Some("cmd_1"),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            body.clone(),
            None,
            Some("cmd_1"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "byte for byte");
    assert_eq!(dashboard_count(&s, &alice).await, before + 1);

    // Without a key every request is new.
    for _ in 0..2 {
        let r = s
            .command(&alice, Method::POST, DASHBOARDS, body.clone(), None, None)
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    assert_eq!(dashboard_count(&s, &alice).await, before + 3);

    let log = s.push_log("tnt_c1").await;
    assert_eq!(
        log["answers"],
        json!([{"scope":"command","userId":alice.user,"key":"cmd_1","status":201,"replays":1}])
    );
    assert_eq!(log["ops"], json!([]));
}

#[tokio::test]
async fn refusals_are_replayed_too() {
    let s = server();
    let t = s.tenant(small_spec("tnt_c2")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let d = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            json!({"name_i18n":{"default":"D"}}),
            None,
            None,
        )
        .await
        .json();
    let path = format!("{DASHBOARDS}/{}", d["id"].as_str().unwrap());
    let edit = json!({"name_i18n":{"default":"Edited"}});
    let stale = s
        .command(
            &alice,
            Method::PUT,
            &path,
            edit.clone(),
            Some("\"9\""),
            Some("cmd_stale"),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let again = s
        .command(
            &alice,
            Method::PUT,
            &path,
            edit.clone(),
            Some("\"9\""),
            Some("cmd_stale"),
        )
        .await;
    assert_eq!((again.status, again.body), (stale.status, stale.body));

    let ok = s
        .command(
            &alice,
            Method::PUT,
            &path,
            edit.clone(),
            Some("\"1\""),
            Some("cmd_ok"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let replay = s
        .command(
            &alice,
            Method::PUT,
            &path,
            edit.clone(),
            Some("\"1\""),
            Some("cmd_ok"),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "not a 412: the first answer");
    assert_eq!(replay.body, ok.body);
    assert_eq!(
        s.row("tnt_c2", "Dashboard", d["id"].as_str().unwrap())
            .await["version"],
        2
    );

    let r = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            json!({}),
            None,
            Some(&"k".repeat(201)),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "bad_idempotency_key");
}

#[tokio::test]
async fn a_lost_command_response_is_recovered_by_the_replay() {
    let s = server();
    let t = s.tenant(small_spec("tnt_c3")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let before = dashboard_count(&s, &alice).await;
    let body = json!({"name_i18n":{"default":"Lost and found"}});

    s.inject("tnt_c3", "command", json!({"type":"status","status":500}))
        .await;
    let r = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            body.clone(),
            None,
            Some("cmd_x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(dashboard_count(&s, &alice).await, before, "nothing applied");

    s.inject("tnt_c3", "command", json!({"type":"lose_response"}))
        .await;
    let r = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            body.clone(),
            None,
            Some("cmd_x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.json(), json!({"error":"response_lost"}));
    assert_eq!(dashboard_count(&s, &alice).await, before + 1, "applied");

    let r = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            body.clone(),
            None,
            Some("cmd_x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let mine: Vec<_> = s
        .pulled_rows(&alice, "Dashboard")
        .await
        .into_iter()
        .filter(|d| d["row"]["name_i18n"]["default"] == "Lost and found")
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["row"]["id"], id.as_str());

    // Push faults do not touch commands, and command faults do not touch pushes.
    s.inject("tnt_c3", "push", json!({"type":"status","status":503}))
        .await;
    let r = s
        .command(&alice, Method::POST, DASHBOARDS, body.clone(), None, None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    s.inject(
        "tnt_c3",
        "command",
        json!({"type":"rate_limit","retryAfter":2}),
    )
    .await;
    let q = s.query_ids(&alice).await[0].clone();
    let r = s.push(&alice, &[op("op_1", &q, 1, "N")]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "the push fault");
    let r = s.push(&alice, &[op("op_1", &q, 1, "N")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = s
        .command(&alice, Method::POST, DASHBOARDS, body.clone(), None, None)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "2");
}
