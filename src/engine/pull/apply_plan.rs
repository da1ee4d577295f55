//! What happens to a pulled page — the one place to read it.
//!
//! [`apply_page`]: the page decoded (`pull/decoded_page.rs`: privacy stripping (§7), each item's
//! [`ItemMeta`] — key, version, snapshot metadata, `pull/item_meta.rs` — and its row held as the
//! store holds rows) → ask the store for exactly the local state those depend on →
//! [`plan_metas`] → the rows the plan names by index moved into it → one atomic
//! `commit_page` of the plan together with the cursor compare-and-set. Everything is
//! computed before storage is written, so the IndexedDB transaction only ever awaits its own
//! requests.
//!
//! [`plan_metas`] never sees a row: it walks the items' metadata in server log order against an in-memory overlay of the
//! local state, so later items see the effect of earlier ones, then turns the final overlay
//! into the minimal set of writes:
//! - `upsert`: applied only if newer than the held version (lower or equal is ignored);
//! - `tombstone`: deletes a held row; a tombstoned Widget takes its held snapshots along;
//! - `append`: a snapshot over `max_snapshot_bytes` is dropped and reported; the others are
//!   offered to the widget's [`SnapshotRetention`], which decides once the whole page is
//!   read (newest N, no key written twice, nothing identical to the snapshot before it —
//!   for an in-order append, the newest held one);
//! - `reset`: every local row of the kind goes first (`clear_kinds`); writes planned earlier
//!   in the page for that kind are discarded, the overlay for the kind becomes empty.
//!
//! Every upsert's key is also listed in the plan's [`ReplacementStep`](crate::engine::ReplacementStep):
//! when the page belongs to a full replacement (a pull begun without a cursor), the store
//! marks it as sent, and the draining page sweeps what was not (`pull/replacement.rs`).
//!
//! Replaying an applied page against the resulting state plans writes that leave the store
//! exactly as it is (versions are not newer, snapshot keys are held or refused again).

use crate::engine::pull::config::PullConfig;
use crate::engine::pull::decoded_page::DecodedPage;
use crate::engine::pull::error::PullError;
use crate::engine::pull::integrity::WidgetRef;
use crate::engine::pull::item_meta::{item_meta, metas_request, ItemMeta};
pub use crate::engine::pull::planner::{plan_metas, IndexPlan, PageSummary};
use crate::engine::pull::read_ahead::StateRead;
use crate::engine::pull::state_cache::StateCache;
use crate::engine::store::cache::{
    ApplyPlan, LocalState, StateRequest, Store, StoreError, StoredRow, StoredSnapshot,
};
use crate::protocol::{Kind, PageError, PullItem, PullPage, Row};

/// A page's writes and what they mean.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PagePlan<P = Row> {
    pub plan: ApplyPlan<P>,
    pub summary: PageSummary,
}

/// What the planner must know about local state to plan `items` ([`metas_request`] of their
/// metadata; items the planner would refuse are left out). Read with a zero snapshot budget,
/// every append counts as too large: only its widget id is taken, no digest is computed.
pub fn state_request(items: &[PullItem]) -> StateRequest {
    let config = PullConfig {
        max_snapshot_bytes: 0,
        ..PullConfig::new("")
    };
    let metas: Vec<ItemMeta> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| item_meta(i, item, &config).ok())
        .collect();
    metas_request(&metas)
}

/// Plans one page against the local state the store returned for [`state_request`].
/// Fails only on items the strict parser would have refused (see `pull/item_meta.rs`). Borrows
/// the items: see [`plan_items`] for the version that moves the rows into the plan.
pub fn plan_page(
    items: &[PullItem],
    state: &LocalState,
    config: &PullConfig,
) -> Result<PagePlan, PageError> {
    plan_items(items.to_vec(), state, config)
}

