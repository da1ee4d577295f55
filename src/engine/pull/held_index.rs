//! How a pull call starts from the store's held index and leaves it behind
//! (`store/held_index.rs` says what it is and why it is exact).
//!
//! - At the start: a whole index exact at the stored cursor becomes the call's
//!   [`StateCache`], which then knows everything — no page reads local state — exactly at
//!   the settle epoch `meta` was read at (before the index: a settlement in between makes
//!   the first commit refuse, never lowers a version). Otherwise the
//!   cache is what [`StateCache::for_store`] makes (a cold start knows everything too; a warm
//!   store without an index reads per page, as before the index existed).
//! - At the end of a call that succeeded: a cache that knows everything saves the kinds it
//!   changed, exact at the cursor and page serial it is anchored at (the save writes nothing
//!   if either is not the stored one: a commit did not land, another context's page landed,
//!   even one that left the cursor as it was). A call that failed
//!   saves nothing: a commit it issued may still land after it returned, unseen by the cache
//!   (its sweep, say), and the index it would save could then pass the cursor check; the
//!   next call finds the index stale if anything landed, and rebuilds it. A cache that does
//!   not (no index at the start: an upgraded database, a crash between a call's last commit
//!   and its save) is replaced once by a scan of the whole store, so the next call starts
//!   from an index. Failures here are not the call's: without an index the next call reads
//!   per page, which is correct, only slower.

use crate::engine::pull::state_cache::StateCache;
use crate::engine::store::cache::{Store, StoreError, SyncMeta};

/// The cache a pull call starts with, for a store whose meta is `meta`.
pub(super) async fn load<S: Store>(store: &S, meta: &SyncMeta) -> Result<StateCache, StoreError> {
    if let Some(cursor) = &meta.cursor {
        // An index that cannot be read is as good as none: the call reads per page and a
        // scan replaces it at the end.
        if let Ok(Some(index)) = store.held_index().await {
            if index.at == *cursor && index.is_whole() {
                return Ok(StateCache::of_index(index, meta.page_serial)
                    .at_settle_epoch(meta.settled_epoch));
            }
        }
    }
    let cache = StateCache::for_store(store, meta).await?;
    Ok(cache.at_settle_epoch(meta.settled_epoch))
}

/// Leaves the index exact at the stored cursor for the next call, from `cache` when it knows
/// everything, else from a scan of the store.
pub(super) async fn persist<S: Store>(store: &S, cache: &mut StateCache) {
    if cache.knows_everything() {
        if let Some((at, serial, epoch, parts)) = cache.unsaved() {
            let at = at.to_string();
            if let Ok(true) = store.save_held_index(&at, serial, epoch, &parts).await {
                cache.saved(&at);
            }
        }
        return;
    }
    if let Ok(Some(scan)) = store.scan_held().await {
        if let Some(at) = &scan.cursor {
            let epoch = Some(scan.settled_epoch);
            let _ = store
                .save_held_index(at, scan.page_serial, epoch, &scan.parts)
                .await;
        }
    }
}
