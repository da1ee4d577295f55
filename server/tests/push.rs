//! `POST /internal/sync/push`: every per-op outcome, the 50-op limit and the whole-request
//! errors (identity, token, revocation, key, body).

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn every_per_op_outcome_in_order() {
    let s = server();
    let t = s.tenant(small_spec("tnt_p1")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let bob = TestServer::device(&t, 1, "dev_b");
    let mine = s.query_ids(&alice).await;
    let bobs = s.query_ids(&bob).await;
    assert!(mine.len() >= 2 && !bobs.is_empty());
    let (q1, q2) = (mine[0].as_str(), mine[1].as_str());
    let q2_name = s.row("tnt_p1", "Query", q2).await["row"]["name_i18n"].clone();

    let ops = vec![
        op("op_ok", q1, 1, "Weekly bookings (mine)"),
        op("op_stale", q1, 1, "Lost race"),
        op("op_conflict", q2, 7, "Too late"),
        json!({"opId":"op_field","kind":"Query","id":q1,"expectedVersion":2,
               "patch":{"name_i18n":{"default":"X"},"sql_template":"SELECT 1"}}),
        json!({"opId":"op_only_sql","kind":"Query","id":q1,"expectedVersion":2,
               "patch":{"sql_template":"SELECT 1"}}),
        json!({"opId":"op_empty","kind":"Query","id":q1,"expectedVersion":2,"patch":{}}),
        json!({"opId":"op_name","kind":"Query","id":q1,"expectedVersion":2,
               "patch":{"name_i18n":{"default":"  "}}}),
        json!({"opId":"op_name2","kind":"Query","id":q1,"expectedVersion":2,
               "patch":{"name_i18n":"plain"}}),
        op("op_unknown", "qry_does_not_exist", 1, "X"),
        op("op_bobs", &bobs[0], 1, "Stolen"),
        json!({"opId":"op_kind","kind":"Dashboard","id":q1,"expectedVersion":2,
               "patch":{"name_i18n":{"default":"X"}}}),
    ];
    let results = s.push_ok(&alice, &ops).await;
    assert_eq!(results.len(), ops.len());
    for (r, o) in results.iter().zip(&ops) {
        assert_eq!(r["opId"], o["opId"], "results are in request order");
        assert_eq!(r["id"], o["id"]);
    }
    assert_eq!(
        results[0],
        json!({"opId":"op_ok","id":q1,"ok":true,"version":2})
    );
    assert_eq!(
        results[1],
        json!({"opId":"op_stale","id":q1,"ok":false,"status":409,"error":"version_conflict",
               "current":{"version":2,"name_i18n":{"default":"Weekly bookings (mine)"}}}),
        "the second op sees the first one's effect"
    );
    assert_eq!(
        results[2],
        json!({"opId":"op_conflict","id":q2,"ok":false,"status":409,"error":"version_conflict",
               "current":{"version":1,"name_i18n":q2_name}})
    );
    for (i, error) in [
        (3, "field_not_editable"),
        (4, "field_not_editable"),
        (5, "field_not_editable"),
        (6, "invalid_name"),
        (7, "invalid_name"),
    ] {
        assert_eq!(results[i]["ok"], false);
        assert_eq!(results[i]["status"], 422, "{}", results[i]);
        assert_eq!(results[i]["error"], error, "{}", results[i]);
        assert!(results[i].get("current").is_none());
    }
    for result in &results[8..=10] {
        assert_eq!(
            (&result["status"], &result["error"]),
            (&json!(404), &json!("not_found")),
            "{result}"
        );
    }

    // Only the ok op changed anything.
    let q1_row = s.row("tnt_p1", "Query", q1).await;
    assert_eq!(q1_row["version"], 2);
    assert_eq!(
        q1_row["row"]["name_i18n"],
        json!({"default":"Weekly bookings (mine)"})
    );
    assert!(
        q1_row["row"]["sql_template"].is_string(),
        "other fields kept"
    );
    assert_eq!(s.row("tnt_p1", "Query", q2).await["version"], 1);
    let bobs_row = s.row("tnt_p1", "Query", &bobs[0]).await;
    assert_eq!(bobs_row["version"], 1);
    let log = s.push_log("tnt_p1").await;
    assert_eq!(log["ops"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["ops"][0]["opId"], "op_ok");
    assert_eq!(log["ops"][0]["applied"], 1);
    assert_eq!(log["ops"][0]["versions"], json!([2]));
}

#[tokio::test]
async fn at_most_fifty_ops() {
    let s = server();
    let t = s.tenant(small_spec("tnt_p2")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let q = s.query_ids(&alice).await[0].clone();
    let ops: Vec<_> = (0..51)
        .map(|i| op(&format!("op_{i:02}"), &q, 1 + i, &format!("Name {i}")))
        .collect();
    let r = s.push(&alice, &ops).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "too_many_ops");
    assert_eq!(s.row("tnt_p2", "Query", &q).await["version"], 1);
    assert_eq!(s.push_log("tnt_p2").await["ops"], json!([]));

    // Fifty consecutive renames of one query all apply, each on the version before.
    let results = s.push_ok(&alice, &ops[..50]).await;
    assert_eq!(results.len(), 50);
    assert!(results.iter().all(|r| r["ok"] == true));
    assert_eq!(results[49]["version"], 51);
    assert_eq!(s.row("tnt_p2", "Query", &q).await["version"], 51);
}

#[tokio::test]
async fn whole_request_errors_apply_nothing() {
    let s = server();
    let t = s.tenant(small_spec("tnt_p3")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let q = s.query_ids(&alice).await[0].clone();
    let ops = vec![op("op_1", &q, 1, "New")];
    let body = json!({ "ops": ops }).to_string();
    let key = key_of(&ops);

    let r = s.push_raw(&alice, None, &body).await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("missing_idempotency_key"))
    );
    let other_key = key_of(&[op("op_2", &q, 1, "x")]);
    let r = s.push_raw(&alice, Some(&other_key), &body).await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("bad_idempotency_key"))
    );
    for bad in [
        "not json",
        "{}",
        r#"{"ops":{}}"#,
        r#"{"ops":[{"opId":"op_1","kind":"Query","id":"q","expectedVersion":"1","patch":{}}]}"#,
        r#"{"ops":[{"opId":"op_1","kind":"Nope","id":"q","expectedVersion":1,"patch":{}}]}"#,
    ] {
        let r = s.push_raw(&alice, Some(&key), bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.json()["error"], "bad_request", "{bad}");
    }
    let mut wrong_token = alice.clone();
    wrong_token.token = "tok_wrong".into();
    assert_eq!(
        s.push_raw(&wrong_token, Some(&key), &body).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut bad_identity = alice.clone();
    bad_identity.user = "alice".into();
    let r = s.push_raw(&bad_identity, Some(&key), &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "bad_identity");
    let mut no_token = alice.clone();
    no_token.token = String::new();
    assert_eq!(
        s.push_raw(&no_token, Some(&key), &body).await.status,
        StatusCode::UNAUTHORIZED
    );

    let revoke = json!({"tenantId":"tnt_p3","userId":alice.user});
    assert_eq!(
        s.post("/admin/revoke", revoke.clone()).await.status,
        StatusCode::OK
    );
    let r = s.push_raw(&alice, Some(&key), &body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json(), json!({"error":"forbidden"}));
    assert_eq!(s.row("tnt_p3", "Query", &q).await["version"], 1);
    assert_eq!(s.push_log("tnt_p3").await["ops"], json!([]));

    // Once restored, the very same request applies.
    assert_eq!(
        s.post("/admin/restore", revoke).await.status,
        StatusCode::OK
    );
    let r = s.push_raw(&alice, Some(&key), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["results"][0]["version"], 2);
}
