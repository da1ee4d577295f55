//! What happens to a pulled page — the one place to read it.
//!
//! [`apply_page`]: privacy stripping (§7) → each item's [`ItemMeta`] (key, version, snapshot
//! metadata; `item_meta.rs`) → ask the store for exactly the local state those depend on →
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
//! Every upsert's key is also listed in the plan's [`ReplacementStep`](super::ReplacementStep):
//! when the page belongs to a full replacement (a pull begun without a cursor), the store
//! marks it as sent, and the draining page sweeps what was not (`replacement.rs`).
//!
//! Replaying an applied page against the resulting state plans writes that leave the store
//! exactly as it is (versions are not newer, snapshot keys are held or refused again).

use super::config::PullConfig;
use super::error::PullError;
use super::integrity::IntegrityScope;
use super::item_meta::{item_meta, metas_request, row_key, ItemMeta};
use super::privacy::strip_item;
use super::snapshot_retention::SnapshotRetention;
use super::state_cache::StateCache;
use super::store::{
    ApplyPlan, LocalState, SnapshotMeta, StateRequest, Store, StoreError, StoredRow,
    StoredSnapshot, Swept,
};
use crate::protocol::{Kind, PageError, PullItem, PullPage, Row};
use std::collections::{BTreeMap, BTreeSet};

/// The counts behind the pull report, for one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageSummary {
    /// Items that changed local state, per kind (resets are counted in `resets`).
    pub applied: BTreeMap<Kind, u64>,
    /// Upserts not newer than the held version, and snapshots already held (or offered
    /// earlier in the page) or identical to the snapshot before them.
    pub duplicates_skipped: u64,
    /// Snapshots dropped by retention (including ones refused for being older than every
    /// snapshot held at full retention).
    pub snapshots_trimmed: u64,
    /// Widget ids of snapshots dropped for their size, in page order, without repeats.
    pub snapshots_too_large: Vec<String>,
    pub resets: Vec<Kind>,
    /// Kinds whose stored rows the plan changes.
    pub changed: BTreeSet<Kind>,
    /// What the integrity gate must check.
    pub scope: IntegrityScope,
    /// What the store's replacement sweep removed when this page committed.
    pub swept: Swept,
}

impl PageSummary {
    /// Items that changed local state, all kinds together.
    pub fn items_applied(&self) -> u64 {
        self.applied.values().sum::<u64>() + self.resets.len() as u64
    }
}

/// A page's writes and what they mean.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PagePlan {
    pub plan: ApplyPlan,
    pub summary: PageSummary,
}

/// A page's writes with the puts named by item index: what [`plan_metas`] decides before
/// any row is touched. Applied in the same order as [`ApplyPlan`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexPlan {
    pub clear_kinds: Vec<Kind>,
    pub row_deletes: Vec<(Kind, String)>,
    /// (`widget_id`, `generated_at`) of snapshots to drop: trims and tombstoned widgets.
    pub snapshot_deletes: Vec<(String, String)>,
    /// Items whose row is put (each an [`ItemMeta::Upsert`]), in (kind, key) order.
    pub row_puts: Vec<usize>,
    /// Items whose snapshot is put (each an [`ItemMeta::Append`]), by widget then
    /// `generatedAt`.
    pub snapshot_puts: Vec<usize>,
    pub replacement: super::store::ReplacementStep,
}

/// What the planner must know about local state to plan `items`: [`metas_request`] of
/// their metadata, without computing any snapshot digest (items the planner would refuse
/// are left out).
pub fn state_request(items: &[PullItem]) -> StateRequest {
    let mut keys = BTreeSet::new();
    let mut widgets = BTreeSet::new();
    for item in items {
        match item {
            PullItem::Upsert { kind, row, .. } => {
                if let Some(key) = row_key(*kind, row) {
                    keys.insert((*kind, key.to_string()));
                }
            }
            PullItem::Tombstone { kind, id } => {
                keys.insert((*kind, id.clone()));
                if *kind == Kind::Widget {
                    widgets.insert(id.clone());
                }
            }
            PullItem::Append { row, .. } => {
                if let Some(w) = row.get("widgetId").and_then(|v| v.as_str()) {
                    widgets.insert(w.to_string());
                }
            }
            PullItem::Reset { .. } => {}
        }
    }
    StateRequest {
        keys: keys.into_iter().collect(),
        widgets: widgets.into_iter().collect(),
    }
}

