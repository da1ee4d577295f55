//! Reads of the push side, written once over the store traits so the IndexedDB and
//! in-memory stores answer them identically. They are what `queries()`, `pending()`,
//! `conflicts()`, `deadLetters()` and the counters of `status()` show.

use crate::engine::sorting::sort_by;
use crate::engine::store::cache::{Store, StoreError, StoredRow};
use crate::engine::store::outbox::{Conflict, DeadLetter, OutboxOp, OutboxStore, Pending};
use crate::protocol::Kind;
use serde::Serialize;
use serde_json::Value;

/// Extra field set to `true` on a query row whose `name_i18n` is a local rename not yet
/// confirmed by the server (absent otherwise).
pub const PENDING_NAME_FIELD: &str = "pendingName";

/// Every held query, with the newest queued (waiting or in-flight) rename's name applied
/// and [`PENDING_NAME_FIELD`] set, so an offline rename shows at once. `version` stays the
/// last server version held.
pub async fn queries_with_pending<S: Store + OutboxStore>(
    store: &S,
) -> Result<Vec<StoredRow>, StoreError> {
    // The newest op of each query, sorted by query id for a binary search per row (a vector:
    // a map type of its own would add ≈ 7 KB of B-tree code to the wasm).
    let ops = store.outbox().await?;
    // `outbox()` is in seq order: reversed, the newest op of a query comes first, and the
    // stable sort and `dedup_by` keep it.
    let mut newest: Vec<&OutboxOp> = ops
        .iter()
        .rev()
        .filter(|op| op.kind == Kind::Query)
        .collect();
    sort_by(&mut newest, |a, b| a.entity_id.cmp(&b.entity_id));
    newest.dedup_by(|later, kept| later.entity_id == kept.entity_id);
    let mut rows = store.rows(Kind::Query).await?;
    for row in &mut rows {
        let found = newest.binary_search_by(|op| op.entity_id.as_str().cmp(row.key.as_str()));
        if let Ok(op) = found.map(|at| newest[at]) {
            row.row
                .insert("name_i18n".into(), Value::Object(op.name_i18n.clone()));
            row.row.insert(PENDING_NAME_FIELD.into(), Value::Bool(true));
        }
    }
    Ok(rows)
}

/// Everything queued, in the order push sends it: rename ops by seq, then commands by seq.
pub async fn pending<S: OutboxStore>(store: &S) -> Result<Vec<Pending>, StoreError> {
    let mut all: Vec<Pending> = store.outbox().await?.into_iter().map(Pending::Op).collect();
    all.extend(store.commands().await?.into_iter().map(Pending::Command));
    Ok(all)
}

/// Conflicts waiting for the user, oldest first (resolved ones are kept but not listed).
pub async fn open_conflicts<S: OutboxStore>(store: &S) -> Result<Vec<Conflict>, StoreError> {
    Ok(store
        .all_conflicts()
        .await?
        .into_iter()
        .filter(|c| c.resolution.is_none())
        .collect())
}

/// Ops and commands that failed for good, oldest first.
pub async fn dead_letters<S: OutboxStore>(store: &S) -> Result<Vec<DeadLetter>, StoreError> {
    store.dead_letters().await
}

/// The counters `status()` shows.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxCounts {
    /// Queued ops plus queued commands.
    pub pending: u64,
    pub conflicts: u64,
    pub dead_letters: u64,
}

/// Counts of queued writes, open conflicts and dead letters.
pub async fn outbox_counts<S: OutboxStore>(store: &S) -> Result<OutboxCounts, StoreError> {
    let pending = store.outbox().await?.len() + store.commands().await?.len();
    Ok(OutboxCounts {
        pending: pending as u64,
        conflicts: open_conflicts(store).await?.len() as u64,
        dead_letters: store.dead_letters().await?.len() as u64,
    })
}
