//! Local storage as the engine sees it. The IndexedDB implementation lives in `web/`; an
//! in-memory one in `testing/memory_store.rs` runs every rule under plain `cargo test`.
//!
//! The contract every implementation keeps:
//! - `commit_page` is atomic: the plan's writes and the new cursor land together or not at
//!   all, and only if the stored cursor still equals `expected_cursor` (the cursor the page
//!   was fetched with). That compare-and-set is the cursor rule: a stale, replayed or
//!   re-ordered page can never move the cursor backwards or re-apply old data.
//! - `commit_page` never lowers a stored version. A push settling a rename writes Query rows
//!   without the cursor, so the compare-and-set alone cannot see it: either the plan names the
//!   settle epoch its versions are exact at and the commit is refused if a settlement has
//!   landed since, or a Query put whose row is already held at that version or a newer one is
//!   skipped, checked inside the commit.
//! - No implementation awaits anything but its own storage requests inside a transaction;
//!   the plan arrives fully computed.
//! - Commits land in the order they were issued (first polled), see `commit_page`.

use crate::engine::pull::config::PullConfig;
pub use crate::engine::pull::decoded_page::DecodedPage;
pub use crate::engine::pull::replacement::{ReplacementStep, Swept};
pub use crate::engine::store::error::StoreError;
pub use crate::engine::store::held_index::{HeldIndex, HeldPart, HeldScan};
use crate::protocol::{Kind, PageError, Row};
use std::collections::HashMap;

/// A versioned row as stored: the wire row (after privacy stripping) and its item version.
/// `P` is how the row is held: a parsed [`Row`], or, on a page's way to storage, whatever
/// the store's [`Store::decode_page`] keeps it as (the browser: the object `JSON.parse` made).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow<P = Row> {
    pub kind: Kind,
    /// The row's `id` or `key`.
    pub key: String,
    pub version: u64,
    pub row: P,
}

impl StoredRow {
    /// The row as the package hands it to the app: with its item version as `version`
    /// (PROTOCOL §2: the version travels on the item, not in the row), which an app needs
    /// for `If-Match`. A MetricDefinition row keeps its own `version`, the published version
    /// of the metric (PROTOCOL §2 row shapes); its item version is not editable anyway.
    pub fn into_app_row(self) -> Row {
        let mut row = self.row;
        if self.kind != Kind::MetricDefinition {
            row.insert("version".into(), self.version.into());
        }
        row
    }
}

/// A stored widget snapshot. Keyed by (`widget_id`, `generated_at`). `P` as for
/// [`StoredRow`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSnapshot<P = Row> {
    pub widget_id: String,
    pub generated_at: String,
    pub params_hash: String,
    /// Hex SHA-256 of the canonical JSON of `row.rows`, computed once at apply time.
    pub rows_digest: String,
    pub row: P,
}

impl<P: Clone> StoredRow<P> {
    /// A copy with the row converted to the payload `Q` (what a store does with a plan whose
    /// rows are held some other way).
    pub fn to_payload<Q>(&self) -> StoredRow<Q>
    where
        P: Into<Q>,
    {
        StoredRow {
            kind: self.kind,
            key: self.key.clone(),
            version: self.version,
            row: self.row.clone().into(),
        }
    }
}

impl<P: Clone> StoredSnapshot<P> {
    /// A copy with the row converted to the payload `Q`.
    pub fn to_payload<Q>(&self) -> StoredSnapshot<Q>
    where
        P: Into<Q>,
    {
        StoredSnapshot {
            widget_id: self.widget_id.clone(),
            generated_at: self.generated_at.clone(),
            params_hash: self.params_hash.clone(),
            rows_digest: self.rows_digest.clone(),
            row: self.row.clone().into(),
        }
    }
}

/// The identifying parts of a held snapshot: all retention and dedupe need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMeta {
    pub generated_at: String,
    pub params_hash: String,
    pub rows_digest: String,
}

impl<P> From<&StoredSnapshot<P>> for SnapshotMeta {
    fn from(s: &StoredSnapshot<P>) -> Self {
        SnapshotMeta {
            generated_at: s.generated_at.clone(),
            params_hash: s.params_hash.clone(),
            rows_digest: s.rows_digest.clone(),
        }
    }
}

/// What the gate needs of a held widget: its key and the two references it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetRef {
    pub key: String,
    pub dashboard_id: Option<String>,
    pub metric_key: Option<String>,
}

impl WidgetRef {
    /// The references of a stored Widget row.
    pub fn of(row: &StoredRow) -> WidgetRef {
        WidgetRef::of_row(&row.key, &row.row)
    }

    /// The references of the Widget row `row` held under `key`.
    pub fn of_row(key: &str, row: &Row) -> WidgetRef {
        let field = |name: &str| row.get(name).and_then(|v| v.as_str()).map(str::to_string);
        WidgetRef {
            key: key.to_string(),
            dashboard_id: field("dashboardId"),
            metric_key: field("metricKey"),
        }
    }
}

