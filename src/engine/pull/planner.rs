//! The planner: one page's items, as metadata ([`ItemMeta`]), against the local state they
//! depend on → which items are written, what is deleted, and what the page means
//! ([`PageSummary`]). The rules are described where a page's whole path is, `pull/apply_plan.rs`.

use crate::engine::pull::config::PullConfig;
use crate::engine::pull::integrity::IntegrityScope;
use crate::engine::pull::item_meta::ItemMeta;
use crate::engine::pull::snapshot_retention::SnapshotRetention;
use crate::engine::sorting::sort_by;
use crate::engine::store::cache::{LocalState, ReplacementStep, SnapshotMeta, Swept};
use crate::protocol::{Kind, KindCounts, KindSet};
use std::collections::HashMap;

/// The counts behind the pull report, for one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageSummary {
    /// Items that changed local state, per kind (resets are counted in `resets`).
    pub applied: KindCounts,
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
    pub changed: KindSet,
    /// What the integrity gate must check.
    pub scope: IntegrityScope,
    /// What the store's replacement sweep removed when this page committed.
    pub swept: Swept,
}

impl PageSummary {
    /// Items that changed local state, all kinds together.
    pub fn items_applied(&self) -> u64 {
        self.applied.total() + self.resets.len() as u64
    }
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
    pub replacement: ReplacementStep,
}

/// A widget's snapshots as the page leaves them: the retained set and the snapshots this
/// page brought (item index by `generatedAt`; only those still retained are written).
struct WidgetSnapshots {
    retention: SnapshotRetention,
    /// (`generatedAt`, item) of each offer taken (offers are unique by `generatedAt`).
    new: Vec<(String, usize)>,
}

/// The local state as the page's items have left it so far.
struct Overlay<'a> {
    state: &'a LocalState,
    cleared: KindSet,
    /// Rows the page decided: `Some((item, version))` = that item's row is written,
    /// `None` = the row is gone. Hash maps (sorted once in `finish`): each B-tree map type
    /// costs the wasm ≈ 7 KB of node code.
    rows: HashMap<(Kind, String), Option<(usize, u64)>>,
    snapshots: HashMap<String, WidgetSnapshots>,
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
                new: Vec::new(),
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

/// Plans a page from its items' metadata against the local state the store returned for
/// [`metas_request`]: which items are written, what is deleted, what the page means.
pub fn plan_metas(
    metas: &[ItemMeta],
    state: &LocalState,
    config: &PullConfig,
) -> (IndexPlan, PageSummary) {
    let mut o = Overlay {
        state,
        cleared: KindSet::new(),
        rows: HashMap::new(),
        snapshots: HashMap::new(),
    };
    let mut s = PageSummary::default();
    let mut replacement = ReplacementStep::default();
    for (index, meta) in metas.iter().enumerate() {
        match meta {
            ItemMeta::Upsert {
                kind, key, version, ..
            } => {
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
                s.applied.add(kind, 1);
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
                    s.applied.add(kind, 1);
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
                    w.new.push((snapshot.generated_at.clone(), index));
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
        clear_kinds: o.cleared.iter().collect(),
        ..IndexPlan::default()
    };
    let mut rows: Vec<_> = std::mem::take(&mut o.rows).into_iter().collect();
    sort_by(&mut rows, |a, b| a.0.cmp(&b.0));
    let mut snapshots: Vec<_> = std::mem::take(&mut o.snapshots).into_iter().collect();
    sort_by(&mut snapshots, |a, b| a.0.cmp(&b.0));
    for ((kind, key), decided) in rows {
        match decided {
            Some((item, _)) => plan.row_puts.push(item),
            None if o.baseline_version(kind, &key).is_some() => {
                plan.row_deletes.push((kind, key));
            }
            None => {}
        }
    }
    for (widget, mut w) in snapshots {
        let retained = w.retention.resolve(retention);
        s.duplicates_skipped += retained.identical;
        s.snapshots_trimmed += retained.trimmed;
        if !retained.admitted.is_empty() {
            s.applied
                .add(Kind::WidgetSnapshot, retained.admitted.len() as u64);
            s.scope.snapshot_widgets.insert(widget.clone());
        }
        // At most `retention` entries: a vector, not a set type of its own in the wasm.
        let kept: Vec<&str> = retained
            .kept
            .iter()
            .map(|m| m.generated_at.as_str())
            .collect();
        for old in o.baseline_snapshots(&widget) {
            if !kept.contains(&old.generated_at.as_str()) {
                plan.snapshot_deletes
                    .push((widget.clone(), old.generated_at));
            }
        }
        sort_by(&mut w.new, |a, b| a.0.cmp(&b.0));
        plan.snapshot_puts.extend(
            w.new
                .into_iter()
                .filter(|(at, _)| retained.admitted.contains(at))
                .map(|(_, item)| item),
        );
    }
    plan
}

fn changed_kinds(plan: &IndexPlan, metas: &[ItemMeta]) -> KindSet {
    let mut kinds: KindSet = plan.clear_kinds.iter().copied().collect();
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
