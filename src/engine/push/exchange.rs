//! Sending one push-side request (a batch or a command) until it gets an answer the caller
//! must interpret, with the contract's whole-request rules (PROTOCOL §3 table, applied to
//! push by §4): network error, timeout, 408, 5xx and a body the caller cannot read are
//! retried with capped exponential backoff and jitter; 429 waits at least `Retry-After`;
//! 401 is retried once (the transport asks the host for a fresh token on every request).
//! The request is the same value on every attempt, so a retry is byte-identical and
//! carries the same `Idempotency-Key`.

use crate::engine::clock::{Clock, Random};
use crate::engine::net::retry::retry_after_ms;
use crate::engine::net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::engine::push::config::PushConfig;
use crate::engine::push::error::PushError;
use serde_json::Value;

/// A failed attempt that may be retried.
enum Retryable {
    Offline(String),
    Server(u16),
    BadBody(String),
    RateLimited(Option<u64>),
}

/// The `error` string of a JSON error body, or `http_<status>`.
pub fn error_name(response: &HttpResponse) -> String {
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(mut o)) => match o.remove("error") {
            Some(Value::String(e)) => e,
            _ => format!("http_{}", response.status),
        },
        _ => format!("http_{}", response.status),
    }
}

/// Sends `request` until `accept` takes the response. `accept` sees every 2xx and every
/// 4xx except 401, 408 and 429; it returns `Err(detail)` for a body it cannot read, which
/// is retried like a 5xx. `retries` counts repeated requests.
pub async fn exchange<T, C, R, A>(
    transport: &T,
    clock: &C,
    random: &R,
    config: &PushConfig,
    request: &HttpRequest,
    retries: &mut u64,
    mut accept: impl FnMut(&HttpResponse) -> Result<A, String>,
) -> Result<A, PushError>
where
    T: Transport,
    C: Clock,
    R: Random,
{
    let mut failed_attempts = 0u32;
    let mut token_retried = false;
    let mut previous_delay = 0u64;
    loop {
        let failure = match transport.send(request.clone()).await {
            Err(TransportError::Token(detail)) => return Err(PushError::Unauthorized(detail)),
            Err(TransportError::TokenTimeout) => return Err(PushError::TokenTimeout),
            Err(TransportError::Network(detail)) => Retryable::Offline(detail),
            Err(TransportError::Timeout) => Retryable::Offline("request timed out".into()),
            Ok(response) => match response.status {
                401 if !token_retried => {
                    token_retried = true;
                    *retries += 1;
                    continue;
                }
                401 => return Err(PushError::Unauthorized("token refused twice".into())),
                429 => Retryable::RateLimited(
                    response
                        .retry_after
                        .as_deref()
                        .and_then(|v| retry_after_ms(v, clock.now_ms())),
                ),
                408 | 500..=599 => Retryable::Server(response.status),
                200..=299 | 400..=499 => match accept(&response) {
                    Ok(answer) => return Ok(answer),
                    Err(detail) => Retryable::BadBody(detail),
                },
                other => Retryable::BadBody(format!("unexpected status {other}")),
            },
        };
        failed_attempts += 1;
        if let Retryable::RateLimited(Some(wait)) = failure {
            if wait > config.max_retry_after_wait_ms {
                return Err(PushError::RateLimited {
                    retry_after_ms: wait,
                });
            }
        }
        let backoff = config
            .backoff
            .delay_ms(failed_attempts, previous_delay, random);
        let delay = match failure {
            Retryable::RateLimited(Some(wait)) => wait,
            _ => backoff,
        };
        if failed_attempts >= config.max_attempts {
            let attempts = failed_attempts;
            return Err(match failure {
                Retryable::Offline(detail) => PushError::Offline { attempts, detail },
                Retryable::Server(status) => PushError::ServerError { status, attempts },
                Retryable::BadBody(detail) => PushError::BadResponse { attempts, detail },
                Retryable::RateLimited(_) => PushError::RateLimited {
                    retry_after_ms: delay,
                },
            });
        }
        previous_delay = delay;
        *retries += 1;
        clock.sleep(delay).await;
    }
}