/// What the planner asks about before it plans a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateRequest {
    /// Versioned rows whose current version matters.
    pub keys: Vec<(Kind, String)>,
    /// Widgets whose held snapshots matter (appends, widget tombstones).
    pub widgets: Vec<String>,
}

impl StateRequest {
    /// True when there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.widgets.is_empty()
    }
}

/// The answer to a [`StateRequest`]. Hash maps, not B-trees: only looked up, and each B-tree
/// map type costs the wasm ≈ 7 KB of node code (BENCHMARKS.md, "Size").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalState {
    /// Current version of each requested key that is held locally.
    pub versions: HashMap<(Kind, String), u64>,
    /// Held snapshots of each requested widget, oldest first (by `generated_at`).
    pub snapshots: HashMap<String, Vec<SnapshotMeta>>,
}

/// The writes of one page, computed before any transaction opens. Applied in field order:
/// clears, then deletes, then puts, then the [`ReplacementStep`] (marks, and the sweep of a
/// replacement's last page). `P` is how the rows are held (see [`StoredRow`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyPlan<P = Row> {
    /// Kinds reset by the page: every local row of these is dropped first.
    pub clear_kinds: Vec<Kind>,
    pub row_deletes: Vec<(Kind, String)>,
    /// (`widget_id`, `generated_at`) of snapshots to drop: trims and tombstoned widgets.
    pub snapshot_deletes: Vec<(String, String)>,
    pub row_puts: Vec<StoredRow<P>>,
    pub snapshot_puts: Vec<StoredSnapshot<P>>,
    /// What the page means for a full replacement (PROTOCOL §9.1); the store decides
    /// whether one is in progress. See `pull/replacement.rs`.
    pub replacement: ReplacementStep,
    /// `Some(e)`: every version the plan was decided against was known exactly at settle
    /// epoch `e` ([`SyncMeta::settled_epoch`]) and nothing was read since — the store refuses
    /// the commit with [`StoreError::CursorMoved`] when the stored epoch differs, and need not
    /// re-read the held Query versions in the commit. `None`: the versions came from reads
    /// taken at unknown epochs; the store re-checks every Query put in the commit (a settled
    /// rename may have raised it since). A plan without Query puts carries none: nothing in it
    /// can lower a raised version.
    pub settled_epoch: Option<u64>,
    /// `Some(n)`: the local state the plan was decided on was known with the store's page
    /// serial at `n` ([`SyncMeta::page_serial`]) — the store refuses the commit with
    /// [`StoreError::CursorMoved`] when it is not. The cursor compare-and-set alone cannot
    /// see another context's page that came back with the cursor it was fetched with
    /// (PROTOCOL §3 allows it). `None` (tools and tests applying single pages): not checked.
    /// Every commit bumps the serial, checked or not.
    pub page_serial: Option<u64>,
}

impl<P> Default for ApplyPlan<P> {
    fn default() -> Self {
        ApplyPlan {
            clear_kinds: Vec::new(),
            row_deletes: Vec::new(),
            snapshot_deletes: Vec::new(),
            row_puts: Vec::new(),
            snapshot_puts: Vec::new(),
            replacement: ReplacementStep::default(),
            settled_epoch: None,
            page_serial: None,
        }
    }
}

impl<P> ApplyPlan<P> {
    /// Whether the commit must check each put of `kind` against the version held at commit
    /// time (and skip it unless newer). Query rows are also written outside page commits — a
    /// pushed rename settling raises the held version without moving the cursor — so a plan
    /// decided against versions read at unknown settle epochs may be behind for them. Every
    /// other kind is written only by page commits, which the cursor compare-and-set orders;
    /// and a plan exact at a settle epoch is refused outright if a settlement landed since.
    pub fn checks_in_commit(&self, kind: Kind) -> bool {
        kind == Kind::Query && self.settled_epoch.is_none()
    }
}

impl<P: Clone> ApplyPlan<P> {
    /// A copy with every row converted to the payload `Q`.
    pub fn to_payload<Q>(&self) -> ApplyPlan<Q>
    where
        P: Into<Q>,
    {
        ApplyPlan {
            clear_kinds: self.clear_kinds.clone(),
            row_deletes: self.row_deletes.clone(),
            snapshot_deletes: self.snapshot_deletes.clone(),
            row_puts: self.row_puts.iter().map(StoredRow::to_payload).collect(),
            snapshot_puts: self
                .snapshot_puts
                .iter()
                .map(StoredSnapshot::to_payload)
                .collect(),
            replacement: self.replacement.clone(),
            settled_epoch: self.settled_epoch,
            page_serial: self.page_serial,
        }
    }
}

