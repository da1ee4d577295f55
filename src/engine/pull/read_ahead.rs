//! Warm pulls: page n+1's state read is issued before page n's commit.
//!
//! A page whose keys the call's [`StateCache`] does not know must read them (a warm store:
//! rows held before this call). IndexedDB runs a readonly transaction only after every
//! readwrite transaction created before it over the same stores, so a read created after
//! page n's commit waits for that whole commit, and page n+1 cannot be planned meanwhile.
//! Created before it instead, the read runs ahead of the commit and page n+1 is planned
//! while page n is written.
//!
//! Why the earlier read is exact: it asks only for what the cache does not know once page
//! n is planned, and page n's commit writes only keys of its own plan (which the cache
//! answers) — a reset clears a kind the cache then knows whole, and a sweep only ends a
//! drained page, after which nothing is fetched. Other writers are handled as for any read:
//! another context's page moves the cursor (the read is dropped with the cache), a settled
//! rename is caught by the commit's version check.

use crate::engine::pull::background::Background;
use crate::engine::pull::state_cache::StateCache;
use crate::engine::store::cache::{LocalState, StateRequest, Store, StoreError};
use std::future::Future;

/// A state read answered, with the request it answers.
pub type StateRead = (StateRequest, Result<LocalState, StoreError>);

/// A read started for the page fetched with `cursor`.
pub(super) struct ReadAhead<F: Future<Output = StateRead>> {
    cursor: String,
    /// The cache's generation when the read was planned.
    generation: u64,
    read: Background<F>,
}

impl<F: Future<Output = StateRead>> ReadAhead<F> {
    /// The read's answer, awaiting the rest of it.
    pub(super) async fn finish(self) -> StateRead {
        self.read.finish().await
    }
}

/// The read in `slot` if it was started for the page fetched with `cursor` and `cache` has
/// dropped nothing since (a failed commit: the page before may then have been written by
/// someone else, after the read); any other is dropped (reads leave nothing behind, see
/// `Store::local_state`).
pub(super) fn take_for<F: Future<Output = StateRead>>(
    slot: &mut Option<ReadAhead<F>>,
    cursor: Option<&str>,
    cache: &StateCache,
) -> Option<ReadAhead<F>> {
    slot.take().filter(|ahead| {
        cursor == Some(ahead.cursor.as_str()) && ahead.generation == cache.generation()
    })
}

/// Reads `missing`, keeping the request with the answer.
async fn read_state<S: Store>(store: &S, missing: StateRequest) -> StateRead {
    let read = store.local_state(&missing).await;
    (missing, read)
}

/// Starts the read of what `cache` does not know about `request`, the needs of the page
/// fetched with `cursor`, to be committed at page serial `serial` (where the cache must be
/// anchored: the page before is planned); `None` when the cache knows it all.
pub(super) fn start<'a, S: Store>(
    store: &'a S,
    cache: &mut StateCache,
    cursor: &str,
    serial: Option<u64>,
    request: &StateRequest,
) -> Option<ReadAhead<impl Future<Output = StateRead> + 'a>> {
    let (_, missing) = cache.answer(Some(cursor), serial, request);
    if missing.is_empty() {
        return None;
    }
    let mut read = Background::new(read_state(store, missing));
    read.start();
    Some(ReadAhead {
        cursor: cursor.to_string(),
        generation: cache.generation(),
        read,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::engine::MemoryStore;
    use crate::protocol::Kind;

    fn request() -> StateRequest {
        StateRequest {
            keys: vec![(Kind::Dashboard, "dsh_1".into())],
            widgets: Vec::new(),
        }
    }

    #[test]
    fn a_read_is_used_only_for_its_cursor_and_while_the_cache_kept_what_it_knew() {
        let store = MemoryStore::new();
        let mut cache = StateCache::unknown();
        let mut slot = start(&store, &mut cache, "c1", None, &request());
        assert!(
            take_for(&mut slot, Some("c2"), &cache).is_none(),
            "another cursor"
        );
        assert!(slot.is_none(), "taken and dropped");

        slot = start(&store, &mut cache, "c1", None, &request());
        assert!(take_for(&mut slot, Some("c1"), &cache).is_some());

        slot = start(&store, &mut cache, "c1", None, &request());
        // A commit failed meanwhile: the page before may have been written by someone else.
        cache.forget();
        assert!(take_for(&mut slot, Some("c1"), &cache).is_none());
    }
}
