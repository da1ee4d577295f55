//! The error table of PROTOCOL §3 as the server answers it: 400 bad_identity (before the
//! token is looked at), 401 unauthorized, 403 forbidden (+ kinds), 429 + Retry-After.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;

async fn pull_with(s: &TestServer, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::builder().uri("/internal/sync/pull");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    s.send(req.body(Body::empty()).unwrap(), Some(LOOPBACK.into()))
        .await
}

#[tokio::test]
async fn identity_is_checked_before_the_token() {
    let s = server();
    s.tenant(small_spec("tnt_err")).await;
    let full = [
        ("X-Tenant-Id", "tnt_err"),
        ("X-User-Id", "usr_alice"),
        ("X-Device-Id", "dev_1"),
        ("Authorization", "Bearer wrong"),
    ];
    for broken in [
        vec![full[1], full[2], full[3]],
        vec![full[0], full[2], full[3]],
        vec![full[0], full[1], full[3]],
        vec![("X-Tenant-Id", "demo"), full[1], full[2], full[3]],
        vec![full[0], ("X-User-Id", "usr_a:b"), full[2], full[3]],
        vec![full[0], full[1], ("X-Device-Id", "laptop"), full[3]],
    ] {
        let r = pull_with(&s, &broken).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{broken:?}");
        assert_eq!(r.json()["error"], "bad_identity");
    }
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let s = server();
    let t = s.tenant(small_spec("tnt_401")).await;
    let alice = TestServer::device(&t, 0, "dev_1");
    let bob = TestServer::device(&t, 1, "dev_1");
    let cases = [
        Device {
            token: "nope".into(),
            ..alice.clone()
        },
        Device {
            token: bob.token.clone(),
            ..alice.clone()
        },
        Device {
            user: "usr_nobody".into(),
            ..alice.clone()
        },
        Device {
            tenant: "tnt_other".into(),
            ..alice.clone()
        },
    ];
    for dev in cases {
        let r = s.pull(&dev, None, 10).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{dev:?}");
        assert_eq!(r.json(), json!({"error": "unauthorized"}));
    }
    let r = pull_with(
        &s,
        &[
            ("X-Tenant-Id", "tnt_401"),
            ("X-User-Id", "usr_alice"),
            ("X-Device-Id", "dev_1"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "missing Authorization");
    assert_eq!(s.pull(&alice, None, 10).await.status, StatusCode::OK);
}

#[tokio::test]
async fn revoked_users_get_403_with_the_named_kinds_until_restored() {
    let s = server();
    let t = s.tenant(small_spec("tnt_403")).await;
    let alice = TestServer::device(&t, 0, "dev_1");
    let (_, _, cursor) = s.drain(&alice, None, 500).await;

    s.post(
        "/admin/revoke",
        json!({"tenantId":"tnt_403","userId":"usr_alice"}),
    )
    .await;
    let r = s.pull(&alice, Some(&cursor), 10).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json(), json!({"error": "forbidden"}));

    s.post(
        "/admin/revoke",
        json!({"tenantId":"tnt_403","userId":"usr_alice","kinds":["Query","Dashboard"]}),
    )
    .await;
    let r = s.pull(&alice, None, 10).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json(),
        json!({"error": "forbidden", "kinds": ["Query", "Dashboard"]})
    );
    // Other users are unaffected.
    assert_eq!(
        s.pull(&TestServer::device(&t, 1, "dev_1"), None, 10)
            .await
            .status,
        StatusCode::OK
    );

    assert_eq!(
        s.post(
            "/admin/restore",
            json!({"tenantId":"tnt_403","userId":"usr_alice"})
        )
        .await
        .json(),
        json!({"revoked": false})
    );
    // A device that kept its cursor refills what the revocation made it wipe.
    let (items, _, _) = s.drain(&alice, Some(cursor), 500).await;
    let resets: Vec<&str> = items
        .iter()
        .filter(|i| i["op"] == "reset")
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(resets, ["Dashboard", "Query"]);
    assert!(items
        .iter()
        .any(|i| i["kind"] == "Query" && i["op"] == "upsert"));
    assert_eq!(
        s.post(
            "/admin/revoke",
            json!({"tenantId":"tnt_403","userId":"usr_ghost"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn fresh_is_rate_limited_per_device_with_retry_after() {
    let s = server();
    let t = s.tenant(small_spec("tnt_429")).await;
    let alice = TestServer::device(&t, 0, "dev_1");
    assert_eq!(
        s.pull_query(&alice, "?fresh=true").await.status,
        StatusCode::OK
    );
    let r = s.pull_query(&alice, "?fresh=true").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "Retry-After {wait}");
    assert!(r.json().get("items").is_none(), "no data with a 429");
    // Without fresh, and on another device, pulls go on.
    assert_eq!(s.pull_query(&alice, "").await.status, StatusCode::OK);
    assert_eq!(
        s.pull_query(&alice.other_device("dev_2"), "?fresh=true")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn healthz_and_unknown_paths() {
    let s = server();
    let r = s.admin(axum::http::Method::GET, "/healthz", None).await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ok"));
    let r = s.admin(axum::http::Method::GET, "/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({"error": "not_found"}));
}