/// [`plan_page`] taking the items by value: every row ends up in the plan (or is dropped)
/// without a copy, which is what a 2000-item page of nested JSON maps costs most.
pub fn plan_items(
    items: Vec<PullItem>,
    state: &LocalState,
    config: &PullConfig,
) -> Result<PagePlan, PageError> {
    let metas = metas_of(&items, config)?;
    let (plan, summary) = plan_metas(&metas, state, config);
    Ok(PagePlan {
        plan: with_rows(plan, &metas, items),
        summary,
    })
}

/// Every item's [`ItemMeta`], or the first item the planner refuses.
pub fn metas_of(items: &[PullItem], config: &PullConfig) -> Result<Vec<ItemMeta>, PageError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| item_meta(i, item, config))
        .collect()
}

/// The [`ApplyPlan`] of `plan`: the rows it names moved out of `items` (no copy).
fn with_rows(plan: IndexPlan, metas: &[ItemMeta], items: Vec<PullItem>) -> ApplyPlan {
    let rows = items
        .into_iter()
        .map(|item| match item {
            PullItem::Upsert { row, .. } | PullItem::Append { row, .. } => Some(row),
            PullItem::Tombstone { .. } | PullItem::Reset { .. } => None,
        })
        .collect();
    plan_with_rows(plan, metas, rows)
}

/// The [`ApplyPlan`] of `plan`: the rows it names moved out of `rows` (item `i`'s row at
/// `rows[i]`, however the store holds it; no copy).
fn plan_with_rows<P>(
    plan: IndexPlan,
    metas: &[ItemMeta],
    mut rows: Vec<Option<P>>,
) -> ApplyPlan<P> {
    let row_puts = plan
        .row_puts
        .iter()
        .filter_map(|&i| match (&metas[i], rows[i].take()) {
            (
                ItemMeta::Upsert {
                    kind, key, version, ..
                },
                Some(row),
            ) => Some(StoredRow {
                kind: *kind,
                key: key.clone(),
                version: *version,
                row,
            }),
            _ => None,
        })
        .collect();
    let snapshot_puts = plan
        .snapshot_puts
        .iter()
        .filter_map(|&i| match (&metas[i], rows[i].take()) {
            (
                ItemMeta::Append {
                    widget_id,
                    snapshot,
                },
                Some(row),
            ) => Some(StoredSnapshot {
                widget_id: widget_id.clone(),
                generated_at: snapshot.generated_at.clone(),
                params_hash: snapshot.params_hash.clone(),
                rows_digest: snapshot.rows_digest.clone(),
                row,
            }),
            _ => None,
        })
        .collect();
    ApplyPlan {
        clear_kinds: plan.clear_kinds,
        row_deletes: plan.row_deletes,
        snapshot_deletes: plan.snapshot_deletes,
        row_puts,
        snapshot_puts,
        replacement: plan.replacement,
        // Set by `plan_fetched` from the cache the plan was decided on.
        settled_epoch: None,
        page_serial: None,
    }
}

/// Applies one parsed page fetched with `sent_cursor`: privacy, local state, plan, and one
/// atomic commit that also moves the cursor to the page's `nextCursor` — only if the stored
/// cursor is still `sent_cursor` (else `Storage(CursorMoved)` and nothing is written).
pub async fn apply_page<S: Store>(
    store: &S,
    page: PullPage,
    sent_cursor: Option<&str>,
    config: &PullConfig,
) -> Result<PagePlan<S::Payload>, PullError>
where
    Row: Into<S::Payload>,
{
    apply_page_cached(store, page, sent_cursor, config, &mut StateCache::unknown()).await
}

/// A page planned and not yet committed: its writes, what they mean, and where it leads.
#[derive(Debug, Clone)]
pub struct PlannedPage<P = Row> {
    pub planned: PagePlan<P>,
    /// The cursor the store holds once this page is committed.
    pub next_cursor: String,
}

