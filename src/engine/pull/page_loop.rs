//! The pull loop (PROTOCOL §3): page after page until the server says `drained`, each page
//! applied atomically with its cursor, every failure of the contract's error table handled.
//!
//! Per page: request → status → strict decode with privacy stripping (`pull/fetch.rs`,
//! `Store::decode_page`) → [`plan_fetched`] (the local state the call's [`StateCache`] does
//! not know, read ahead on a warm store (`pull/read_ahead.rs`), then the plan) →
//! [`commit_planned`] (one atomic commit with the cursor compare-and-set), pipelined (see
//! [`pull`]; the commit in flight and the call's report in `pull/run.rs`).
//! Failures:
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
//! - `CursorMoved` on commit (another tab applied this page first, or any page since this
//!   call last read the store's page serial): re-read the cursor and go on from there.

use crate::engine::clock::{Clock, Random};
use crate::engine::net::transport::Transport;
use crate::engine::pull::apply_plan::{commit_planned, plan_fetched};
use crate::engine::pull::background::Background;
use crate::engine::pull::cached_reads::CachedReads;
use crate::engine::pull::config::PullConfig;
use crate::engine::pull::error::PullError;
use crate::engine::pull::fetch::{prefetch, Refusal};
use crate::engine::pull::held_index;
use crate::engine::pull::integrity::{check_integrity_with, IntegrityScope};
use crate::engine::pull::item_meta::metas_request;
use crate::engine::pull::read_ahead;
use crate::engine::pull::report::{PullProgress, PullReport};
use crate::engine::pull::run::{overlap, InFlight, Run, Settled, NOTHING_BESIDE};
use crate::engine::pull::state_cache::StateCache;
use crate::engine::store::cache::{Store, SyncMeta};

/// Pulls until the server says `drained` (or `max_pages` pages were fetched), committing
/// each page with its cursor, then runs the integrity gate over what the pull touched.
/// `progress` is called after every committed page.
///
/// Pipelined, three pages deep: once page n is parsed its `nextCursor` is known, so page
/// n+2's fetch starts; page n+1 is planned (from the call's [`StateCache`], which already
/// holds page n's plan) while page n's commit runs, and page n+1's commit is issued behind
/// it — the store applies commits in the order they were issued, and n+1's cursor
/// compare-and-set refuses it if n did not land (a page that does not move the cursor lands
/// before the next commit is issued). Page n is reported as soon as its commit lands; page
/// n+1, its fetch's bytes and retries count only after that. When page n's commit fails,
/// the prefetch is dropped unseen and n+1's commit is run to its end, where its
/// compare-and-set refuses it — unless another context committed exactly page n, in which
/// case n+1 landed and is reported. No prefetch is started when the run will not fetch
/// another page (the page is `drained`, or `max_pages` is reached).
pub async fn pull<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    progress: &mut dyn FnMut(&PullProgress),
) -> Result<PullReport, PullError> {
    let mut kept = None;
    pull_keeping(store, transport, clock, random, config, progress, &mut kept).await
}

/// [`pull`] for a caller that pulls again and again over the same store (the leader's
/// client): `kept` is what the call before left, used instead of loading the held index when
/// the store is still exactly where that call left it ([`StateCache::is_exact_at`]: the
/// stored cursor, page serial and settle epoch are those it knew — no page, wipe or
/// settlement of any context since); it holds this call's cache when the call returns, if it
/// succeeded and knows every held key. A warm store's index is a few MB of JSON to read and
/// parse: a small pull every minute need not pay for it each time.
pub async fn pull_keeping<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    progress: &mut dyn FnMut(&PullProgress),
    kept: &mut Option<StateCache>,
) -> Result<PullReport, PullError> {
    config.validate()?;
    let started = clock.now_ms();
    let meta = store.meta().await?;
    // What this call knows of local state: what the call before left, from the held index,
    // or nothing to know (a cold start into an empty store); left behind for the next call
    // when the call succeeds.
    let mut cache = match kept.take() {
        Some(cache) if cache.is_exact_at(&meta) => cache,
        _ => held_index::load(store, &meta).await?,
    };
    let pulled = pull_pages(
        store, transport, clock, random, config, progress, started, meta, &mut cache,
    )
    .await;
    if pulled.is_ok() {
        held_index::persist(store, &mut cache).await;
        if cache.knows_everything() {
            *kept = Some(cache);
        }
    }
    pulled
}

