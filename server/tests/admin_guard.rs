//! PROTOCOL §9.10: the admin API needs its own bearer token and refuses cross-site,
//! same-site and rebound (non-loopback `Host`) requests, while a local tool (no Origin,
//! loopback Host), the server's own origin and an explicitly allowed origin get through.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use sync_server::routes::admin::{AdminAccess, OriginPattern};
use sync_server::{ServerOptions, TEST_ADMIN_TOKEN};

fn clock(headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::builder().uri("/admin/clock");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::empty()).unwrap()
}

fn bearer() -> (&'static str, String) {
    ("authorization", format!("Bearer {TEST_ADMIN_TOKEN}"))
}

async fn status(s: &TestServer, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let r = s.send(clock(headers), Some(LOOPBACK.into())).await;
    (r.status, r.text())
}

#[tokio::test]
async fn the_admin_token_is_required() {
    let s = server();
    let (_, auth) = bearer();
    let (st, body) = status(&s, &[]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("unauthorized"));
    for wrong in ["Bearer nope", "Bearer tok_alice", "Basic abc", "Bearer "] {
        assert_eq!(
            status(&s, &[("authorization", wrong)]).await.0,
            StatusCode::UNAUTHORIZED,
            "{wrong}"
        );
    }
    assert_eq!(
        status(&s, &[("authorization", &auth), ("host", "127.0.0.1:28787")])
            .await
            .0,
        StatusCode::OK
    );
    // A user's sync token is no admin token, and the admin token is no sync token.
    let t = s.tenant(small_spec("tnt_guard")).await;
    let mut dev = TestServer::device(&t, 0, "dev_1");
    dev.token = TEST_ADMIN_TOKEN.into();
    assert_eq!(
        s.pull(&dev, None, 10).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn cross_site_requests_are_403() {
    let s = server();
    let (_, auth) = bearer();
    let host = ("host", "127.0.0.1:28787");
    let refused: [&[(&str, &str)]; 7] = [
        &[("origin", "http://evil.example")],
        &[("origin", "http://127.0.0.1:5173")],
        &[("origin", "null")],
        &[("origin", "https://127.0.0.1:28787")],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[
            ("origin", "http://127.0.0.1:28787"),
            ("sec-fetch-site", "cross-site"),
        ],
    ];
    for extra in refused {
        let mut headers = vec![("authorization", auth.as_str()), host];
        headers.extend_from_slice(extra);
        let (st, body) = status(&s, &headers).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{extra:?}: {body}");
        assert!(body.contains("forbidden"), "{body}");
    }
    // Without a token too: the origin is refused before the token is looked at.
    let (st, _) = status(&s, &[host, ("origin", "http://evil.example")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The server's own origin, and a browser's same-origin or user-typed navigation, pass.
    let passing: [&[(&str, &str)]; 3] = [
        &[
            ("origin", "http://127.0.0.1:28787"),
            ("sec-fetch-site", "same-origin"),
        ],
        &[("sec-fetch-site", "none")],
        &[],
    ];
    for extra in passing {
        let mut headers = vec![("authorization", auth.as_str()), host];
        headers.extend_from_slice(extra);
        assert_eq!(status(&s, &headers).await.0, StatusCode::OK, "{extra:?}");
    }
}

#[tokio::test]
async fn a_rebound_host_is_403() {
    let s = server();
    let (_, auth) = bearer();
    for host in [
        "evil.example",
        "evil.example:28787",
        "10.0.0.1:28787",
        "localhost.evil.example",
    ] {
        let (st, body) = status(&s, &[("authorization", &auth), ("host", host)]).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{host}: {body}");
    }
    // DNS rebinding makes the attacker's page same-origin with its own name: still refused.
    let (st, _) = status(
        &s,
        &[
            ("authorization", &auth),
            ("host", "evil.example:28787"),
            ("origin", "http://evil.example:28787"),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // HTTP/2 carries the host as the request target's authority instead of a Host header.
    let req = Request::builder()
        .uri("http://evil.example:28787/admin/clock")
        .header("authorization", &auth)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        s.send(req, Some(LOOPBACK.into())).await.status,
        StatusCode::FORBIDDEN
    );
    for host in ["localhost:28787", "[::1]:28787", "127.0.0.1"] {
        assert_eq!(
            status(&s, &[("authorization", &auth), ("host", host)])
                .await
                .0,
            StatusCode::OK,
            "{host}"
        );
    }
}

#[tokio::test]
async fn an_allowed_origin_may_call_from_another_port() {
    let access = AdminAccess::new(
        TEST_ADMIN_TOKEN,
        vec![OriginPattern::parse("http://127.0.0.1:*").unwrap()],
    );
    let s = server_with(
        test_db(),
        ServerOptions {
            admin: Some(access),
            ..ServerOptions::for_tests()
        },
    );
    let (_, auth) = bearer();
    let from = |origin| {
        vec![
            ("authorization", auth.clone()),
            ("host", "127.0.0.1:28787".to_string()),
            ("origin", origin),
            ("sec-fetch-site", "same-site".to_string()),
        ]
    };
    let call = |h: Vec<(&'static str, String)>| {
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let req = clock(&h);
        let s = &s;
        async move { s.send(req, Some(LOOPBACK.into())).await.status }
    };
    assert_eq!(
        call(from("http://127.0.0.1:41234".into())).await,
        StatusCode::OK
    );
    assert_eq!(
        call(from("http://localhost:41234".into())).await,
        StatusCode::FORBIDDEN,
        "only the listed origins"
    );
    let mut no_token = from("http://127.0.0.1:41234".into());
    no_token.remove(0);
    assert_eq!(call(no_token).await, StatusCode::UNAUTHORIZED);
}
