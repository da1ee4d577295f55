//! Reads the JS API needs beyond single-row lookups, written once over [`Store`] so the
//! IndexedDB and in-memory stores answer them identically.

use super::store::{Store, StoreError, StoredSnapshot};

pub use super::freshness::freshness;

/// The newest held snapshot of a widget (what a dashboard renders until a fresh one lands).
pub async fn latest_snapshot<S: Store>(
    store: &S,
    widget_id: &str,
) -> Result<Option<StoredSnapshot>, StoreError> {
    Ok(store.snapshots_of(widget_id).await?.into_iter().next())
}

/// A widget's held snapshots, newest first, at most `retention` of them (a store written
/// under a larger retention may hold more until the next append trims them).
pub async fn snapshots<S: Store>(
    store: &S,
    widget_id: &str,
    retention: usize,
) -> Result<Vec<StoredSnapshot>, StoreError> {
    let mut held = store.snapshots_of(widget_id).await?;
    held.truncate(retention);
    Ok(held)
}
