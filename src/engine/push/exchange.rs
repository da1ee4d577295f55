//! Sending one push-side request (a batch or a command) until it gets an answer the caller
//! must interpret, with the contract's whole-request rules (PROTOCOL §3 table, applied to
//! push by §4): network error, timeout, 408, 5xx and a body the caller cannot read are
//! retried with capped exponential backoff and jitter; 429 waits at least `Retry-After`;
//! 401 is retried once (the transport asks the host for a fresh token on every request).
//! The request is the same value on every attempt, so a retry is byte-identical and
//! carries the same `Idempotency-Key`.

use crate::engine::clock::{Clock, Random};
use crate::engine::net::retry::{send_with_retries, Retryable, Verdict};
use crate::engine::net::transport::{HttpRequest, HttpResponse, Transport};
use crate::engine::push::config::PushConfig;
use crate::engine::push::error::PushError;

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
    send_with_retries(
        transport,
        clock,
        random,
        &config.retry_policy(),
        retries,
        || request.clone(),
        |response| match response.status {
            401 | 408 | 429 => Verdict::Default,
            200..=299 | 400..=499 => match accept(response) {
                Ok(answer) => Verdict::Answer(answer),
                Err(detail) => Verdict::Retry(Retryable::BadBody(detail)),
            },
            _ => Verdict::Default,
        },
    )
    .await
}