/// [`pull`] from the stored `meta`, with the call's `cache`.
#[allow(clippy::too_many_arguments)]
async fn pull_pages<S: Store, T: Transport, C: Clock, R: Random>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PullConfig,
    progress: &mut dyn FnMut(&PullProgress),
    started: u64,
    mut meta: SyncMeta,
    cache: &mut StateCache,
) -> Result<PullReport, PullError> {
    let mut run = Run {
        report: PullReport::default(),
        scope: IntegrityScope::default(),
        fresh: config.fresh,
    };
    let mut cold_restarted = false;
    let mut fetched = 0u32;
    // The last page planned was `drained`: nothing more is fetched once it commits.
    let mut planned_drained = false;
    // The page after the last planned one, fetched with the cursor it is keyed by.
    let mut ahead = None;
    // The state read issued for the page after the last planned one (`pull/read_ahead.rs`).
    let mut read_ahead = None;
    let mut in_flight = None;
    // Awaits the commit in flight, if any, and reports it (`Run::settle`).
    macro_rules! settle_in_flight {
        () => {
            run.settle(
                store,
                &mut meta,
                cache,
                &mut in_flight,
                NOTHING_BESIDE,
                NOTHING_BESIDE,
                progress,
            )
            .await?
        };
    }
    loop {
        if fetched >= config.max_pages || planned_drained {
            match settle_in_flight!() {
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
        let serial = meta.page_serial;
        let fresh = run.fresh;
        let mut fetching = Background::new(async {
            match ahead.take() {
                Some((cursor, next_page)) if sent.as_ref() == Some(&cursor) => {
                    Background::finish(next_page).await
                }
                _ => prefetch(store, transport, clock, random, config, sent.clone(), fresh).await,
            }
        });
        // Page n is reported as soon as its commit lands, not when page n+1 has arrived; a
        // failed commit drops the fetch unfinished (nothing of it counts).
        let moved = loop {
            let landed = overlap(
                in_flight.as_mut(),
                NOTHING_BESIDE,
                fetching.until_done(),
                |_| true,
            );
            if landed.await.is_some() {
                break false;
            }
            match settle_in_flight!() {
                Settled::Moved => break true,
                Settled::Done => {}
            }
        };
        if moved {
            continue;
        }
        let (outcome, tally) = fetching.finish().await;
        let page = match outcome {
            Ok(page) => page,
            Err(refusal) => {
                // Acted on only after the page before it committed, as without pipelining.
                if let Settled::Moved = settle_in_flight!() {
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
                        *cache = held_index::load(store, &meta).await?;
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
                store,
                transport,
                clock,
                random,
                config,
                Some(next.clone()),
                run.fresh && !tally.answered,
            ))
        });
        // A read issued ahead for this page (below, one page earlier) is used if it was
        // issued for the cursor the page was fetched with.
        let early = read_ahead::take_for(&mut read_ahead, sent.as_deref(), cache);
        let plan = async {
            let early = match early {
                Some(ahead) => Some(ahead.finish().await),
                None => None,
            };
            plan_fetched(
                store,
                page,
                sent.as_deref(),
                Some(serial),
                config,
                cache,
                early,
            )
            .await
        };
        let planned =
            match overlap(in_flight.as_mut(), next_page.as_mut(), plan, Result::is_err).await {
                Some(Ok(planned)) => planned,
                // Page n's commit failed while this page was planned: settle it, drop this one.
                None => {
                    settle_in_flight!();
                    continue;
                }
                Some(Err(e)) => {
                    // The page before it goes first: a moved cursor makes this page moot.
                    if let Settled::Moved = settle_in_flight!() {
                        continue;
                    }
                    run.count(&tally);
                    return Err(e);
                }
            };
        if !cache.knows_everything() {
            // Warm: the next page's state read goes before this page's commit
            // (`pull/read_ahead.rs`), so it is planned while this one is written. Its fetch is
            // waited for only while the commit in flight runs: this page's commit could not
            // start before that one lands anyway.
            if let Some(fetching) = next_page.as_mut() {
                if in_flight.is_some() {
                    let fetched = fetching.until_done();
                    overlap(in_flight.as_mut(), NOTHING_BESIDE, fetched, |_| true).await;
                }
                if let Background::Done((Ok(page), _)) = fetching {
                    let request = metas_request(&page.metas);
                    read_ahead = read_ahead::start(store, cache, &next, Some(serial + 1), &request);
                }
            }
        }
        let sent_owned = sent.clone();
        let mut commit =
            Background::new(
                async move { commit_planned(store, planned, sent_owned.as_deref()).await },
            );
        if in_flight.as_ref().is_some_and(|f| !f.moves_cursor) {
            // Page n did not move the cursor: page n+1's compare-and-set could not tell a
            // failed commit n, so n must land before n+1's commit is issued.
            if let Settled::Moved = settle_in_flight!() {
                continue;
            }
        }
        // Page n+1's commit is issued (first polled) while page n's is awaited.
        match run
            .settle(
                store,
                &mut meta,
                cache,
                &mut in_flight,
                Some(&mut commit),
                next_page.as_mut(),
                progress,
            )
            .await?
        {
            Settled::Done => {}
            Settled::Moved => {
                // Page n did not land. Page n+1's commit, run to its end behind it, lands
                // only if another context committed exactly page n first (its
                // compare-and-set matched): then it is this call's page, and reported. The
                // loop goes on from the cursor `settle` read back.
                if let Background::Done(Ok(planned)) = commit {
                    run.count(&tally);
                    run.committed(store, &mut meta, planned, drained, progress)
                        .await?;
                    planned_drained = drained;
                }
                continue;
            }
        }
        run.count(&tally);
        in_flight = Some(InFlight {
            commit,
            drained,
            moves_cursor: sent.as_deref() != Some(next.as_str()),
        });
        planned_drained = drained;
        ahead = next_page.map(|bg| (next.clone(), bg));
        meta.cursor = Some(next);
        meta.page_serial = serial + 1;
    }
    if run.report.drained && !run.scope.is_empty() {
        // What the cache knows is not read again (after a cold start: nothing is read).
        let reads = CachedReads {
            cache: &*cache,
            store,
        };
        run.report.integrity = check_integrity_with(&reads, &run.scope).await?;
    }
    run.report.duration_ms = clock.now_ms().saturating_sub(started);
    Ok(run.report)
}