/// A widget's snapshots as the page leaves them: the retained set and the snapshots this
/// page brought (item index by `generatedAt`; only those still retained are written).
struct WidgetSnapshots {
    retention: SnapshotRetention,
    new: BTreeMap<String, usize>,
}

/// The local state as the page's items have left it so far.
struct Overlay<'a> {
    state: &'a LocalState,
    cleared: BTreeSet<Kind>,
    /// Rows the page decided: `Some((item, version))` = that item's row is written,
    /// `None` = the row is gone.
    rows: BTreeMap<(Kind, String), Option<(usize, u64)>>,
    snapshots: BTreeMap<String, WidgetSnapshots>,
}

impl<'a> Overlay<'a> {
    /// Version held before this page (after any reset of its kind).
    fn baseline_version(&self, kind: Kind, key: &str) -> Option<u64> {
        if self.cleared.contains(&kind) {
            return None;
        }
        self.state.versions.get(&(kind, key.to_string())).copied()
    }

    fn current_version(&self, kind: Kind, key: &str) -> Option<u64> {
        match self.rows.get(&(kind, key.to_string())) {
            Some(decided) => decided.map(|(_, version)| version),
            None => self.baseline_version(kind, key),
        }
    }

    fn baseline_snapshots(&self, widget: &str) -> Vec<SnapshotMeta> {
        if self.cleared.contains(&Kind::WidgetSnapshot) {
            return Vec::new();
        }
        self.state
            .snapshots
            .get(widget)
            .cloned()
            .unwrap_or_default()
    }

    fn widget(&mut self, widget: &str) -> &mut WidgetSnapshots {
        let baseline = if self.snapshots.contains_key(widget) {
            Vec::new()
        } else {
            self.baseline_snapshots(widget)
        };
        self.snapshots
            .entry(widget.to_string())
            .or_insert_with(|| WidgetSnapshots {
                retention: SnapshotRetention::new(baseline),
                new: BTreeMap::new(),
            })
    }

    fn reset(&mut self, kind: Kind) {
        self.cleared.insert(kind);
        self.rows.retain(|(k, _), _| *k != kind);
        if kind == Kind::WidgetSnapshot {
            self.snapshots.clear();
        }
    }
}

/// Plans one page against the local state the store returned for [`state_request`].
/// Fails only on items the strict parser would have refused (see `item_meta.rs`). Borrows
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

