//! Every injected fault does what it says, for exactly the next N pulls of that tenant.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use sync_core::protocol::parse_pull_page;
use sync_server::{router, AppState, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn inject(s: &TestServer, tenant: &str, count: usize, fault: serde_json::Value) {
    let r = s
        .post(
            "/admin/faults",
            json!({"tenantId": tenant, "target": "pull", "count": count, "fault": fault}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn status_rate_limit_and_delay() {
    let s = server();
    let t = s.tenant(small_spec("tnt_f1")).await;
    let other = s.tenant(small_spec("tnt_f1b")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    inject(&s, "tnt_f1", 2, json!({"type":"status","status":500})).await;
    for _ in 0..2 {
        let r = s.pull(&dev, None, 10).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.json().get("items").is_none());
    }
    assert_eq!(
        s.pull(&TestServer::device(&other, 0, "dev_1"), None, 10)
            .await
            .status,
        StatusCode::OK,
        "other tenants unaffected"
    );
    assert_eq!(
        s.pull(&dev, None, 10).await.status,
        StatusCode::OK,
        "only the next N"
    );

    inject(&s, "tnt_f1", 1, json!({"type":"rate_limit","retryAfter":7})).await;
    let r = s.pull(&dev, None, 10).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "7");

    inject(&s, "tnt_f1", 1, json!({"type":"delay","ms":300})).await;
    let started = Instant::now();
    let r = s.pull(&dev, None, 10).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.items().len(), 10, "the real answer after the delay");

    inject(&s, "tnt_f1", 3, json!({"type":"status","status":503})).await;
    assert_eq!(
        s.admin(
            axum::http::Method::DELETE,
            "/admin/faults?tenantId=tnt_f1",
            None
        )
        .await
        .json(),
        json!({"cleared": 3})
    );
    assert_eq!(s.pull(&dev, None, 10).await.status, StatusCode::OK);

    for bad in [
        json!({"type":"explode"}),
        json!({"type":"status","status":42}),
    ] {
        let r = s
            .post(
                "/admin/faults",
                json!({"tenantId":"tnt_f1","target":"pull","count":1,"fault":bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.json()["reason"].is_string());
    }
    for (target, fault) in [
        ("pull", json!({"type":"lose_response"})),
        ("command", json!({"type":"malformed"})),
        ("replies", json!({"type":"truncate"})),
    ] {
        let r = s
            .post(
                "/admin/faults",
                json!({"tenantId":"tnt_f1","target":target,"count":1,"fault":fault}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{target} {fault}");
    }
}

#[tokio::test]
async fn truncated_and_malformed_bodies_are_complete_but_invalid() {
    let s = server();
    let t = s.tenant(small_spec("tnt_f2")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let real = s.pull(&dev, None, 50).await;

    inject(&s, "tnt_f2", 1, json!({"type":"truncate"})).await;
    let r = s.pull(&dev, None, 50).await;
    assert_eq!(r.status, StatusCode::OK);
    let len: usize = r.headers["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, r.body.len(), "Content-Length matches what is sent");
    assert_eq!(r.body.len(), real.body.len() / 2);
    assert_eq!(
        &r.body[..],
        &real.body[..r.body.len()],
        "the first half of the real page"
    );
    assert!(parse_pull_page(&r.body).is_err());

    inject(&s, "tnt_f2", 1, json!({"type":"malformed"})).await;
    let r = s.pull(&dev, None, 50).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&r.body).is_ok(),
        "valid JSON..."
    );
    assert!(
        parse_pull_page(&r.body).is_err(),
        "...that the contract refuses"
    );
}

#[tokio::test]
async fn dropped_connections_end_before_the_body_does() {
    let (state, _) = AppState::new(test_db(), ServerOptions::for_tests());
    let s = TestServer {
        router: router(state.clone()),
        state: state.clone(),
    };
    let t = s.tenant(small_spec("tnt_f3")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    inject(&s, "tnt_f3", 2, json!({"type":"drop"})).await;

    // In process: the body stream fails.
    let req = axum::http::Request::builder()
        .uri("/internal/sync/pull?pageSize=50")
        .header("X-Tenant-Id", &dev.tenant)
        .header("X-User-Id", &dev.user)
        .header("X-Device-Id", &dev.device)
        .header("Authorization", format!("Bearer {}", dev.token))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(s.router.clone(), req)
        .await
        .unwrap();
    assert!(http_body_util::BodyExt::collect(res.into_body())
        .await
        .is_err());

    // Over a real socket: the connection closes before Content-Length bytes arrived.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sync_server::serve(listener, state, None));
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /internal/sync/pull?pageSize=50 HTTP/1.1\r\nHost: {addr}\r\nX-Tenant-Id: {}\r\nX-User-Id: {}\r\nX-Device-Id: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        dev.tenant, dev.user, dev.device, dev.token
    );
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut raw))
        .await
        .unwrap()
        .ok();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{} bytes: {text:?}", raw.len()));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("Content-Length");
    assert!(
        body.len() < declared,
        "got {} of {declared} bytes",
        body.len()
    );
    assert!(!body.is_empty(), "part of the body was sent");
}
