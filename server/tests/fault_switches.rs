//! The admin switches the client's e2e tests drive (PROTOCOL §9.2, §9.3, §9.1): whole-request
//! push answers the contract names nowhere, a pull `403` naming kinds, and a row removed
//! without a tombstone, which only a cold pull (a full replacement) can take off a device.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn respond_answers_the_next_pushes_with_exactly_that_and_applies_nothing() {
    let s = server();
    let t = s.tenant(small_spec("tnt_resp")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let q = s.query_ids(&dev).await[0].clone();
    let html = "<!doctype html><title>Not Found</title><h1>404</h1>";
    let cases = [
        (
            json!({"type":"respond","status":404,"body":html,"contentType":"text/html"}),
            404,
            "text/html",
            html.to_string(),
        ),
        (
            json!({"type":"respond","status":405,"body":""}),
            405,
            "text/plain; charset=utf-8",
            String::new(),
        ),
        (
            json!({"type":"respond","status":413,"body":"Payload Too Large"}),
            413,
            "text/plain; charset=utf-8",
            "Payload Too Large".into(),
        ),
        (
            json!({"type":"respond","status":400,"body":{"error":"too_many_ops","max":50}}),
            400,
            "application/json",
            r#"{"error":"too_many_ops","max":50}"#.into(),
        ),
        (
            json!({"type":"respond","status":415,"body":{"error":"unsupported_media_type"}}),
            415,
            "application/json",
            r#"{"error":"unsupported_media_type"}"#.into(),
        ),
        (
            json!({"type":"respond","status":200,"body":"garbage{","contentType":"application/json"}),
            200,
            "application/json",
            "garbage{".into(),
        ),
        (
            json!({"type":"respond","status":200,"body":{"results":[]}}),
            200,
            "application/json",
            r#"{"results":[]}"#.into(),
        ),
    ];
    for (i, (fault, status, ct, body)) in cases.into_iter().enumerate() {
        s.inject("tnt_resp", "push", fault.clone()).await;
        let r = s
            .push(&dev, &[op(&format!("op_r{i}"), &q, 1, "Renamed")])
            .await;
        assert_eq!(r.status.as_u16(), status, "{fault}");
        assert_eq!(r.headers["content-type"], ct, "{fault}");
        assert_eq!(r.text(), body, "{fault}");
        assert_eq!(
            r.headers["content-length"].to_str().unwrap(),
            body.len().to_string()
        );
        assert_eq!(
            s.applied("tnt_resp", &format!("op_r{i}")).await,
            0,
            "{fault}"
        );
    }
    assert_eq!(s.row("tnt_resp", "Query", &q).await["version"], 1);
    let results = s.push_ok(&dev, &[op("op_after", &q, 1, "Renamed")]).await;
    assert_eq!(results[0]["ok"], true, "only the next N");
    // `count` answers the next N the same way; other targets take it too.
    let r = s
        .post(
            "/admin/faults",
            json!({"tenantId":"tnt_resp","target":"pull","count":2,
                   "fault":{"type":"respond","status":502,"body":"<html>Bad gateway</html>","contentType":"text/html"}}),
        )
        .await;
    assert_eq!(r.json()["pending"], 2);
    for _ in 0..2 {
        assert_eq!(s.pull(&dev, None, 5).await.status, StatusCode::BAD_GATEWAY);
    }
    assert_eq!(s.pull(&dev, None, 5).await.status, StatusCode::OK);
}