/// [`apply_page`] asking the store only for the local state `cache` does not know
/// (`pull/state_cache.rs`), keeping `cache` up to date with what the commit changed.
pub async fn apply_page_cached<S: Store>(
    store: &S,
    page: PullPage,
    sent_cursor: Option<&str>,
    config: &PullConfig,
    cache: &mut StateCache,
) -> Result<PagePlan<S::Payload>, PullError>
where
    Row: Into<S::Payload>,
{
    let page = DecodedPage::from_pull_page(page, config)
        .map_err(|e| PullError::BadResponse {
            attempts: 1,
            detail: e.to_string(),
        })?
        .map_rows(Into::into);
    let page = plan_fetched(store, page, sent_cursor, None, config, cache, None).await?;
    let committed = commit_planned(store, page, sent_cursor).await;
    settle_cache(cache, committed)
}

/// Local state (what `cache` does not know is read from the store) and the plan of one
/// decoded page (privacy already stripped, `pull/decoded_page.rs`) fetched with `sent_cursor`,
/// to be committed at page serial `serial` (`ApplyPlan::page_serial`; `None`: unchecked).
/// `cache` is then told the plan as if committed (the next page may be planned before this
/// commit ends); [`settle_cache`] corrects it.
/// `read_ahead` is a read issued earlier for this page (`pull/read_ahead.rs`): used when it asked
/// exactly what is still missing, else read again.
pub async fn plan_fetched<S: Store>(
    store: &S,
    page: DecodedPage<S::Payload>,
    sent_cursor: Option<&str>,
    serial: Option<u64>,
    config: &PullConfig,
    cache: &mut StateCache,
    read_ahead: Option<StateRead>,
) -> Result<PlannedPage<S::Payload>, PullError> {
    let metas = page.metas;
    let (mut state, missing) = cache.answer(sent_cursor, serial, &metas_request(&metas));
    if !missing.is_empty() {
        let read = match read_ahead {
            Some((asked, read)) if asked == missing => read?,
            _ => store.local_state(&missing).await?,
        };
        cache.learn(&missing, read, &mut state);
    }
    let (plan, summary) = plan_metas(&metas, &state, config);
    let widgets: Vec<&WidgetRef> = plan
        .row_puts
        .iter()
        .filter_map(|&i| match &metas[i] {
            ItemMeta::Upsert { widget, .. } => widget.as_ref(),
            _ => None,
        })
        .collect();
    let mut planned = PagePlan {
        plan: plan_with_rows(plan, &metas, page.rows),
        summary,
    };
    planned.plan.replacement.drains = page.drained;
    planned.plan.page_serial = serial;
    planned.plan.replacement.into_empty =
        sent_cursor.is_none() && serial.is_some() && cache.holds_nothing();
    // Only a Query put can lower a version a settlement raised since: a plan without one
    // need not be refused when a settlement lands (`ApplyPlan::settled_epoch`).
    if planned.plan.row_puts.iter().any(|r| r.kind == Kind::Query) {
        planned.plan.settled_epoch = cache.settled_epoch();
    }
    cache.planned(&planned.plan, &widgets, &page.next_cursor);
    Ok(PlannedPage {
        planned,
        next_cursor: page.next_cursor,
    })
}

/// One atomic commit of a planned page with the cursor compare-and-set against
/// `sent_cursor` (else `CursorMoved` and nothing is written). Owns the page, so it can run
/// while the next one is planned.
pub async fn commit_planned<S: Store>(
    store: &S,
    page: PlannedPage<S::Payload>,
    sent_cursor: Option<&str>,
) -> Result<PagePlan<S::Payload>, StoreError> {
    let PlannedPage {
        mut planned,
        next_cursor,
        ..
    } = page;
    let swept = store
        .commit_page(&planned.plan, sent_cursor, &next_cursor)
        .await?;
    planned.summary.changed.extend(swept.kinds());
    planned.summary.swept = swept;
    Ok(planned)
}

/// Tells `cache` how a commit ended: what its sweep removed, or — failed — that nothing
/// planned since can be trusted.
pub fn settle_cache<P>(
    cache: &mut StateCache,
    committed: Result<PagePlan<P>, StoreError>,
) -> Result<PagePlan<P>, PullError> {
    match committed {
        Ok(planned) => {
            cache.swept(&planned.summary.swept);
            Ok(planned)
        }
        Err(e) => {
            cache.forget();
            Err(e.into())
        }
    }
}
