//! The pull loop (PROTOCOL §3): page after page until the server says `drained`, each page
//! applied atomically with its cursor, every failure of the contract's error table handled.
//!
//! Per page: request → status → strict parse → [`apply_page`] (privacy, plan, commit with
//! the cursor compare-and-set). Failures:
//! - 5xx, 408, network error, timeout, truncated or malformed body, unknown kind/op, wrong
//!   types: nothing of the page is applied; backoff with jitter; at most `max_attempts`
//!   attempts per page, then a typed retryable error;
//! - 429: wait at least `Retry-After` (or return `rate_limited` when that is longer than
//!   `max_retry_after_wait_ms`);
//! - 401: one more attempt (the transport asks the host for a token on every request), then
//!   `unauthorized`;
//! - 403: wipe the kinds the body names (all if absent) and the cursor, set the
//!   access-revoked flag, return `forbidden`; the next committed page clears the flag, and
//!   the pull it belongs to, begun without a cursor, is a full replacement (§9.1-§9.2);
//! - 410: drop the cursor and cold-start in the same call (once); the rows stay readable
//!   until that cold pull drains and replaces them (§9.1);
//! - other 4xx: `bad_request`, not retried (a programming error);
//! - `CursorMoved` on commit (another tab applied this page first): re-read the cursor and
//!   go on from there.

use super::apply_plan::{commit_planned, plan_fetched, settle_cache, PagePlan};
use super::clock::{Clock, Random};
use super::config::PullConfig;
use super::error::PullError;
use super::integrity::{check_integrity, IntegrityScope};
use super::overlap::Background;
use super::report::{PullProgress, PullReport};
use super::retry::retry_after_ms;
use super::state_cache::StateCache;
use super::store::{Store, StoreError, SyncMeta};
use super::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::protocol::{parse_pull_page, Kind, PullPage};
use serde_json::Value;
use std::future::Future;