#[tokio::test]
async fn respond_faults_are_checked() {
    let s = server();
    s.tenant(small_spec("tnt_resp2")).await;
    for fault in [
        json!({"type":"respond","status":99,"body":""}),
        json!({"type":"respond","status":101,"body":""}),
        json!({"type":"respond","status":600,"body":""}),
        json!({"type":"respond","status":200,"body":"","contentType":"bad\nvalue"}),
        json!({"type":"respond","status":200}),
    ] {
        let r = s
            .post(
                "/admin/faults",
                json!({"tenantId":"tnt_resp2","target":"push","fault":fault}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{fault}: {}", r.text());
    }
}

#[tokio::test]
async fn purge_removes_a_dashboard_without_a_tombstone() {
    let s = server();
    let t = s.tenant(small_spec("tnt_purge")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let (items, _, cursor) = s.drain(&dev, None, 2000).await;
    let dash = items
        .iter()
        .find(|i| i["kind"] == "Dashboard")
        .map(|i| i["row"]["id"].as_str().unwrap().to_string())
        .unwrap();
    let widgets: Vec<String> = items
        .iter()
        .filter(|i| i["kind"] == "Widget" && i["row"]["dashboardId"] == dash.as_str())
        .map(|i| i["row"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!widgets.is_empty());

    // What the e2e test does: revoke, purge, restore.
    let ids = json!({"tenantId":"tnt_purge","userId":dev.user});
    assert_eq!(
        s.post("/admin/revoke", ids.clone()).await.status,
        StatusCode::OK
    );
    let r = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_purge","kind":"Dashboard","op":"purge","id":dash}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["purged"].as_u64().unwrap() > widgets.len() as u64);
    for (kind, key) in
        std::iter::once(("Dashboard", &dash)).chain(widgets.iter().map(|w| ("Widget", w)))
    {
        let r = s
            .admin(
                axum::http::Method::GET,
                &format!("/admin/rows?tenantId=tnt_purge&kind={kind}&key={key}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{kind} {key} is gone");
    }
    assert_eq!(s.post("/admin/restore", ids).await.status, StatusCode::OK);

    // With the old cursor: nothing names the dashboard or its widgets (no tombstone).
    let (delta, _, _) = s.drain(&dev, Some(cursor), 2000).await;
    let mentions = |i: &serde_json::Value, key: &str| {
        i["id"] == key || i["row"]["id"] == key || i["row"]["widgetId"] == key
    };
    assert!(
        !delta
            .iter()
            .any(|i| i["op"] == "tombstone" && mentions(i, &dash)),
        "no tombstone for a purged row"
    );
    // A cold pull does not send them: the client's full replacement removes them.
    let (cold, _, _) = s.drain(&dev, None, 2000).await;
    for key in std::iter::once(&dash).chain(&widgets) {
        assert!(
            !cold.iter().any(|i| mentions(i, key)),
            "{key} not in a cold pull"
        );
    }
    let r = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_purge","kind":"Dashboard","op":"purge","id":dash}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_purge","kind":"WidgetSnapshot","op":"purge","id":"x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn revoke_with_kinds_answers_403_naming_them_on_pull_and_push() {
    let s = server();
    let t = s.tenant(small_spec("tnt_kinds")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let q = s.query_ids(&dev).await[0].clone();
    let r = s
        .post(
            "/admin/revoke",
            json!({"tenantId":"tnt_kinds","userId":dev.user,"kinds":["Dashboard","Widget"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let forbidden = json!({"error":"forbidden","kinds":["Dashboard","Widget"]});
    let r = s.pull(&dev, None, 10).await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::FORBIDDEN, forbidden.clone())
    );
    let r = s.push(&dev, &[op("op_k", &q, 1, "X")]).await;
    assert_eq!((r.status, r.json()), (StatusCode::FORBIDDEN, forbidden));
    assert_eq!(s.applied("tnt_kinds", "op_k").await, 0);
    let other = TestServer::device(&t, 1, "dev_1");
    assert_eq!(
        s.pull(&other, None, 10).await.status,
        StatusCode::OK,
        "only that user"
    );
    s.post(
        "/admin/restore",
        json!({"tenantId":"tnt_kinds","userId":dev.user}),
    )
    .await;
    assert_eq!(s.pull(&dev, None, 10).await.status, StatusCode::OK);
}
