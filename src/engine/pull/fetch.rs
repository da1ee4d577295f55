//! Fetching one pull page (PROTOCOL §3's error table for a single request): the request,
//! its status, the strict decode (`Store::decode_page`), and the retries the contract allows — what the pull loop
//! (`pull/page_loop.rs`) gets back is a page, a refusal it must act on, or a typed failure, with what
//! fetching it cost.

use crate::engine::clock::{Clock, Random};
use crate::engine::net::retry::retry_after_ms;
use crate::engine::net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::engine::pull::config::PullConfig;
use crate::engine::pull::decoded_page::DecodedPage;
use crate::engine::pull::error::PullError;
use crate::engine::store::cache::Store;
use crate::protocol::Kind;
use serde_json::Value;

/// Why a page could not be fetched, when the loop itself must react.
pub(super) enum Refusal {
    CursorInvalid,
    Forbidden(Vec<Kind>),
    Failed(PullError),
}

/// A failed attempt that may be retried.
enum Retryable {
    Offline(String),
    Server(u16),
    BadBody(String),
    RateLimited(Option<u64>),
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path and query of one pull request.
pub fn pull_path(page_size: u32, cursor: Option<&str>, fresh: bool) -> String {
    let mut path = format!("/internal/sync/pull?pageSize={page_size}");
    if let Some(c) = cursor {
        path.push_str("&cursor=");
        path.push_str(&percent_encode(c));
    }
    if fresh {
        path.push_str("&fresh=true");
    }
    path
}

fn body_json(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => Some(o),
        _ => None,
    }
}

/// The kinds a 403 revokes: the body's `kinds` (names this client does not know are
/// ignored), or every kind when the body does not name any.
fn forbidden_kinds(body: &[u8]) -> Vec<Kind> {
    match body_json(body).and_then(|mut o| o.remove("kinds")) {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(|n| n.as_str().and_then(|s| s.parse::<Kind>().ok()))
            .collect(),
        _ => Kind::ALL.to_vec(),
    }
}

fn error_name(response: &HttpResponse) -> String {
    body_json(&response.body)
        .and_then(|mut o| match o.remove("error") {
            Some(Value::String(e)) => Some(e),
            _ => None,
        })
        .unwrap_or_else(|| format!("http_{}", response.status))
}

/// What fetching one page added to the report. Kept apart from [`Run`] so a prefetched
/// page counts only once it is used: a prefetch dropped after a failed commit leaves the
/// report exactly as the same call without prefetching would.
#[derive(Debug, Default)]
pub(super) struct FetchTally {
    pub(super) bytes_pulled: u64,
    pub(super) retries: u64,
    /// The server answered at least once (so `fresh=true` has been delivered).
    pub(super) answered: bool,
}

/// The page at `cursor` (decoded as the store holds rows) with what fetching it cost.
pub(super) type Fetched<P> = (Result<DecodedPage<P>, Refusal>, FetchTally);

/// Fetches and decodes ([`Store::decode_page`]) the page at `cursor`, retrying what the
/// contract says to retry.
async fn fetch_page<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    cursor: Option<&str>,
    fresh: bool,
) -> Fetched<S::Payload> {
    let mut tally = FetchTally::default();
    let page = fetch_attempts(
        store, transport, clock, random, config, cursor, fresh, &mut tally,
    )
    .await;
    (page, tally)
}

#[allow(clippy::too_many_arguments)]
async fn fetch_attempts<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    cursor: Option<&str>,
    fresh: bool,
    tally: &mut FetchTally,
) -> Result<DecodedPage<S::Payload>, Refusal> {
    let mut failed_attempts = 0u32;
    let mut token_retried = false;
    let mut previous_delay = 0u64;
    loop {
        let asked_fresh = fresh && !tally.answered;
        let request = HttpRequest::get(pull_path(config.page_size, cursor, asked_fresh));
        let failure = match transport.send(request).await {
            Err(TransportError::Token(detail)) => {
                return Err(Refusal::Failed(PullError::Unauthorized(detail)))
            }
            Err(TransportError::TokenTimeout) => {
                return Err(Refusal::Failed(PullError::TokenTimeout))
            }
            Err(TransportError::Network(detail)) => Retryable::Offline(detail),
            Err(TransportError::Timeout) => Retryable::Offline("request timed out".into()),
            Ok(response) => {
                tally.answered = true;
                tally.bytes_pulled += response.body.len() as u64;
                match response.status {
                    200 => match store.decode_page(&response.body, config) {
                        Ok(page) => return Ok(page),
                        Err(e) => Retryable::BadBody(e.to_string()),
                    },
                    401 if !token_retried => {
                        token_retried = true;
                        tally.retries += 1;
                        continue;
                    }
                    401 => {
                        return Err(Refusal::Failed(PullError::Unauthorized(
                            "token refused twice".into(),
                        )))
                    }
                    403 => return Err(Refusal::Forbidden(forbidden_kinds(&response.body))),
                    410 => return Err(Refusal::CursorInvalid),
                    // An explicit foreground refresh that is over its limit is told so at
                    // once: sleeping through the server's window would look like a hang.
                    429 if asked_fresh => {
                        let wait = response
                            .retry_after
                            .as_deref()
                            .and_then(|v| retry_after_ms(v, clock.now_ms()))
                            .unwrap_or(config.backoff.base_ms);
                        return Err(Refusal::Failed(PullError::RateLimited {
                            retry_after_ms: wait,
                        }));
                    }
                    429 => Retryable::RateLimited(
                        response
                            .retry_after
                            .as_deref()
                            .and_then(|v| retry_after_ms(v, clock.now_ms())),
                    ),
                    408 | 500..=599 => Retryable::Server(response.status),
                    status @ 400..=499 => {
                        return Err(Refusal::Failed(PullError::BadRequest {
                            status,
                            error: error_name(&response),
                        }))
                    }
                    other => Retryable::BadBody(format!("unexpected status {other}")),
                }
            }
        };
        failed_attempts += 1;
        if let Retryable::RateLimited(Some(wait)) = failure {
            if wait > config.max_retry_after_wait_ms {
                return Err(Refusal::Failed(PullError::RateLimited {
                    retry_after_ms: wait,
                }));
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
            return Err(Refusal::Failed(match failure {
                Retryable::Offline(detail) => PullError::Offline { attempts, detail },
                Retryable::Server(status) => PullError::ServerError { status, attempts },
                Retryable::BadBody(detail) => PullError::BadResponse { attempts, detail },
                Retryable::RateLimited(_) => PullError::RateLimited {
                    retry_after_ms: delay,
                },
            }));
        }
        previous_delay = delay;
        tally.retries += 1;
        clock.sleep(delay).await;
    }
}

/// The fetch of the page at `cursor`, owning its cursor so it can run past the step that
/// started it (the next page's prefetch).
pub(super) async fn prefetch<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    cursor: Option<String>,
    fresh: bool,
) -> Fetched<S::Payload> {
    fetch_page(
        store,
        transport,
        clock,
        random,
        config,
        cursor.as_deref(),
        fresh,
    )
    .await
}
