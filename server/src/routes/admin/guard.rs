//! Who may call the admin API (PROTOCOL §9.10). The admin API can rewrite any tenant, so
//! being reachable on loopback is not enough: a web page the operator happens to have open
//! can send requests to `127.0.0.1` too (CSRF), and a hostile DNS name can be rebound to
//! `127.0.0.1` so the browser treats the server as that page's own origin (DNS rebinding).
//!
//! Checks, in order, each answered before the next is looked at:
//! 1. the peer is loopback, else `404` (a server exposed by mistake does not reveal it);
//! 2. the `Host` header (or the HTTP/2 authority), when present, names a loopback host,
//!    else `403` (rebinding);
//! 3. an `Origin` header is the server's own origin (`http://` + `Host`) or in the
//!    allowed list, else `403` (cross-site requests);
//! 4. `Sec-Fetch-Site: cross-site` or `same-site` is refused with `403` unless the
//!    request's `Origin` is in the allowed list (the operator vouched for that page);
//! 5. `Authorization: Bearer <admin token>`, else `401`.

use crate::error::json_response;
use crate::users::hex;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Shortest admin token accepted on the command line: long enough not to be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// An allowed `Origin`: exact, or any port of one scheme and host (`http://127.0.0.1:*`),
/// because test runners serve their pages from a random port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    Exact(String),
    AnyPort(String),
}

impl OriginPattern {
    /// Parses `scheme://host[:port]` or `scheme://host:*`.
    pub fn parse(raw: &str) -> Result<OriginPattern, String> {
        let bad = || format!("admin origin `{raw}` is not scheme://host[:port] or scheme://host:*");
        let (scheme, rest) = raw.split_once("://").ok_or_else(bad)?;
        if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains('/') {
            return Err(bad());
        }
        match rest.strip_suffix(":*") {
            Some(host) if !host.is_empty() => {
                Ok(OriginPattern::AnyPort(format!("{scheme}://{host}")))
            }
            Some(_) => Err(bad()),
            None => Ok(OriginPattern::Exact(raw.to_string())),
        }
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Exact(o) => o == origin,
            OriginPattern::AnyPort(base) => origin
                .strip_prefix(base.as_str())
                .and_then(|r| r.strip_prefix(':'))
                .is_some_and(|p| {
                    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
                }),
        }
    }
}

/// The admin API's credentials and allowed origins.
#[derive(Clone)]
pub struct AdminAccess {
    token_sha256: String,
    allowed_origins: Vec<OriginPattern>,
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccess")
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl AdminAccess {
    /// Only a digest of the token is kept, and comparing digests leaks nothing useful
    /// through timing.
    pub fn new(token: &str, allowed_origins: Vec<OriginPattern>) -> AdminAccess {
        AdminAccess {
            token_sha256: hex(&Sha256::digest(token.as_bytes())),
            allowed_origins,
        }
    }

    fn allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|p| p.matches(origin))
    }

    /// Why a request is refused (status, error, reason), or `None` when it may pass.
    /// `authority` is the request target's authority, which HTTP/2 sends instead of `Host`.
    pub fn refusal(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        authority: Option<&str>,
    ) -> Option<(StatusCode, &'static str, &'static str)> {
        let forbidden = |reason| Some((StatusCode::FORBIDDEN, "forbidden", reason));
        if !peer.is_some_and(is_loopback) {
            return Some((StatusCode::NOT_FOUND, "not_found", "not found"));
        }
        let text = |name| headers.get(name).map(|v: &HeaderValue| v.to_str().ok());
        let host = text(header::HOST).or(authority.map(Some));
        if let Some(host) = host {
            if !host.is_some_and(is_loopback_host) {
                return forbidden("Host is not a loopback host");
            }
        }
        let origin = text(header::ORIGIN);
        let vouched = origin.flatten().is_some_and(|o| self.allowed(o));
        if let Some(origin) = origin {
            let own = match (origin, host.flatten()) {
                (Some(o), Some(h)) => o.strip_prefix("http://") == Some(h),
                _ => false,
            };
            if !own && !vouched {
                return forbidden("cross-site Origin");
            }
        }
        if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
            let cross = !matches!(site, Some("same-origin") | Some("none"));
            if cross && !vouched {
                return forbidden("Sec-Fetch-Site is not same-origin");
            }
        }
        let presented =
            crate::auth::bearer_token(headers).map(|t| hex(&Sha256::digest(t.as_bytes())));
        if presented.as_deref() != Some(self.token_sha256.as_str()) {
            return Some((
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "admin token required",
            ));
        }
        None
    }
}

/// A loopback peer: `127.0.0.0/8`, `::1`, or an IPv4-mapped loopback address.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `localhost`, `127.0.0.0/8` or `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(is_loopback)
}

/// The middleware in front of every admin route.
pub async fn guard(State(access): State<Arc<AdminAccess>>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let authority = req.uri().authority().map(|a| a.as_str());
    match access.refusal(peer, req.headers(), authority) {
        None => next.run(req).await,
        Some((status, error, reason)) => {
            let body = if status == StatusCode::NOT_FOUND {
                serde_json::json!({"error": error})
            } else {
                serde_json::json!({"error": error, "reason": reason})
            };
            let mut res = json_response(status, &body);
            if status == StatusCode::UNAUTHORIZED {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"sync-server admin\""),
                );
            }
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "127.0.0.1:8787",
            "localhost",
            "LOCALHOST:1",
            "[::1]:80",
            "[::1]",
            "127.1.2.3",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "evil.com:8787",
            "10.0.0.1:80",
            "[::2]:80",
            "[::1]x",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn origin_patterns() {
        let any = OriginPattern::parse("http://127.0.0.1:*").unwrap();
        assert!(any.matches("http://127.0.0.1:5173"));
        assert!(!any.matches("http://127.0.0.1"));
        assert!(!any.matches("http://127.0.0.1:80.evil.com"));
        let exact = OriginPattern::parse("http://localhost:5173").unwrap();
        assert!(exact.matches("http://localhost:5173"));
        assert!(!exact.matches("http://localhost:5174"));
        for bad in ["localhost", "ftp://x", "http://", "http://:*", "http://a/b"] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
