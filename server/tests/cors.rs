//! CORS: a page on another localhost port may call the server and read `Retry-After`.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;

fn preflight(path: &str, origin: &str, method: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(path)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "authorization,x-tenant-id,x-user-id,x-device-id",
        )
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn preflight_from_another_localhost_port_passes() {
    let s = server();
    for (path, method) in [
        ("/internal/sync/pull", "GET"),
        ("/admin/faults", "DELETE"),
        ("/admin/rows", "POST"),
    ] {
        let r = s
            .send(
                preflight(path, "http://127.0.0.1:5173", method),
                Some(LOOPBACK.into()),
            )
            .await;
        assert!(r.status.is_success(), "{path}: {}", r.status);
        assert_eq!(
            r.headers["access-control-allow-origin"],
            "http://127.0.0.1:5173"
        );
        let allowed = r.headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        for h in [
            "authorization",
            "x-tenant-id",
            "x-user-id",
            "x-device-id",
            "content-type",
            "idempotency-key",
            "if-match",
        ] {
            assert!(allowed.contains(h), "{h} not in {allowed}");
        }
        assert!(r.headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains(method));
    }
    let r = s
        .send(
            preflight("/internal/sync/pull", "http://evil.example", "GET"),
            Some(LOOPBACK.into()),
        )
        .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn responses_expose_retry_after_to_the_page() {
    let s = server();
    let t = s.tenant(small_spec("tnt_cors")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let request = |fresh: bool| {
        Request::builder()
            .uri(if fresh {
                "/internal/sync/pull?fresh=true"
            } else {
                "/internal/sync/pull"
            })
            .header("Origin", "http://localhost:8080")
            .header("X-Tenant-Id", &dev.tenant)
            .header("X-User-Id", &dev.user)
            .header("X-Device-Id", &dev.device)
            .header("Authorization", format!("Bearer {}", dev.token))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        s.send(request(true), Some(LOOPBACK.into())).await.status,
        StatusCode::OK
    );
    let r = s.send(request(true), Some(LOOPBACK.into())).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "http://localhost:8080"
    );
    assert!(r.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("retry-after"));
}
