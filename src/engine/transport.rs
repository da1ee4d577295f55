//! HTTP as the engine sees it. The fetch implementation lives in `web/`; a scripted one in
//! `scripted_transport.rs` drives native tests.
//!
//! A transport adds the identity headers and asks the host for a bearer token on every
//! request (tokens are never stored); the engine only says what to send.

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A complete response: status, the headers the engine acts on, and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Raw `Retry-After` value (seconds or an HTTP date), if present.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
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
