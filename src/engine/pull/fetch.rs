//! Fetching one pull page (PROTOCOL §3's error table for a single request): the request,
//! its status, the strict decode (`Store::decode_page`), and the retries the contract allows — what the pull loop
//! (`pull/page_loop.rs`) gets back is a page, a refusal it must act on, or a typed failure, with what
//! fetching it cost.

use crate::engine::clock::{Clock, Random};
use crate::engine::net::retry::{retry_after_ms, send_with_retries, GaveUp, Retryable, Verdict};
use crate::engine::net::transport::{HttpRequest, Transport};
use crate::engine::pull::config::PullConfig;
use crate::engine::pull::decoded_page::DecodedPage;
use crate::engine::pull::error::PullError;
use crate::engine::store::cache::Store;
use crate::protocol::Kind;
use serde_json::Value;
use std::cell::Cell;

/// Why a page could not be fetched, when the loop itself must react.
pub(super) enum Refusal {
    CursorInvalid,
    Forbidden(Vec<Kind>),
    Failed(PullError),
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
    match crate::json::from_slice(body) {
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
    // `fresh=true` is asked until the server has answered once (then it has been delivered).
    let answered = Cell::new(false);
    let asked_fresh = Cell::new(false);
    let bytes = Cell::new(0u64);
    let page = send_with_retries(
        transport,
        clock,
        random,
        &config.retry,
        &mut tally.retries,
        || {
            asked_fresh.set(fresh && !answered.get());
            HttpRequest::get(pull_path(config.page_size, cursor, asked_fresh.get()))
        },
        |response| {
            answered.set(true);
            bytes.set(bytes.get() + response.body.len() as u64);
            match response.status {
                200 => match store.decode_page(&response.body, config) {
                    Ok(page) => Verdict::Answer(page),
                    Err(e) => Verdict::Retry(Retryable::BadBody(e.to_string())),
                },
                403 => Verdict::Refuse(Refusal::Forbidden(forbidden_kinds(&response.body))),
                410 => Verdict::Refuse(Refusal::CursorInvalid),
                // An explicit foreground refresh that is over its limit is told so at once:
                // sleeping through the server's window would look like a hang.
                429 if asked_fresh.get() => {
                    let wait = response
                        .retry_after
                        .as_deref()
                        .and_then(|v| retry_after_ms(v, clock.now_ms()))
                        .unwrap_or(config.retry.backoff.base_ms);
                    Verdict::Refuse(Refusal::Failed(PullError::RateLimited {
                        retry_after_ms: wait,
                    }))
                }
                401 | 408 | 429 => Verdict::Default,
                status @ 400..=499 => Verdict::Refuse(Refusal::Failed(PullError::BadRequest {
                    status,
                    error: response.error_name(),
                })),
                _ => Verdict::Default,
            }
        },
    )
    .await;
    tally.answered = answered.get();
    tally.bytes_pulled = bytes.get();
    (page, tally)
}

impl From<GaveUp> for Refusal {
    fn from(gave_up: GaveUp) -> Self {
        Refusal::Failed(PullError::from(gave_up))
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
