//! The integrity gate (seed 003 "IntegrityGate"), run after a drained pull and scoped to
//! what the pull touched, so a steady-state pull reads a handful of rows, not the database.
//!
//! Relations (the relation graph of PROTOCOL §2):
//! - `Widget.dashboardId → Dashboard`, `Widget.metricKey → MetricDefinition` — checked for
//!   widgets the pull wrote (source side) and for widgets still pointing at a dashboard or
//!   metric the pull tombstoned or reset (target side);
//! - `WidgetSnapshot.widgetId → Widget` — checked for widgets that received snapshots.
//!
//! Orphans are findings, not failures: each page was already committed atomically with its
//! cursor, and the server may legitimately send a child before its parent reaches the
//! device's scope. The report names them so they are seen.

use crate::engine::sorting::sort_dedup;
pub use crate::engine::store::cache::WidgetRef;
use crate::engine::store::cache::{Store, StoreError};
use crate::protocol::{Kind, KindSet};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Above this many touched widgets one scan of all widgets is cheaper than single reads.
const SCAN_THRESHOLD: usize = 64;

/// What a pull touched that the gate must look at. Filled by the planner, page by page. Hash
/// sets (one type for all): the findings are sorted at the end, and each B-tree set type costs
/// the wasm ≈ 7 KB of node code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrityScope {
    /// Widgets written by an upsert.
    pub widgets: HashSet<String>,
    /// Widgets that received a snapshot.
    pub snapshot_widgets: HashSet<String>,
    /// Dashboards tombstoned.
    pub removed_dashboards: HashSet<String>,
    /// Metric definitions tombstoned.
    pub removed_metrics: HashSet<String>,
    /// Kinds reset (every row of them may have gone).
    pub reset_kinds: KindSet,
}

impl IntegrityScope {
    /// Adds another page's scope to this one.
    pub fn merge(&mut self, other: IntegrityScope) {
        self.widgets.extend(other.widgets);
        self.snapshot_widgets.extend(other.snapshot_widgets);
        self.removed_dashboards.extend(other.removed_dashboards);
        self.removed_metrics.extend(other.removed_metrics);
        self.reset_kinds.extend(other.reset_kinds);
    }

    pub fn is_empty(&self) -> bool {
        *self == IntegrityScope::default()
    }
}

/// A reference from a held row to a row that is not held.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrityFinding {
    pub source_kind: Kind,
    /// The widget id (for snapshots: the widget id they carry).
    pub source_id: String,
    /// The referencing field: `dashboardId`, `metricKey` or `widgetId`.
    pub field: &'static str,
    pub target_kind: Kind,
    pub target_id: String,
}

impl WidgetRef {
    fn target(&self, field: &str) -> Option<&str> {
        match field {
            "dashboardId" => self.dashboard_id.as_deref(),
            _ => self.metric_key.as_deref(),
        }
    }
}

/// What the gate reads. [`StoreReads`] asks the store; the pull call answers from what its
/// [`StateCache`](crate::engine::pull::state_cache::StateCache) knows and asks the store for the rest.
#[allow(async_fn_in_trait)]
pub trait IntegrityReads {
    /// Every held widget.
    async fn all_widgets(&self) -> Result<Vec<WidgetRef>, StoreError>;
    /// One widget, if held.
    async fn widget(&self, id: &str) -> Result<Option<WidgetRef>, StoreError>;
    /// The held widgets pointing at `dashboard_id`.
    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<WidgetRef>, StoreError>;
    /// Which of `keys` are held for a versioned kind.
    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError>;
    /// Whether any snapshot of `widget_id` is held.
    async fn holds_snapshots(&self, widget_id: &str) -> Result<bool, StoreError>;
}

/// The gate's reads answered by the store.
pub struct StoreReads<'a, S>(pub &'a S);

impl<S: Store> IntegrityReads for StoreReads<'_, S> {
    async fn all_widgets(&self) -> Result<Vec<WidgetRef>, StoreError> {
        self.0.widget_refs().await
    }
    async fn widget(&self, id: &str) -> Result<Option<WidgetRef>, StoreError> {
        Ok(self
            .0
            .row(Kind::Widget, id)
            .await?
            .as_ref()
            .map(WidgetRef::of))
    }
    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<WidgetRef>, StoreError> {
        Ok(self
            .0
            .widgets_of(dashboard_id)
            .await?
            .iter()
            .map(WidgetRef::of)
            .collect())
    }
    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError> {
        self.0.existing_keys(kind, keys).await
    }
    async fn holds_snapshots(&self, widget_id: &str) -> Result<bool, StoreError> {
        Ok(!self.0.snapshots_of(widget_id).await?.is_empty())
    }
}

