//! Fault injection for tests (`POST /admin/faults`): the next N responses of a target for
//! a tenant are replaced or mangled, so clients can prove they survive 500s, 429s, slow
//! answers, truncated or malformed bodies, dropped connections and — on the write side —
//! requests that were applied but whose answer never arrived.

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// `GET /internal/sync/pull`.
    Pull,
    /// `POST /internal/sync/push`.
    Push,
    /// The authoring endpoints under `/api/v1/analytics/dashboards`.
    Command,
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Answer with this status (and the usual error body for 401/403/410, a generic one otherwise).
    Status { status: u16 },
    /// `429` with `Retry-After: retryAfter` seconds.
    RateLimit {
        #[serde(rename = "retryAfter")]
        retry_after: u64,
    },
    /// Wait, then give the real answer.
    Delay { ms: u64 },
    /// `200` with the first half of the real body and a matching Content-Length.
    Truncate,
    /// `200` with a well-formed JSON body the contract does not allow.
    Malformed,
    /// Start the real body, then close the connection before it is complete.
    Drop,
    /// Answer with exactly this status, body and content type, applying nothing: the
    /// answers the contract names nowhere (a proxy's HTML 404, a 405, a 413, a `400
    /// too_many_ops`, a 415, a 200 whose body is garbage or a results list of the wrong
    /// length), which a client must survive without losing queued work (PROTOCOL §9.3).
    /// A string `body` is sent as is; any other JSON value is sent serialized.
    Respond {
        status: u16,
        body: serde_json::Value,
        /// Default: `application/json` for a JSON value, `text/plain` for a string.
        #[serde(rename = "contentType", default)]
        content_type: Option<String>,
    },
    /// Write endpoints only: apply the request fully (its answer is stored under its
    /// `Idempotency-Key`), then answer `502 {"error":"response_lost"}` with
    /// `Connection: close` instead, so the client must retry with the same key.
    LoseResponse,
}

impl Fault {
    /// Checks the fault's parameters and that it makes sense for `target`: `lose_response`
    /// needs a write to apply, and a "malformed" authoring answer cannot exist (the client
    /// reads nothing from a 2xx command answer, so it would turn into a silent loss).
    pub fn validate(&self, target: FaultTarget) -> Result<(), ApiError> {
        match (self, target) {
            (Fault::LoseResponse, FaultTarget::Pull) => {
                return Err(ApiError::BadRequest(
                    "lose_response is for the push and command targets".into(),
                ))
            }
            (Fault::Malformed, FaultTarget::Command) => {
                return Err(ApiError::BadRequest(
                    "malformed is for the pull and push targets".into(),
                ))
            }
            _ => {}
        }
        match self {
            Fault::Status { status } if !(100..=599).contains(status) => Err(ApiError::BadRequest(
                "status must be between 100 and 599".into(),
            )),
            Fault::Delay { ms } if *ms > 120_000 => {
                Err(ApiError::BadRequest("delay is at most 120000 ms".into()))
            }
            Fault::Respond { status, .. } if !(200..=599).contains(status) => Err(
                ApiError::BadRequest("respond status must be between 200 and 599".into()),
            ),
            Fault::Respond {
                content_type: Some(ct),
                ..
            } if HeaderValue::from_str(ct).is_err() || ct.is_empty() => Err(ApiError::BadRequest(
                "contentType must be a header value".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The response of a fault that replaces the real answer (nothing is applied); `None`
    /// for faults that need the real answer.
    pub fn replacement(&self, target: FaultTarget) -> Option<Response> {
        match self {
            Fault::Status { status } => {
                let status =
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let error = match status.as_u16() {
                    401 => "unauthorized",
                    403 => "forbidden",
                    410 => "cursor_invalid",
                    _ => "injected_fault",
                };
                Some(crate::error::json_response(
                    status,
                    &serde_json::json!({"error": error}),
                ))
            }
            Fault::RateLimit { retry_after } => Some(
                ApiError::RateLimited {
                    retry_after: *retry_after,
                }
                .into_response(),
            ),
            Fault::Malformed => Some(json_bytes(match target {
                FaultTarget::Push => br#"{"results":[{"opId":"op_x","ok":"explode"}]}"#.to_vec(),
                _ => br#"{"items":[{"kind":"Widget","op":"explode"}],"nextCursor":"x","drained":true}"#
                    .to_vec(),
            })),
            Fault::Respond {
                status,
                body,
                content_type,
            } => Some(respond(*status, body, content_type.as_deref())),
            Fault::Delay { .. } | Fault::Truncate | Fault::Drop | Fault::LoseResponse => None,
        }
    }

    /// Mangles the real answer for `Truncate` and `Drop`; `LoseResponse` replaces it with
    /// a `502`; other faults pass it through.
    pub fn mangle(&self, status: StatusCode, body: Vec<u8>) -> Response {
        match self {
            Fault::Truncate => {
                let mut body = body;
                body.truncate(body.len() / 2);
                json_bytes_with(status, body)
            }
            Fault::LoseResponse => {
                let mut res = crate::error::json_response(
                    StatusCode::BAD_GATEWAY,
                    &serde_json::json!({"error": "response_lost"}),
                );
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                res
            }
            Fault::Drop => {
                let full = body.len();
                let head = Bytes::from(body[..full / 2].to_vec());
                // The pause lets the headers and the first half reach the client before the
                // stream fails and the connection is cut.
                let head = stream::once(async move { Ok::<Bytes, std::io::Error>(head) });
                let cut = stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "injected drop",
                    ))
                });
                let mut res = Response::new(Body::from_stream(head.chain(cut)));
                *res.status_mut() = status;
                let headers = res.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full));
                res
            }
            _ => json_bytes_with(status, body),
        }
    }
}

