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
use crate::engine::store::cache::Store;

/// A whole-request answer that ends the call and keeps the batch or command queued as it
/// was; nothing is dead-lettered for it (PROTOCOL §9.3).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 403: access revoked; pushing pauses until a pull sees access again.
    Forbidden,
    /// A refusal that says this client is misconfigured (`400 bad_identity`).
    BadRequest { status: u16, error: String },
    /// An answer the contract does not name (a proxy's error page, 405, 415…); pushing
    /// pauses.
    Rejected { status: u16, detail: String },
}

impl Refusal {
    /// The call's error, after recording what the refusal means locally (a 403 pauses
    /// pushing).
    pub async fn end_call<S: Store>(self, store: &S) -> PushError {
        match self {
            Refusal::Forbidden => match store.set_access_revoked(true).await {
                Ok(()) => PushError::Forbidden,
                Err(e) => e.into(),
            },
            Refusal::BadRequest { status, error } => PushError::BadRequest { status, error },
            Refusal::Rejected { status, detail } => PushError::Rejected { status, detail },
        }
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
    send_with_retries(
        transport,
        clock,
        random,
        &config.retry,
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