/// The widgets whose references must be checked.
async fn candidate_widgets<R: IntegrityReads>(
    reads: &R,
    scope: &IntegrityScope,
) -> Result<HashMap<String, WidgetRef>, StoreError> {
    let full_scan = scope.reset_kinds.contains(&Kind::Dashboard)
        || scope.reset_kinds.contains(&Kind::MetricDefinition)
        || scope.reset_kinds.contains(&Kind::Widget)
        || !scope.removed_metrics.is_empty()
        || scope.widgets.len() > SCAN_THRESHOLD;
    let mut out = HashMap::new();
    if full_scan {
        let reset = |k| scope.reset_kinds.contains(&k);
        let everything =
            reset(Kind::Dashboard) || reset(Kind::MetricDefinition) || reset(Kind::Widget);
        for w in reads.all_widgets().await? {
            let relevant = everything
                || scope.widgets.contains(&w.key)
                || w.metric_key
                    .as_ref()
                    .is_some_and(|m| scope.removed_metrics.contains(m))
                || w.dashboard_id
                    .as_ref()
                    .is_some_and(|d| scope.removed_dashboards.contains(d));
            if relevant {
                out.insert(w.key.clone(), w);
            }
        }
        return Ok(out);
    }
    for id in &scope.widgets {
        // A widget written and later tombstoned in the same pull is simply gone.
        if let Some(w) = reads.widget(id).await? {
            out.insert(id.clone(), w);
        }
    }
    for dashboard in &scope.removed_dashboards {
        for w in reads.widgets_of(dashboard).await? {
            out.insert(w.key.clone(), w);
        }
    }
    Ok(out)
}

/// Finds the orphans among what `scope` touched, in the store as it is now.
pub async fn check_integrity<S: Store>(
    store: &S,
    scope: &IntegrityScope,
) -> Result<Vec<IntegrityFinding>, StoreError> {
    check_integrity_with(&StoreReads(store), scope).await
}

/// [`check_integrity`] over any [`IntegrityReads`].
pub async fn check_integrity_with<R: IntegrityReads>(
    reads: &R,
    scope: &IntegrityScope,
) -> Result<Vec<IntegrityFinding>, StoreError> {
    let mut findings = Vec::new();
    let widgets = candidate_widgets(reads, scope).await?;
    for (field, target_kind) in [
        ("dashboardId", Kind::Dashboard),
        ("metricKey", Kind::MetricDefinition),
    ] {
        let mut targets: Vec<String> = widgets
            .values()
            .filter_map(|w| w.target(field).map(str::to_string))
            .collect();
        if targets.is_empty() {
            continue;
        }
        sort_dedup(&mut targets);
        let held: HashSet<String> = reads
            .existing_keys(target_kind, &targets)
            .await?
            .into_iter()
            .collect();
        for w in widgets.values() {
            if let Some(target) = w.target(field) {
                if !held.contains(target) {
                    findings.push(IntegrityFinding {
                        source_kind: Kind::Widget,
                        source_id: w.key.clone(),
                        field,
                        target_kind,
                        target_id: target.to_string(),
                    });
                }
            }
        }
    }
    if !scope.snapshot_widgets.is_empty() {
        let mut ids: Vec<String> = scope.snapshot_widgets.iter().cloned().collect();
        sort_dedup(&mut ids);
        let held: HashSet<String> = reads
            .existing_keys(Kind::Widget, &ids)
            .await?
            .into_iter()
            .collect();
        for id in ids.iter().filter(|id| !held.contains(*id)) {
            // Snapshots of a tombstoned widget went with it; only report ones still held.
            if reads.holds_snapshots(id).await? {
                findings.push(IntegrityFinding {
                    source_kind: Kind::WidgetSnapshot,
                    source_id: id.clone(),
                    field: "widgetId",
                    target_kind: Kind::Widget,
                    target_id: id.clone(),
                });
            }
        }
    }
    sort_dedup(&mut findings);
    Ok(findings)
}