/// Plans a page from its items' metadata against the local state the store returned for
/// [`metas_request`]: which items are written, what is deleted, what the page means.
pub fn plan_metas(
    metas: &[ItemMeta],
    state: &LocalState,
    config: &PullConfig,
) -> (IndexPlan, PageSummary) {
    let mut o = Overlay {
        state,
        cleared: BTreeSet::new(),
        rows: BTreeMap::new(),
        snapshots: BTreeMap::new(),
    };
    let mut s = PageSummary::default();
    let mut replacement = super::store::ReplacementStep::default();
    for (index, meta) in metas.iter().enumerate() {
        match meta {
            ItemMeta::Upsert { kind, key, version } => {
                let (kind, version) = (*kind, *version);
                replacement.sent.push((kind, key.clone()));
                if o.current_version(kind, key)
                    .is_some_and(|held| version <= held)
                {
                    s.duplicates_skipped += 1;
                    continue;
                }
                if kind == Kind::Widget {
                    s.scope.widgets.insert(key.clone());
                }
                o.rows.insert((kind, key.clone()), Some((index, version)));
                *s.applied.entry(kind).or_default() += 1;
            }
            ItemMeta::Tombstone { kind, id } => {
                let kind = *kind;
                match kind {
                    Kind::Dashboard => s.scope.removed_dashboards.insert(id.clone()),
                    Kind::MetricDefinition => s.scope.removed_metrics.insert(id.clone()),
                    _ => false,
                };
                let mut changed = o.current_version(kind, id).is_some();
                if kind == Kind::Widget {
                    // Its snapshots go with it, held ones and ones offered earlier alike.
                    let w = o.widget(id);
                    changed |= !w.retention.held().is_empty();
                    w.retention.clear();
                    w.new.clear();
                }
                o.rows.insert((kind, id.clone()), None);
                if changed {
                    *s.applied.entry(kind).or_default() += 1;
                }
            }
            ItemMeta::TooLarge { widget_id } => {
                if !s.snapshots_too_large.iter().any(|w| w == widget_id) {
                    s.snapshots_too_large.push(widget_id.clone());
                }
            }
            ItemMeta::Append {
                widget_id,
                snapshot,
            } => {
                let w = o.widget(widget_id);
                if w.retention.offer(snapshot.clone()) {
                    w.new.insert(snapshot.generated_at.clone(), index);
                } else {
                    s.duplicates_skipped += 1;
                }
            }
            ItemMeta::Reset { kind } => {
                replacement.resets_widgets |= *kind == Kind::Widget;
                o.reset(*kind);
                s.resets.push(*kind);
                s.scope.reset_kinds.insert(*kind);
            }
        }
    }
    let mut plan = finish(o, config.retention, &mut s);
    plan.replacement = replacement;
    s.changed = changed_kinds(&plan, metas);
    (plan, s)
}

/// Turns the final overlay into writes (only differences from the baseline) and counts
/// what snapshot retention decided.
fn finish(mut o: Overlay<'_>, retention: usize, s: &mut PageSummary) -> IndexPlan {
    let mut plan = IndexPlan {
        clear_kinds: o.cleared.iter().copied().collect(),
        ..IndexPlan::default()
    };
    let (rows, snapshots) = (
        std::mem::take(&mut o.rows),
        std::mem::take(&mut o.snapshots),
    );
    for ((kind, key), decided) in rows {
        match decided {
            Some((item, _)) => plan.row_puts.push(item),
            None if o.baseline_version(kind, &key).is_some() => {
                plan.row_deletes.push((kind, key));
            }
            None => {}
        }
    }
    for (widget, w) in snapshots {
        let retained = w.retention.resolve(retention);
        s.duplicates_skipped += retained.identical;
        s.snapshots_trimmed += retained.trimmed;
        if !retained.admitted.is_empty() {
            *s.applied.entry(Kind::WidgetSnapshot).or_default() += retained.admitted.len() as u64;
            s.scope.snapshot_widgets.insert(widget.clone());
        }
        let kept: BTreeSet<&str> = retained
            .kept
            .iter()
            .map(|m| m.generated_at.as_str())
            .collect();
        for old in o.baseline_snapshots(&widget) {
            if !kept.contains(old.generated_at.as_str()) {
                plan.snapshot_deletes
                    .push((widget.clone(), old.generated_at));
            }
        }
        plan.snapshot_puts.extend(
            w.new
                .into_iter()
                .filter(|(at, _)| retained.admitted.contains(at))
                .map(|(_, item)| item),
        );
    }
    plan
}

fn changed_kinds(plan: &IndexPlan, metas: &[ItemMeta]) -> BTreeSet<Kind> {
    let mut kinds: BTreeSet<Kind> = plan.clear_kinds.iter().copied().collect();
    kinds.extend(plan.row_deletes.iter().map(|(k, _)| *k));
    kinds.extend(plan.row_puts.iter().filter_map(|&i| match &metas[i] {
        ItemMeta::Upsert { kind, .. } => Some(*kind),
        _ => None,
    }));
    if !plan.snapshot_deletes.is_empty() || !plan.snapshot_puts.is_empty() {
        kinds.insert(Kind::WidgetSnapshot);
    }
    kinds
}

