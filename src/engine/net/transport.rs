//! HTTP as the engine sees it. The fetch implementation lives in `web/`; a scripted one in
//! `testing/scripted_transport.rs` drives native tests.
//!
//! A transport adds the identity headers and asks the host for a bearer token on every
//! request (tokens are never stored); the engine only says what to send.

use serde::Serialize;

/// HTTP method of a request (of a deferred command: `POST` or `PUT`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// A request relative to the server's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    /// Path and query string, e.g. `/internal/sync/pull?pageSize=500`.
    pub path_and_query: String,
    /// Headers beyond identity and authorization (`Idempotency-Key`, `If-Match`).
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<String>,
}

impl HttpRequest {
    pub fn get(path_and_query: impl Into<String>) -> Self {
        HttpRequest {
            method: Method::Get,
            path_and_query: path_and_query.into(),
            headers: Vec::new(),
            body: None,
        }
    }
}

/// Checks that `path_and_query` names exactly one path on the sync origin, so a transport
/// that appends it to its base URL sends the request (and the bearer token) nowhere else
/// (PROTOCOL §9.7). The path must start with one `/` and hold only visible ASCII, with no
/// `\\`, `#`, empty, `.` or `..` segment and no percent-encoded `.`, `/` or `\\`, which URL
/// parsers normalise into another path (`/a/%2e%2e/b` becomes `/b`). The query is free
/// (cursors are percent-encoded there) but for `#`.
pub fn check_path(path_and_query: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("refused to send to {path_and_query:?}: {why}"));
    let (path, _query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if !path_and_query.bytes().all(|b| b.is_ascii_graphic()) || path_and_query.contains('#') {
        return refuse("not visible ASCII, or a fragment");
    }
    let Some(rest) = path.strip_prefix('/') else {
        return refuse("not an absolute path");
    };
    if path.contains('\\') {
        return refuse("a backslash");
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c"].iter().any(|e| lower.contains(e)) {
        return refuse("a percent-encoded dot, slash or backslash");
    }
    if rest
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return refuse("an empty, . or .. segment");
    }
    Ok(())
}

/// A complete response: status, the headers the engine acts on, and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Raw `Retry-After` value (seconds or an HTTP date), if present.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The `error` string of a JSON error body, or `http_<status>`.
    pub fn error_name(&self) -> String {
        match crate::json::from_slice::<serde_json::Value>(&self.body) {
            Ok(serde_json::Value::Object(mut o)) => match o.remove("error") {
                Some(serde_json::Value::String(e)) => e,
                _ => format!("http_{}", self.status),
            },
            _ => format!("http_{}", self.status),
        }
    }
}

/// The request never produced a complete response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection, DNS failure, connection dropped, CORS refusal, or body cut off.
    #[error("network error: {0}")]
    Network(String),
    /// No complete response within the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// The host's token callback failed.
    #[error("could not get a token: {0}")]
    Token(String),
    /// The host's token callback did not settle within the configured time (PROTOCOL §9.9).
    #[error("the host's token callback did not settle in time")]
    TokenTimeout,
}

/// Sends one HTTP request.
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// A borrowed transport is a transport (wrappers such as `GatedTransport` may borrow one).
impl<T: Transport + ?Sized> Transport for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::check_path;

    #[test]
    fn only_plain_paths_on_the_origin_pass() {
        for ok in [
            "/internal/sync/pull?pageSize=500&cursor=a%2Fb%2E",
            "/internal/sync/push",
            "/api/v1/analytics/dashboards/dsh_1/widgets",
        ] {
            assert_eq!(check_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "/api/v1/analytics/dashboards/%2e%2e/%2e%2e/%2e%2e/internal/sync/push",
            "/api/v1/analytics/dashboards/%2E%2E/x",
            "/a/%2fb",
            "/a/%5C..",
            "/a/../b",
            "/a/./b",
            "/a//b",
            "//evil.example/internal/sync/push",
            "http://evil.example/",
            "@evil.example/x",
            "/a\\..\\b",
            "/a b",
            "/a#/../b",
            "",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