/// Why a page could not be fetched, when the loop itself must react.
enum Refusal {
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

/// One pull call's mutable bookkeeping.
struct Run {
    report: PullReport,
    scope: IntegrityScope,
    /// `fresh=true` is sent until the server has answered once: the server rate-limits it,
    /// so repeating it on every page would earn a 429.
    fresh: bool,
}

impl Run {
    /// Takes in what fetching one page cost.
    fn count(&mut self, tally: &FetchTally) {
        self.report.bytes_pulled += tally.bytes_pulled;
        self.report.retries += tally.retries;
        self.fresh &= !tally.answered;
    }
}

/// What fetching one page added to the report. Kept apart from [`Run`] so a prefetched
/// page counts only once it is used: a prefetch dropped after a failed commit leaves the
/// report exactly as the same call without prefetching would.
#[derive(Debug, Default)]
struct FetchTally {
    bytes_pulled: u64,
    retries: u64,
    /// The server answered at least once (so `fresh=true` has been delivered).
    answered: bool,
}

/// The page at `cursor` with what fetching it cost.
type Fetched = (Result<PullPage, Refusal>, FetchTally);

/// Fetches and parses the page at `cursor`, retrying what the contract says to retry.
async fn fetch_page<T: Transport, C: Clock, R: Random>(
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    cursor: Option<&str>,
    fresh: bool,
) -> Fetched {
    let mut tally = FetchTally::default();
    let page = fetch_attempts(transport, clock, random, config, cursor, fresh, &mut tally).await;
    (page, tally)
}

async fn fetch_attempts<T: Transport, C: Clock, R: Random>(
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    cursor: Option<&str>,
    fresh: bool,
    tally: &mut FetchTally,
) -> Result<PullPage, Refusal> {
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
                    200 => match parse_pull_page(&response.body) {
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

/// The next page's fetch, owning its cursor so it can run past the step that started it.
async fn prefetch<T: Transport, C: Clock, R: Random>(
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    cursor: String,
    fresh: bool,
) -> Fetched {
    fetch_page(transport, clock, random, config, Some(&cursor), fresh).await
}

/// Page n's commit, issued and still running while page n+1 is fetched and planned.
struct InFlight<F: Future> {
    commit: Background<F>,
    drained: bool,
}

/// No future to drive beside another (`overlap`, `Run::settle`).
const NO_PREFETCH: Option<&mut Background<std::future::Ready<()>>> = None;
const NO_NEXT: Option<&mut Background<std::future::Ready<()>>> = None;

/// How the commit in flight ended.
enum Settled {
    /// Nothing was in flight, or it committed (and is now reported).
    Done,
    /// Another context moved the stored cursor: nothing of the page was written.
    Moved,
}

/// Awaits `work` while driving the commit in flight (stepped first: it comes before
/// anything of the next page) and the prefetch (stepped after), whichever exist. `None`
/// when the commit in flight failed first: `work` is dropped unfinished, nothing of it
/// counts (a sequential run would not have started it).
async fn overlap<F, B, W>(
    commit: Option<&mut InFlight<F>>,
    prefetch: Option<&mut Background<B>>,
    work: W,
) -> Option<W::Output>
where
    F: Future<Output = Result<PagePlan, StoreError>>,
    B: Future,
    W: Future,
{
    let work = async {
        match prefetch {
            Some(p) => p.drive_while(work).await,
            None => work.await,
        }
    };
    match commit {
        Some(c) => c.commit.lead_unless(work, Result::is_err).await,
        None => Some(work.await),
    }
}

impl Run {
    /// Reports a committed page: counts, integrity scope, the revoked flag its commit
    /// clears, progress.
    async fn committed<S: Store>(
        &mut self,
        store: &S,
        meta: &mut SyncMeta,
        planned: PagePlan,
        drained: bool,
        progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<(), PullError> {
        if meta.access_revoked {
            store.set_access_revoked(false).await?;
            meta.access_revoked = false;
        }
        self.report.record_page(&planned.summary);
        self.scope.merge(planned.summary.scope);
        self.report.drained = drained;
        progress(&PullProgress {
            pages: self.report.pages,
            items_applied: self.report.items_applied(),
            bytes_pulled: self.report.bytes_pulled,
        });
        Ok(())
    }

    /// Awaits the commit in flight (driving `next`, the commit issued behind it, meanwhile)
    /// and reports it.
    #[allow(clippy::too_many_arguments)]
    async fn settle<S: Store, F: Future<Output = Result<PagePlan, StoreError>>, N: Future>(
        &mut self,
        store: &S,
        meta: &mut SyncMeta,
        cache: &mut StateCache,
        in_flight: &mut Option<InFlight<F>>,
        next: Option<&mut Background<N>>,
        progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<Settled, PullError> {
        let Some(InFlight { commit, drained }) = in_flight.take() else {
            return Ok(Settled::Done);
        };
        let committed = match next {
            Some(next) => next.drive_while(commit.finish()).await,
            None => commit.finish().await,
        };
        match settle_cache(cache, committed) {
            Ok(planned) => {
                self.committed(store, meta, planned, drained, progress)
                    .await?;
                Ok(Settled::Done)
            }
            Err(PullError::Storage(StoreError::CursorMoved)) => {
                *meta = store.meta().await?;
                Ok(Settled::Moved)
            }
            Err(e) => Err(e),
        }
    }
}

/// Pulls until the server says `drained` (or `max_pages` pages were fetched), committing
/// each page with its cursor, then runs the integrity gate over what the pull touched.
/// `progress` is called after every committed page.
///
/// Pipelined, three pages deep: once page n is parsed its `nextCursor` is known, so page
/// n+2's fetch starts; page n+1 is planned (from the call's [`StateCache`], which already
/// holds page n's plan) while page n's commit runs, and page n+1's commit is issued behind
/// it — the store applies commits in the order they were issued, and n+1's cursor
/// compare-and-set refuses it if n did not land. Nothing is reported out of order: page
/// n+1, its fetch's bytes and retries count only once page n committed; when page n's
/// commit fails for any reason, n+1's commit and the prefetch are dropped unseen, as if
/// they never ran. No prefetch is started when the run will not fetch another page (the
/// page is `drained`, or `max_pages` is reached).
pub async fn pull<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    progress: &mut dyn FnMut(&PullProgress),
) -> Result<PullReport, PullError> {
    config.validate()?;
    let started = clock.now_ms();
    let mut run = Run {
        report: PullReport::default(),
        scope: IntegrityScope::default(),
        fresh: config.fresh,
    };
    let mut meta = store.meta().await?;
    // What this call knows of local state: a cold start into an empty store reads none.
    let mut cache = StateCache::for_store(store, &meta).await?;
    let mut cold_restarted = false;
    let mut fetched = 0u32;
    // The last page planned was `drained`: nothing more is fetched once it commits.
    let mut planned_drained = false;
    // The page after the last planned one, fetched with the cursor it is keyed by.
    let mut ahead = None;
    let mut in_flight = None;
    loop {
        if fetched >= config.max_pages || planned_drained {
            match run
                .settle(
                    store,
                    &mut meta,
                    &mut cache,
                    &mut in_flight,
                    NO_NEXT,
                    progress,
                )
                .await?
            {
                // The last page committed (or none was in flight): done.
                Settled::Done => break,
                // It did not land: go on from the cursor that is stored, as before.
                Settled::Moved => {
                    planned_drained = false;
                    if fetched >= config.max_pages {
                        break;
                    }
                }
            }
        }
        fetched += 1;
        // `meta.cursor` is where the last planned page leads (its commit may be in flight).
        let sent = meta.cursor.clone();
        let fetch = async {
            match ahead.take() {
                Some((cursor, next_page)) if sent.as_ref() == Some(&cursor) => {
                    Background::finish(next_page).await
                }
                _ => fetch_page(transport, clock, random, config, sent.as_deref(), run.fresh).await,
            }
        };
        let Some((outcome, tally)) = overlap(in_flight.as_mut(), NO_PREFETCH, fetch).await else {
            // Page n's commit failed while page n+1 was fetched: settle it, drop the fetch.
            run.settle(
                store,
                &mut meta,
                &mut cache,
                &mut in_flight,
                NO_NEXT,
                progress,
            )
            .await?;
            continue;
        };
        let page = match outcome {
            Ok(page) => page,
            Err(refusal) => {
                // Acted on only after the page before it committed, as without pipelining.
                if let Settled::Moved = run
                    .settle(
                        store,
                        &mut meta,
                        &mut cache,
                        &mut in_flight,
                        NO_NEXT,
                        progress,
                    )
                    .await?
                {
                    continue;
                }
                run.count(&tally);
                match refusal {
                    Refusal::CursorInvalid if !cold_restarted => {
                        cold_restarted = true;
                        // Only the cursor goes: the rows stay readable until the cold pull
                        // that follows drains and replaces them (PROTOCOL §9.1).
                        store.wipe(&[], true).await?;
                        run.report.cold_restarts += 1;
                        meta = store.meta().await?;
                        cache = StateCache::for_store(store, &meta).await?;
                        continue;
                    }
                    Refusal::CursorInvalid => return Err(PullError::CursorInvalid),
                    Refusal::Forbidden(kinds) => {
                        store.wipe(&kinds, true).await?;
                        store.set_access_revoked(true).await?;
                        return Err(PullError::Forbidden { kinds });
                    }
                    Refusal::Failed(e) => return Err(e),
                }
            }
        };
        let drained = page.drained;
        let next = page.next_cursor.clone();
        let mut next_page = (!drained && fetched < config.max_pages).then(|| {
            Background::new(prefetch(
                transport,
                clock,
                random,
                config,
                next.clone(),
                run.fresh && !tally.answered,
            ))
        });
        let plan = plan_fetched(store, page, sent.as_deref(), config, &mut cache);
        let planned = match overlap(in_flight.as_mut(), next_page.as_mut(), plan).await {
            Some(Ok(planned)) => planned,
            // Page n's commit failed while this page was planned: settle it, drop this one.
            None => {
                run.settle(
                    store,
                    &mut meta,
                    &mut cache,
                    &mut in_flight,
                    NO_NEXT,
                    progress,
                )
                .await?;
                continue;
            }
            Some(Err(e)) => {
                // The page before it goes first: a moved cursor makes this page moot.
                if let Settled::Moved = run
                    .settle(
                        store,
                        &mut meta,
                        &mut cache,
                        &mut in_flight,
                        NO_NEXT,
                        progress,
                    )
                    .await?
                {
                    continue;
                }
                run.count(&tally);
                return Err(e);
            }
        };
        let sent_owned = sent.clone();
        let mut commit =
            Background::new(
                async move { commit_planned(store, planned, sent_owned.as_deref()).await },
            );
        // Page n+1's commit is issued (first polled) while page n's is awaited.
        match run
            .settle(
                store,
                &mut meta,
                &mut cache,
                &mut in_flight,
                Some(&mut commit),
                progress,
            )
            .await?
        {
            Settled::Done => {}
            // Dropping `commit` and `next_page` cancels them: nothing of them is seen.
            Settled::Moved => continue,
        }
        run.count(&tally);
        in_flight = Some(InFlight { commit, drained });
        planned_drained = drained;
        ahead = next_page.map(|bg| (next.clone(), bg));
        meta.cursor = Some(next);
    }
    if run.report.drained && !run.scope.is_empty() {
        run.report.integrity = check_integrity(store, &run.scope).await?;
    }
    run.report.duration_ms = clock.now_ms().saturating_sub(started);
    Ok(run.report)
}