/// The [`ApplyPlan`] of `plan`: the rows it names moved out of `items` (no copy).
fn with_rows(plan: IndexPlan, metas: &[ItemMeta], items: Vec<PullItem>) -> ApplyPlan {
    let mut rows: Vec<Option<Row>> = items
        .into_iter()
        .map(|item| match item {
            PullItem::Upsert { row, .. } | PullItem::Append { row, .. } => Some(row),
            PullItem::Tombstone { .. } | PullItem::Reset { .. } => None,
        })
        .collect();
    let row_puts = plan
        .row_puts
        .iter()
        .filter_map(|&i| match (&metas[i], rows[i].take()) {
            (ItemMeta::Upsert { kind, key, version }, Some(row)) => Some(StoredRow {
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
) -> Result<PagePlan, PullError> {
    apply_page_cached(store, page, sent_cursor, config, &mut StateCache::unknown()).await
}

/// A page planned and not yet committed: its writes, what they mean, and where it leads.
#[derive(Debug, Clone)]
pub struct PlannedPage {
    pub planned: PagePlan,
    /// The cursor the store holds once this page is committed.
    pub next_cursor: String,
    pub drained: bool,
}

/// [`apply_page`] asking the store only for the local state `cache` does not know
/// (`state_cache.rs`), keeping `cache` up to date with what the commit changed.
pub async fn apply_page_cached<S: Store>(
    store: &S,
    page: PullPage,
    sent_cursor: Option<&str>,
    config: &PullConfig,
    cache: &mut StateCache,
) -> Result<PagePlan, PullError> {
    let page = plan_fetched(store, page, sent_cursor, config, cache).await?;
    let committed = commit_planned(store, page, sent_cursor).await;
    settle_cache(cache, committed)
}

/// Privacy, local state (what `cache` does not know is read from the store) and the plan of
/// one page fetched with `sent_cursor`. `cache` is then told the plan as if committed (the
/// next page may be planned before this commit ends); [`settle_cache`] corrects it.
pub async fn plan_fetched<S: Store>(
    store: &S,
    mut page: PullPage,
    sent_cursor: Option<&str>,
    config: &PullConfig,
    cache: &mut StateCache,
) -> Result<PlannedPage, PullError> {
    for item in &mut page.items {
        strip_item(item, &config.user_id);
    }
    let metas = metas_of(&page.items, config).map_err(|e| PullError::BadResponse {
        attempts: 1,
        detail: e.to_string(),
    })?;
    let (mut state, missing) = cache.answer(sent_cursor, &metas_request(&metas));
    if !missing.keys.is_empty() || !missing.widgets.is_empty() {
        let read = store.local_state(&missing).await?;
        cache.learn(&missing, read, &mut state);
    }
    let (plan, summary) = plan_metas(&metas, &state, config);
    let mut planned = PagePlan {
        plan: with_rows(plan, &metas, page.items),
        summary,
    };
    planned.plan.replacement.drains = page.drained;
    cache.planned(&planned.plan, &page.next_cursor);
    Ok(PlannedPage {
        planned,
        next_cursor: page.next_cursor,
        drained: page.drained,
    })
}

/// One atomic commit of a planned page with the cursor compare-and-set against
/// `sent_cursor` (else `CursorMoved` and nothing is written). Owns the page, so it can run
/// while the next one is planned.
pub async fn commit_planned<S: Store>(
    store: &S,
    page: PlannedPage,
    sent_cursor: Option<&str>,
) -> Result<PagePlan, StoreError> {
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
pub fn settle_cache(
    cache: &mut StateCache,
    committed: Result<PagePlan, StoreError>,
) -> Result<PagePlan, PullError> {
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
