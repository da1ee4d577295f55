//! The admin API: off without `--admin`, 404 to non-loopback peers, 400 with a reason on
//! bad input, and every write shows up in the next incremental pull — just that write.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Instant;
use sync_server::{ServerOptions, TEST_ADMIN_TOKEN};

#[tokio::test]
async fn admin_is_404_without_the_flag_and_for_remote_peers() {
    let off = server_with(
        test_db(),
        ServerOptions {
            admin: None,
            ..ServerOptions::for_tests()
        },
    );
    let r = off.post("/admin/tenants", small_spec("tnt_x")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        off.admin(Method::GET, "/admin/clock", None).await.status,
        StatusCode::NOT_FOUND
    );

    let on = server();
    let remote: SocketAddr = ([10, 1, 2, 3], 4000).into();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/admin/tenants")
        .header("content-type", "application/json")
        .body(Body::from(small_spec("tnt_x").to_string()))
        .unwrap();
    assert_eq!(
        on.send(req, Some(remote)).await.status,
        StatusCode::NOT_FOUND
    );
    let req = Request::builder()
        .uri("/admin/clock")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        on.send(req, None).await.status,
        StatusCode::NOT_FOUND,
        "no peer address, no admin"
    );
    let v6: SocketAddr = "[::1]:4000".parse().unwrap();
    let req = Request::builder()
        .uri("/admin/clock")
        .header("authorization", format!("Bearer {TEST_ADMIN_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(on.send(req, Some(v6)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_is_400_with_a_reason() {
    let s = server();
    s.tenant(small_spec("tnt_bad")).await;
    let cases = [
        ("/admin/tenants", json!({"tenantId": "nope"})),
        ("/admin/tenants", json!({"tenantId": "tnt_ok", "users": 0})),
        (
            "/admin/tenants",
            json!({"tenantId": "tnt_ok", "colour": "red"}),
        ),
        (
            "/admin/rows",
            json!({"tenantId": "tnt_bad", "kind": "Gadget", "op": "upsert", "row": {}}),
        ),
        (
            "/admin/rows",
            json!({"tenantId": "tnt_bad", "kind": "Dashboard", "op": "upsert", "row": {"id": "dsh_1"}}),
        ),
        (
            "/admin/rows",
            json!({"tenantId": "tnt_bad", "kind": "Dashboard", "op": "upsert", "row": {"id": "dsh_1", "name_i18n": {"default": "x"}, "scope": "galaxy"}}),
        ),
        (
            "/admin/rows",
            json!({"tenantId": "tnt_bad", "kind": "Dashboard", "op": "explode", "id": "dsh_1"}),
        ),
        (
            "/admin/rows",
            json!({"tenantId": "tnt_bad", "kind": "Widget", "op": "tombstone"}),
        ),
        (
            "/admin/rows",
            json!({"tenantId": "tnt_bad", "kind": "DqAlertOpen", "op": "upsert", "row": {"id": "dqc_1", "checkKey": "c", "severity": "meh", "observedAt": "2026-01-01T00:00:00Z"}}),
        ),
        (
            "/admin/snapshots",
            json!({"tenantId": "tnt_bad", "widgetId": "wid_1", "rows": [], "generatedAt": "yesterday"}),
        ),
        ("/admin/clock", json!({"advanceMinutes": -5})),
    ];
    for (path, body) in cases {
        let r = s.post(path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            r.text()
        );
        assert!(
            r.json()["reason"].as_str().is_some_and(|s| !s.is_empty()),
            "{}",
            r.text()
        );
    }
    let r = s.admin(Method::POST, "/admin/rows", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.admin(Method::GET, "/admin/rows?tenantId=tnt_bad", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.post("/admin/tenants", small_spec("tnt_bad")).await.status,
        StatusCode::CONFLICT
    );
    let r = s.post("/admin/rows", json!({"tenantId": "tnt_none", "kind": "Projection", "op": "upsert", "row": {"key": "k"}})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn incremental_pull_after_admin_writes_returns_just_those() {
    let s = server();
    let t = s.tenant(small_spec("tnt_inc")).await;
    let alice = TestServer::device(&t, 0, "dev_1");
    let (cold, _, cursor) = s.drain(&alice, None, 500).await;
    let widget = cold.iter().find(|i| i["kind"] == "Widget").unwrap()["row"].clone();
    let wid = widget["id"].as_str().unwrap().to_string();
    let dashboard = widget["dashboardId"].as_str().unwrap().to_string();

    // Upsert: a new projection state.
    let r = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_inc","kind":"Projection","op":"upsert",
        "row":{"key":"fact_reservation","lastSuccessAt":"2026-05-01T10:00:00Z","lagMinutes":2}}),
        )
        .await
        .json();
    assert_eq!(r["version"], json!(2));
    let (items, _, cursor) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(
        items,
        vec![json!({"kind":"Projection","op":"upsert","version":2,
        "row":{"key":"fact_reservation","lastSuccessAt":"2026-05-01T10:00:00Z","lagMinutes":2}})]
    );
    let stored = s
        .admin(
            Method::GET,
            "/admin/rows?tenantId=tnt_inc&kind=Projection&key=fact_reservation",
            None,
        )
        .await
        .json();
    assert_eq!(
        (stored["version"].clone(), stored["deleted"].clone()),
        (json!(2), json!(false))
    );

    // Snapshot append.
    let r = s.post("/admin/snapshots", json!({"tenantId":"tnt_inc","widgetId":wid,"rows":[{"value":81.5,"delta":1.0,"unit":"percent"}]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (items, _, cursor) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["op"], "append");
    assert_eq!(
        items[0]["row"]["rows"],
        json!([{"value":81.5,"delta":1.0,"unit":"percent"}])
    );
    assert_eq!(items[0]["row"]["paramsHash"], widget["paramsHash"]);
    // Appends stay chronological: an older generatedAt is refused.
    let r = s.post("/admin/snapshots", json!({"tenantId":"tnt_inc","widgetId":wid,"rows":[],"generatedAt":"2020-01-01T00:00:00Z"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Two quick appends both succeed, in order.
    for _ in 0..2 {
        assert_eq!(
            s.post(
                "/admin/snapshots",
                json!({"tenantId":"tnt_inc","widgetId":wid,"rows":[]})
            )
            .await
            .status,
            StatusCode::OK
        );
    }
    let (items, _, cursor) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(items.len(), 2);
    assert!(items[0]["row"]["generatedAt"].as_str() < items[1]["row"]["generatedAt"].as_str());

    // Tombstone of a widget.
    let r = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_inc","kind":"Widget","op":"tombstone","id":wid}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (items, _, cursor) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(
        items,
        vec![json!({"kind":"Widget","op":"tombstone","id":wid})]
    );
    assert_eq!(
        s.post(
            "/admin/snapshots",
            json!({"tenantId":"tnt_inc","widgetId":wid,"rows":[]})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post(
            "/admin/rows",
            json!({"tenantId":"tnt_inc","kind":"Widget","op":"tombstone","id":wid})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Tombstone of a dashboard takes its remaining widgets with it.
    s.post(
        "/admin/rows",
        json!({"tenantId":"tnt_inc","kind":"Dashboard","op":"tombstone","id":dashboard}),
    )
    .await;
    let (items, _, _) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(
        items[0],
        json!({"kind":"Dashboard","op":"tombstone","id":dashboard})
    );
    let remaining = cold
        .iter()
        .filter(|i| {
            i["kind"] == "Widget"
                && i["row"]["dashboardId"] == dashboard.as_str()
                && i["row"]["id"] != wid.as_str()
        })
        .count();
    assert_eq!(items.len(), 1 + remaining);
    assert!(items[1..]
        .iter()
        .all(|i| i["kind"] == "Widget" && i["op"] == "tombstone"));
    // A fresh device never hears of any of it.
    let (fresh, _, _) = s.drain(&alice.other_device("dev_new"), None, 500).await;
    assert!(!serde_json::to_string(&fresh).unwrap().contains(&dashboard));
}

#[tokio::test]
async fn alerts_age_out_and_resolved_alerts_are_tombstoned() {
    let s = server();
    let t = s.tenant(json!({"tenantId":"tnt_dq","users":1,"dashboards":1,"widgetsPerDashboard":1,"snapshotsPerWidget":1,"alerts":6,"queries":0})).await;
    assert_eq!(
        t["counts"]["DqAlertOpen"],
        json!(4),
        "2 of 6 seeded alerts are older than 7 days"
    );
    let alice = TestServer::device(&t, 0, "dev_1");
    let (cold, _, cursor) = s.drain(&alice, None, 500).await;
    let alerts: Vec<Value> = cold
        .iter()
        .filter(|i| i["kind"] == "DqAlertOpen")
        .cloned()
        .collect();
    assert_eq!(alerts.len(), 4);

    let first = alerts[0]["row"]["id"].as_str().unwrap().to_string();
    let mut resolved = s
        .admin(
            Method::GET,
            &format!("/admin/rows?tenantId=tnt_dq&kind=DqAlertOpen&key={first}"),
            None,
        )
        .await
        .json()["row"]
        .clone();
    resolved["status"] = json!("resolved");
    s.post(
        "/admin/rows",
        json!({"tenantId":"tnt_dq","kind":"DqAlertOpen","op":"upsert","row":resolved}),
    )
    .await;
    let (items, _, cursor) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(
        items,
        vec![json!({"kind":"DqAlertOpen","op":"tombstone","id":first})]
    );

    // Eight days later every remaining alert is older than 7 days.
    s.post("/admin/clock", json!({"advanceMinutes": 8 * 24 * 60}))
        .await;
    let (items, _, _) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(items.len(), 3);
    assert!(items
        .iter()
        .all(|i| i["kind"] == "DqAlertOpen" && i["op"] == "tombstone"));
}

#[tokio::test]
async fn a_twenty_thousand_item_tenant_is_created_quickly_and_drains() {
    // 28 dashboards: alice (first user) sees all but the 3 front-desk role dashboards.
    let s = server();
    let started = Instant::now();
    let t = s
        .tenant(
            json!({"tenantId":"tnt_20k","users":2,"dashboards":28,"widgetsPerDashboard":8,
                            "snapshotsPerWidget":100,"alerts":10,"queries":5,"seed":1}),
        )
        .await;
    let created = started.elapsed();
    let total: u64 = t["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(total >= 20_000, "{total}");
    assert!(created.as_secs_f64() < 30.0, "creating took {created:?}");
    let started = Instant::now();
    let (items, pages, _) = s
        .drain(&TestServer::device(&t, 0, "dev_1"), None, 2000)
        .await;
    eprintln!(
        "created {total} items in {created:?}; alice drained {} items in {pages} pages in {:?}",
        items.len(),
        started.elapsed()
    );
    assert!(items.len() >= 20_000);
}