impl<P> ApplyPlan<P> {
    /// True when committing the plan would write no row (the cursor still moves).
    pub fn is_empty(&self) -> bool {
        self.clear_kinds.is_empty()
            && self.row_deletes.is_empty()
            && self.snapshot_deletes.is_empty()
            && self.row_puts.is_empty()
            && self.snapshot_puts.is_empty()
    }
}

/// Sync bookkeeping kept beside the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncMeta {
    /// The opaque cursor of the last applied page; `None` means cold start.
    pub cursor: Option<String>,
    /// Set by a 403; cleared by the next successful pull.
    pub access_revoked: bool,
    /// A full replacement (a pull begun without a cursor, PROTOCOL §9.1) has committed pages
    /// but not drained yet: rows it has not re-sent may still be swept.
    pub replacing: bool,
    /// A page reset the Widget kind: at the next drained page, snapshots whose widget is not
    /// held any more are dropped (they would be orphans forever otherwise).
    pub orphan_sweep: bool,
    /// How many settled push batches raised a held Query's version: the one write of rows
    /// that does not move the cursor. A plan decided on versions known at one epoch is
    /// refused at another ([`ApplyPlan::settled_epoch`]).
    pub settled_epoch: u64,
    /// How many page commits and wipes the store has seen: unlike the cursor, it never comes
    /// back to a value it had, so a plan or a held index known at one serial is refused at
    /// any other ([`ApplyPlan::page_serial`], [`Store::save_held_index`]).
    pub page_serial: u64,
}