/// The answer of a `respond` fault, with a Content-Length of exactly the bytes sent.
fn respond(status: u16, body: &serde_json::Value, content_type: Option<&str>) -> Response {
    let (bytes, default_type) = match body {
        serde_json::Value::String(s) => (s.clone().into_bytes(), "text/plain; charset=utf-8"),
        other => (other.to_string().into_bytes(), "application/json"),
    };
    let mut res = json_bytes_with(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        bytes,
    );
    let ct = HeaderValue::from_str(content_type.unwrap_or(default_type))
        .unwrap_or(HeaderValue::from_static("text/plain"));
    res.headers_mut().insert(header::CONTENT_TYPE, ct);
    res
}

/// A `200` JSON response whose Content-Length is exactly the bytes sent.
pub fn json_bytes(body: Vec<u8>) -> Response {
    json_bytes_with(StatusCode::OK, body)
}

/// A JSON response with this status whose Content-Length is exactly the bytes sent.
pub fn json_bytes_with(status: StatusCode, body: Vec<u8>) -> Response {
    let len = body.len();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    res
}

/// Pending faults per (tenant, target), consumed in order.
#[derive(Debug, Default)]
pub struct FaultBook {
    queues: Mutex<HashMap<(String, FaultTarget), VecDeque<Fault>>>,
}

/// Most faults one tenant may have queued.
const MAX_QUEUED: usize = 10_000;

impl FaultBook {
    /// Queues `count` copies of `fault`; returns how many are now pending for that target.
    pub fn add(
        &self,
        tenant: &str,
        target: FaultTarget,
        fault: Fault,
        count: usize,
    ) -> Result<usize, ApiError> {
        fault.validate(target)?;
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let queue = queues.entry((tenant.to_string(), target)).or_default();
        if queue.len().saturating_add(count) > MAX_QUEUED {
            return Err(ApiError::BadRequest(format!(
                "at most {MAX_QUEUED} queued faults"
            )));
        }
        queue.extend(std::iter::repeat_n(fault, count));
        Ok(queue.len())
    }

    /// Takes the next fault for this response, if any.
    pub fn take(&self, tenant: &str, target: FaultTarget) -> Option<Fault> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.to_string(), target);
        let fault = queues.get_mut(&key)?.pop_front();
        if queues.get(&key).is_some_and(VecDeque::is_empty) {
            queues.remove(&key);
        }
        fault
    }

    /// Drops every pending fault of the tenant; returns how many there were.
    pub fn clear(&self, tenant: &str) -> usize {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let mut n = 0;
        queues.retain(|(t, _), q| {
            if t == tenant {
                n += q.len();
                false
            } else {
                true
            }
        });
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_consumes_in_order() {
        let f: Fault = serde_json::from_str(r#"{"type":"rate_limit","retryAfter":3}"#).unwrap();
        assert_eq!(f, Fault::RateLimit { retry_after: 3 });
        assert!(serde_json::from_str::<Fault>(r#"{"type":"explode"}"#).is_err());
        let book = FaultBook::default();
        book.add("tnt_a", FaultTarget::Pull, Fault::Truncate, 2)
            .unwrap();
        book.add("tnt_a", FaultTarget::Pull, Fault::Drop, 1)
            .unwrap();
        assert!(book
            .add("tnt_a", FaultTarget::Pull, Fault::Status { status: 99 }, 1)
            .is_err());
        assert_eq!(book.take("tnt_b", FaultTarget::Pull), None);
        assert_eq!(book.take("tnt_a", FaultTarget::Pull), Some(Fault::Truncate));
        assert_eq!(book.clear("tnt_a"), 2);
        assert_eq!(book.take("tnt_a", FaultTarget::Pull), None);
    }
}
