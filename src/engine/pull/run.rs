//! One pull call's bookkeeping (`Run`) and the commit in flight (`InFlight`): how a
//! committed page is reported, and how the pull loop (`pull/page_loop.rs`) awaits a commit while it
//! drives the work that overlaps it.

use crate::engine::pull::apply_plan::{settle_cache, PagePlan};
use crate::engine::pull::background::Background;
use crate::engine::pull::error::PullError;
use crate::engine::pull::fetch::FetchTally;
use crate::engine::pull::integrity::IntegrityScope;
use crate::engine::pull::report::{PullProgress, PullReport};
use crate::engine::pull::state_cache::StateCache;
use crate::engine::store::cache::{Store, StoreError, SyncMeta};
use std::future::Future;

/// One pull call's mutable bookkeeping.
pub(super) struct Run {
    pub(super) report: PullReport,
    pub(super) scope: IntegrityScope,
    /// `fresh=true` is sent until the server has answered once: the server rate-limits it,
    /// so repeating it on every page would earn a 429.
    pub(super) fresh: bool,
}

impl Run {
    /// Takes in what fetching one page cost.
    pub(super) fn count(&mut self, tally: &FetchTally) {
        self.report.bytes_pulled += tally.bytes_pulled;
        self.report.retries += tally.retries;
        self.fresh &= !tally.answered;
    }
}

/// Page n's commit, issued and still running while page n+1 is fetched and planned.
pub(super) struct InFlight<F: Future> {
    pub(super) commit: Background<F>,
    pub(super) drained: bool,
    /// The page's `nextCursor` differs from the cursor it was fetched with. Only then does
    /// the next page's compare-and-set refuse it if this commit does not land, so only then
    /// is the next commit issued before this one has landed.
    pub(super) moves_cursor: bool,
}

/// No future to drive beside another (`overlap`, `Run::settle`).
pub(super) const NOTHING_BESIDE: Option<&mut Background<std::future::Ready<()>>> = None;

/// How the commit in flight ended.
pub(super) enum Settled {
    /// Nothing was in flight, or it committed (and is now reported).
    Done,
    /// Another context moved the stored cursor: nothing of the page was written.
    Moved,
}

/// Awaits `work` while driving the commit in flight (stepped first: it comes before
/// anything of the next page) and the prefetch (stepped after), whichever exist. `None`
/// when the commit in flight ended first with an outcome `stop` accepts: `work` is dropped
/// where it got to.
pub(super) async fn overlap<F, B, W, P>(
    commit: Option<&mut InFlight<F>>,
    prefetch: Option<&mut Background<B>>,
    work: W,
    stop: impl Fn(&Result<PagePlan<P>, StoreError>) -> bool,
) -> Option<W::Output>
where
    F: Future<Output = Result<PagePlan<P>, StoreError>>,
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
        Some(c) => c.commit.lead_unless(work, stop).await,
        None => Some(work.await),
    }
}

impl Run {
    /// Reports a committed page: counts, integrity scope, the revoked flag its commit
    /// clears, progress.
    pub(super) async fn committed<S: Store>(
        &mut self,
        store: &S,
        meta: &mut SyncMeta,
        planned: PagePlan<S::Payload>,
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

    /// Awaits the commit in flight (driving `next`, the commit issued behind it, and
    /// `prefetch`, the fetch of the page after, meanwhile: that page is decoded while the
    /// browser writes) and reports it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle<
        S: Store,
        F: Future<Output = Result<PagePlan<S::Payload>, StoreError>>,
        N: Future,
        B: Future,
    >(
        &mut self,
        store: &S,
        meta: &mut SyncMeta,
        cache: &mut StateCache,
        in_flight: &mut Option<InFlight<F>>,
        next: Option<&mut Background<N>>,
        prefetch: Option<&mut Background<B>>,
        progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<Settled, PullError> {
        let Some(InFlight {
            commit, drained, ..
        }) = in_flight.take()
        else {
            return Ok(Settled::Done);
        };
        let landed = async {
            match prefetch {
                Some(prefetch) => prefetch.drive_while(commit.finish()).await,
                None => commit.finish().await,
            }
        };
        let (committed, next) = match next {
            Some(next) => (next.drive_while(landed).await, Some(next)),
            None => (landed.await, None),
        };
        if let (Err(_), Some(next)) = (&committed, next) {
            // The commit issued behind a failed one is run to its end, not dropped midway (an
            // IndexedDB request's handlers would outlive its future): its compare-and-set
            // refuses it, nothing of it is written, its outcome is not looked at.
            next.until_done().await;
        }
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