/// The engine's view of local storage. Async, single-threaded (`?Send`): in the browser
/// every future runs on the JS event loop.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// How a pulled page's rows are held between [`decode_page`](Store::decode_page) and
    /// [`commit_page`](Store::commit_page): `MemoryStore` keeps parsed [`Row`]s, the
    /// IndexedDB store the JS objects it will put.
    type Payload: Clone + From<Row>;

    /// Parses a `200 OK` pull body strictly (PROTOCOL §3), strips what §7 forbids, and
    /// returns every item's metadata with its row held as [`Self::Payload`]. Whatever a
    /// store does here must refuse and keep exactly what
    /// [`decode_json_page`](crate::engine::pull::decoded_page::decode_json_page) refuses and keeps (that is
    /// what `MemoryStore` runs; the browser store's JS decoder is tested against it).
    fn decode_page(
        &self,
        body: &[u8],
        config: &PullConfig,
    ) -> Result<DecodedPage<Self::Payload>, PageError>;

    /// Reads the cursor and flags.
    async fn meta(&self) -> Result<SyncMeta, StoreError>;
    /// Sets or clears the access-revoked flag.
    async fn set_access_revoked(&self, revoked: bool) -> Result<(), StoreError>;
    /// Reads what the planner needs for one page. The pull loop may start it before the
    /// commit of the page before (`pull/read_ahead.rs`) and drop it unfinished when that page
    /// does not land: a read must leave nothing behind when dropped.
    async fn local_state(&self, request: &StateRequest) -> Result<LocalState, StoreError>;
    /// Atomically applies `plan` and replaces the cursor `expected_cursor` with `next_cursor`.
    /// Fails with [`StoreError::CursorMoved`] (and writes nothing) when the stored cursor is
    /// not `expected_cursor`, or the plan names a settle epoch or a page serial that is not
    /// the stored one ([`ApplyPlan::settled_epoch`], [`ApplyPlan::page_serial`]); else bumps
    /// the page serial with the cursor.
    ///
    /// In the same transaction, full replacement (`pull/replacement.rs`, PROTOCOL §9.1): with no
    /// expected cursor a replacement starts (earlier marks dropped, `replacing` set); while
    /// replacing, the plan's sent keys are marked; a draining page then sweeps with
    /// [`plan_sweep`](crate::engine::pull::replacement::plan_sweep) and returns what it removed. A draining
    /// page after a Widget reset (`orphan_sweep`) sweeps orphan snapshots the same way. Also
    /// in it, the held index's anchor is dropped: an index is exact only until the next page
    /// commit (`store/held_index.rs`).
    ///
    /// Commits land in the order their futures were first polled, even while an earlier one
    /// is still running (IndexedDB: readwrite transactions over overlapping stores run in
    /// creation order, and the transaction is created at the first poll; `MemoryStore`
    /// commits at the first poll). The pull loop relies on it to issue page n+1's commit
    /// before page n's has landed; dropping a commit's future before it lands writes nothing.
    ///
    /// The plan's rows may be held as anything the store can take as its payload: the
    /// pull loop passes what [`decode_page`](Store::decode_page) made, tests and tools
    /// parsed [`Row`]s.
    async fn commit_page<P: Clone + Into<Self::Payload>>(
        &self,
        plan: &ApplyPlan<P>,
        expected_cursor: Option<&str>,
        next_cursor: &str,
    ) -> Result<Swept, StoreError>;
    /// Drops every row of `kinds`, the held index and, when `drop_cursor`, the cursor, in one
    /// transaction that bumps the page serial (never resets it: a serial seen before a wipe
    /// must not come back after it).
    async fn wipe(&self, kinds: &[Kind], drop_cursor: bool) -> Result<(), StoreError>;

    /// One versioned row by key.
    async fn row(&self, kind: Kind, key: &str) -> Result<Option<StoredRow>, StoreError>;
    /// Every row of a versioned kind, in key order.
    async fn rows(&self, kind: Kind) -> Result<Vec<StoredRow>, StoreError>;
    /// Widgets of one dashboard (by `row.dashboardId`), in key order.
    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<StoredRow>, StoreError>;
    /// Snapshots of one widget, newest first.
    async fn snapshots_of(&self, widget_id: &str) -> Result<Vec<StoredSnapshot>, StoreError>;
    /// The newest snapshot of one widget. A store that can read just that one (IndexedDB:
    /// a reverse cursor) overrides this; first render asks it for every widget on screen.
    async fn latest_snapshot(&self, widget_id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        Ok(self.snapshots_of(widget_id).await?.into_iter().next())
    }
    /// The newest snapshot of each of `widget_ids`, in the same order (`None` where nothing
    /// is held). First render asks for every widget on screen at once; a store that can read
    /// them together (IndexedDB: one transaction, every request issued before any is
    /// awaited) overrides this one-by-one default.
    async fn latest_snapshots(
        &self,
        widget_ids: &[String],
    ) -> Result<Vec<Option<StoredSnapshot>>, StoreError> {
        let mut newest = Vec::with_capacity(widget_ids.len());
        for widget_id in widget_ids {
            newest.push(self.latest_snapshot(widget_id).await?);
        }
        Ok(newest)
    }
    /// Which of `keys` are held for a versioned kind.
    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError>;
    /// Every held widget's key and references, in key order: what the integrity gate scans.
    /// A store that can read just those (IndexedDB: without decoding whole rows) overrides
    /// this default, which reads the rows.
    async fn widget_refs(&self) -> Result<Vec<WidgetRef>, StoreError> {
        Ok(self
            .rows(Kind::Widget)
            .await?
            .iter()
            .map(WidgetRef::of)
            .collect())
    }
    /// Whether any row of `kind` is held (`MemoryStore` and `IdbStore` answer for
    /// `WidgetSnapshot` too). A new leader asks it of Dashboard to tell a cold start; a store
    /// that can count without reading the records (IndexedDB: `count()`) overrides this
    /// default, which reads them all.
    async fn holds_any(&self, kind: Kind) -> Result<bool, StoreError> {
        Ok(!self.rows(kind).await?.is_empty())
    }

    /// The held index as stored (`store/held_index.rs`), `None` when there is none. The pull
    /// loop uses it only when its `at` is the stored cursor and it is whole. A store that
    /// keeps no index answers `None` (this default), and every warm call reads per page.
    async fn held_index(&self) -> Result<Option<HeldIndex>, StoreError> {
        Ok(None)
    }
    /// Writes `parts` (replacing those kinds' parts) and `at` in one transaction that writes
    /// nothing unless the stored cursor is `at` and the stored page serial is `serial` (a page
    /// of another context may have left the cursor as it was) — and, with `epoch`, unless the stored settle
    /// epoch is `epoch`, in which case the raised Query versions are dropped too (the parts
    /// hold them: `store/held_index.rs`). Returns whether it wrote. [`wipe`](Store::wipe)
    /// drops the whole index. This default keeps none.
    async fn save_held_index(
        &self,
        _at: &str,
        _serial: u64,
        _epoch: Option<u64>,
        _parts: &[HeldPart],
    ) -> Result<bool, StoreError> {
        Ok(false)
    }
    /// Every kind's part read from the rows themselves, with the cursor, settle epoch and page
    /// serial they are at, in one consistent read (rebuilding a missing or stale index); `None`
    /// from a store that cannot (this default).
    async fn scan_held(&self) -> Result<Option<HeldScan>, StoreError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(kind: Kind, row: serde_json::Value) -> StoredRow {
        StoredRow {
            kind,
            key: "k".into(),
            version: 7,
            row: row.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn app_rows_carry_their_item_version_except_metric_definitions() {
        let dashboard = stored(Kind::Dashboard, json!({"id": "dsh_1"})).into_app_row();
        assert_eq!(dashboard.get("version"), Some(&json!(7)));
        let metric = stored(Kind::MetricDefinition, json!({"key": "adr", "version": 3}));
        assert_eq!(metric.into_app_row().get("version"), Some(&json!(3)));
    }
}
