//! What push does to the rest of the system: an applied rename reaches every device of
//! the owner through pull (and nobody else's), an admin rename turns a device's stale op
//! into a 409 that a re-push on top of `current.version` settles, and a page on another
//! localhost port may push (CORS).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};

fn query_items<'a>(items: &'a [Value], id: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|i| i["kind"] == "Query" && (i["row"]["id"] == id || i["id"] == id))
        .collect()
}

#[tokio::test]
async fn an_applied_rename_reaches_every_device_of_the_owner() {
    let s = server();
    let t = s.tenant(small_spec("tnt_q1")).await;
    let laptop = TestServer::device(&t, 0, "dev_laptop");
    let phone = laptop.other_device("dev_phone");
    let bob = TestServer::device(&t, 1, "dev_bob");
    let (_, _, laptop_cursor) = s.drain(&laptop, None, 500).await;
    let (_, _, phone_cursor) = s.drain(&phone, None, 500).await;
    let (_, _, bob_cursor) = s.drain(&bob, None, 500).await;
    let q = s.query_ids(&laptop).await[0].clone();

    let results = s
        .push_ok(&laptop, &[op("op_1", &q, 1, "Renamed on the laptop")])
        .await;
    assert_eq!(results[0]["version"], 2);

    for (dev, cursor) in [(&phone, &phone_cursor), (&laptop, &laptop_cursor)] {
        let (items, _, _) = s.drain(dev, Some(cursor.clone()), 500).await;
        let got = query_items(&items, &q);
        assert_eq!(got.len(), 1, "{}: {items:?}", dev.device);
        assert_eq!(got[0]["op"], "upsert");
        assert_eq!(got[0]["version"], 2);
        assert_eq!(
            got[0]["row"]["name_i18n"],
            json!({"default":"Renamed on the laptop"})
        );
        assert!(
            got[0]["row"]["sql_template"].is_string(),
            "the owner keeps sql_template"
        );
    }
    let (items, _, _) = s.drain(&bob, Some(bob_cursor), 500).await;
    assert!(query_items(&items, &q).is_empty(), "not bob's query");
    // A cold start sees the new name and version too.
    let cold = s.pulled_rows(&phone, "Query").await;
    let row = cold.iter().find(|i| i["row"]["id"] == q).unwrap();
    assert_eq!(row["version"], 2);
}

#[tokio::test]
async fn an_admin_rename_turns_a_stale_op_into_a_conflict() {
    let s = server();
    let t = s.tenant(small_spec("tnt_q2")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let (_, _, cursor) = s.drain(&alice, None, 500).await;
    let q = s.query_ids(&alice).await[0].clone();

    let r = s
        .post(
            "/admin/queries/rename",
            json!({"tenantId":"tnt_q2","queryId":q,"name_i18n":{"default":"Server name","fa":"نام"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], 2);
    assert!(r.json()["position"].as_u64().is_some());

    let results = s
        .push_ok(&alice, &[op("op_local", &q, 1, "Local name")])
        .await;
    assert_eq!(
        results[0],
        json!({"opId":"op_local","id":q,"ok":false,"status":409,"error":"version_conflict",
               "current":{"version":2,"name_i18n":{"default":"Server name","fa":"نام"}}})
    );
    // "Keep local": a new op on top of the server's version.
    let results = s
        .push_ok(&alice, &[op("op_keep", &q, 2, "Local name")])
        .await;
    assert_eq!(results[0]["version"], 3);
    let (items, _, _) = s.drain(&alice, Some(cursor), 500).await;
    let got = query_items(&items, &q);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["version"], 3);
    assert_eq!(got[0]["row"]["name_i18n"], json!({"default":"Local name"}));

    for (body, status) in [
        (
            json!({"tenantId":"tnt_q2","queryId":"qry_nope","name_i18n":{"default":"x"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"tenantId":"tnt_nope","queryId":q,"name_i18n":{"default":"x"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"tenantId":"tnt_q2","queryId":q,"name_i18n":{"default":""}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"tenantId":"tnt_q2","queryId":q}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = s.post("/admin/queries/rename", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
    }
    let r = s.admin(Method::GET, "/admin/push-log", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_page_on_another_localhost_port_may_push_and_author() {
    let s = server();
    for (path, method) in [
        ("/internal/sync/push", "POST"),
        ("/api/v1/analytics/dashboards", "POST"),
        ("/api/v1/analytics/dashboards/dsh_1", "PUT"),
        ("/api/v1/analytics/dashboards/dsh_1/widgets", "POST"),
    ] {
        let req = Request::builder()
            .method(Method::OPTIONS)
            .uri(path)
            .header("Origin", "http://localhost:5173")
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type,idempotency-key,if-match,x-tenant-id,x-user-id,x-device-id",
            )
            .body(Body::empty())
            .unwrap();
        let r = s.send(req, Some(LOOPBACK.into())).await;
        assert!(r.status.is_success(), "{path}: {}", r.status);
        assert_eq!(
            r.headers["access-control-allow-origin"],
            "http://localhost:5173"
        );
        assert!(r.headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains(method));
        let allowed = r.headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        for h in [
            "content-type",
            "idempotency-key",
            "if-match",
            "authorization",
        ] {
            assert!(allowed.contains(h), "{h} not in {allowed}");
        }
    }

    // The real request carries the allow-origin header too, so the page can read it.
    let t = s.tenant(small_spec("tnt_q3")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let q = s.query_ids(&alice).await[0].clone();
    let ops = vec![op("op_1", &q, 1, "From a page")];
    let r = s
        .call(
            &alice,
            Method::POST,
            "/internal/sync/push",
            Some(json!({ "ops": ops }).to_string()),
            &[
                ("Idempotency-Key", &key_of(&ops)),
                ("Origin", "http://127.0.0.1:8080"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
}
