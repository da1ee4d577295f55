//! CORS: a page served from any localhost port (the demo, browser tests) may call the
//! server, send the identity and auth headers, and read `Retry-After`.

use axum::http::{header, HeaderName, HeaderValue, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// True for `http://localhost[:port]` and `http://127.0.0.1[:port]`.
pub fn is_local_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    (host == "localhost" || host == "127.0.0.1") && port_ok
}

pub fn layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| is_local_origin(origin)))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-tenant-id"),
            HeaderName::from_static("x-user-id"),
            HeaderName::from_static("x-device-id"),
            HeaderName::from_static("idempotency-key"),
            header::IF_MATCH,
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_origins_only() {
        for ok in [
            "http://localhost:5173",
            "http://127.0.0.1:8000",
            "http://localhost",
        ] {
            assert!(is_local_origin(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "https://localhost:1",
            "http://evil.com",
            "http://localhost.evil.com:80",
            "http://127.0.0.1:",
            "http://127.0.0.1:80/x",
        ] {
            assert!(!is_local_origin(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
