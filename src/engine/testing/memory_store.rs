//! An in-memory [`Store`] with the same contract as the IndexedDB one: `commit_page` is an
//! atomic compare-and-set of the cursor together with the plan's writes. It is what the
//! native tests run every rule against, so it is faithful, not a stub: it refuses a stale
//! cursor, writes nothing on failure, and orders snapshots as the contract says.
//!
//! Test hooks ([`MemoryStore::fail_next_commit`], [`MemoryStore::before_next_commit`]) make
//! storage failures and a second tab racing for the same page reproducible. The outbox
//! side (`OutboxStore`) is in `testing/memory_outbox.rs`.

use crate::engine::pull::config::PullConfig;
use crate::engine::pull::decoded_page::{decode_json_page, DecodedPage};
use crate::engine::pull::replacement::{plan_sweep, ReplacementStep, Swept};
use crate::engine::pull::snapshot_retention::generated_at_order;
use crate::engine::store::cache::{
    ApplyPlan, HeldIndex, HeldPart, HeldScan, LocalState, SnapshotMeta, StateRequest, Store,
    StoreError, StoredRow, StoredSnapshot, SyncMeta, WidgetRef,
};
use crate::engine::store::held_index::raised_version_id;
use crate::engine::testing::outbox_contents::OutboxContents;
use crate::protocol::{Kind, PageError, Row};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// Everything a [`MemoryStore`] holds; comparable, so tests can assert two stores agree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryContents {
    pub rows: BTreeMap<(Kind, String), StoredRow>,
    /// Keyed by (`widget_id`, `generated_at`).
    pub snapshots: BTreeMap<(String, String), StoredSnapshot>,
    pub meta: SyncMeta,
    /// The marks of the replacement in progress (`pull/replacement.rs`).
    pub replacement_marks: BTreeSet<(Kind, String)>,
}

impl MemoryContents {
    fn apply<P: Clone + Into<Row>>(&mut self, plan: &ApplyPlan<P>) {
        for kind in &plan.clear_kinds {
            self.clear(*kind);
        }
        for (kind, key) in &plan.row_deletes {
            self.rows.remove(&(*kind, key.clone()));
        }
        for key in &plan.snapshot_deletes {
            self.snapshots.remove(key);
        }
        for row in &plan.row_puts {
            let key = (row.kind, row.key.clone());
            // Decided against the state read before the commit; a Query a settled push
            // raised since must not be lowered. Checked only where IndexedDB checks it
            // (`ApplyPlan::checks_in_commit`): a plan that would lower another kind is a bug
            // these tests must see.
            if plan.checks_in_commit(row.kind)
                && self
                    .rows
                    .get(&key)
                    .is_some_and(|held| held.version >= row.version)
            {
                continue;
            }
            self.rows.insert(key, row.to_payload());
        }
        for s in &plan.snapshot_puts {
            self.snapshots.insert(
                (s.widget_id.clone(), s.generated_at.clone()),
                s.to_payload(),
            );
        }
    }

    /// The replacement bookkeeping of a page committed with `expected_cursor`, after its
    /// writes (`pull/replacement.rs`); returns what the sweep removed.
    fn replace(&mut self, step: &ReplacementStep, expected_cursor: Option<&str>) -> Swept {
        if expected_cursor.is_none() {
            self.replacement_marks.clear();
            self.meta.replacing = !step.into_empty;
            self.meta.orphan_sweep |= step.into_empty;
        }
        if self.meta.replacing {
            self.replacement_marks.extend(step.sent.iter().cloned());
        }
        self.meta.orphan_sweep |= step.resets_widgets;
        if !step.drains || !(self.meta.replacing || self.meta.orphan_sweep) {
            return Swept::default();
        }
        let marks: Vec<(Kind, String)> = self.replacement_marks.iter().cloned().collect();
        let sent = self.meta.replacing.then_some(&marks[..]);
        let swept = plan_sweep(self.rows.keys(), sent, self.snapshots.keys());
        for key in &swept.rows {
            self.rows.remove(key);
        }
        for key in &swept.snapshots {
            self.snapshots.remove(key);
        }
        self.replacement_marks.clear();
        self.meta.replacing = false;
        self.meta.orphan_sweep = false;
        swept
    }

    fn clear(&mut self, kind: Kind) {
        if kind == Kind::WidgetSnapshot {
            self.snapshots.clear();
        } else {
            self.rows.retain(|(k, _), _| *k != kind);
        }
    }

    /// Snapshots of one widget, oldest first.
    fn snapshots_oldest_first(&self, widget_id: &str) -> Vec<&StoredSnapshot> {
        let mut held: Vec<&StoredSnapshot> = self
            .snapshots
            .range((widget_id.to_string(), String::new())..)
            .take_while(|((w, _), _)| w == widget_id)
            .map(|(_, s)| s)
            .collect();
        held.sort_by(|a, b| generated_at_order(&a.generated_at, &b.generated_at));
        held
    }
}

type CommitHook = Box<dyn FnOnce(&mut MemoryContents)>;

/// A faithful in-memory store. Single-threaded, like every `Store`.
#[derive(Default)]
pub struct MemoryStore {
    pub(super) contents: RefCell<MemoryContents>,
    /// The outbox side (`testing/memory_outbox.rs`), apart from the rows so `wipe` cannot reach it.
    pub(super) outbox: RefCell<OutboxContents>,
    pub(super) fail_next_outbox_write: RefCell<Option<StoreError>>,
    fail_next_commit: RefCell<Option<StoreError>>,
    before_next_commit: RefCell<Option<CommitHook>>,
    commits: Cell<u64>,
    row_writes: Cell<u64>,
    state_reads: Cell<u64>,
    row_reads: Cell<u64>,
    /// The held index as the IndexedDB store keeps it: `at` under [`HELD_AT`], each kind's
    /// part as its JSON text under the kind's name (`store/held_index.rs`).
    held_index: RefCell<BTreeMap<String, String>>,
    index_scans: Cell<u64>,
    index_reads: Cell<u64>,
}

/// The key of the held index's cursor.
const HELD_AT: &str = "at";

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A store that already holds `contents`.
    pub fn with_contents(contents: MemoryContents) -> Self {
        let store = MemoryStore::default();
        *store.contents.borrow_mut() = contents;
        store
    }

    /// A copy of everything held.
    pub fn contents(&self) -> MemoryContents {
        self.contents.borrow().clone()
    }

    /// The next `commit_page` fails with `error` and writes nothing.
    pub fn fail_next_commit(&self, error: StoreError) {
        *self.fail_next_commit.borrow_mut() = Some(error);
    }

    /// Runs `hook` at the start of the next `commit_page`, before the cursor is compared:
    /// what another tab committing first looks like from here.
    pub fn before_next_commit(&self, hook: impl FnOnce(&mut MemoryContents) + 'static) {
        *self.before_next_commit.borrow_mut() = Some(Box::new(hook));
    }

    /// Successful page commits so far.
    pub fn commits(&self) -> u64 {
        self.commits.get()
    }

    /// `local_state` calls so far: what a pull asked the store before planning its pages.
    pub fn state_reads(&self) -> u64 {
        self.state_reads.get()
    }

    /// Calls of the row reads (`row`, `rows`, `widgets_of`, `snapshots_of`,
    /// `existing_keys`): what the integrity gate asked the store.
    pub fn row_reads(&self) -> u64 {
        self.row_reads.get()
    }

    fn count_read(&self) {
        self.row_reads.set(self.row_reads.get() + 1);
    }

    /// `scan_held` calls so far: index rebuilds from the rows.
    pub fn index_scans(&self) -> u64 {
        self.index_scans.get()
    }

    /// `held_index` calls so far: index loads.
    pub fn index_reads(&self) -> u64 {
        self.index_reads.get()
    }

    /// The stored held index's records (`at` and one JSON text per kind), for tests to read
    /// or damage.
    pub fn held_index_records(&self) -> std::cell::RefMut<'_, BTreeMap<String, String>> {
        self.held_index.borrow_mut()
    }

    /// Row and snapshot writes (puts, deletes, kind clears) done by committed pages; the
    /// cursor itself is not counted. "Zero writes" tests read this.
    pub fn row_writes(&self) -> u64 {
        self.row_writes.get()
    }
}

impl Store for MemoryStore {
    type Payload = Row;

    fn decode_page(&self, body: &[u8], config: &PullConfig) -> Result<DecodedPage<Row>, PageError> {
        decode_json_page(body, config)
    }

    async fn meta(&self) -> Result<SyncMeta, StoreError> {
        Ok(self.contents.borrow().meta.clone())
    }

    async fn set_access_revoked(&self, revoked: bool) -> Result<(), StoreError> {
        self.contents.borrow_mut().meta.access_revoked = revoked;
        Ok(())
    }

    async fn local_state(&self, request: &StateRequest) -> Result<LocalState, StoreError> {
        self.state_reads.set(self.state_reads.get() + 1);
        let c = self.contents.borrow();
        let mut state = LocalState::default();
        for key in &request.keys {
            if let Some(row) = c.rows.get(key) {
                state.versions.insert(key.clone(), row.version);
            }
        }
        for widget in &request.widgets {
            let held: Vec<SnapshotMeta> = c
                .snapshots_oldest_first(widget)
                .into_iter()
                .map(SnapshotMeta::from)
                .collect();
            if !held.is_empty() {
                state.snapshots.insert(widget.clone(), held);
            }
        }
        Ok(state)
    }

    async fn commit_page<P: Clone + Into<Row>>(
        &self,
        plan: &ApplyPlan<P>,
        expected_cursor: Option<&str>,
        next_cursor: &str,
    ) -> Result<Swept, StoreError> {
        let mut c = self.contents.borrow_mut();
        if let Some(hook) = self.before_next_commit.borrow_mut().take() {
            hook(&mut c);
        }
        if let Some(error) = self.fail_next_commit.borrow_mut().take() {
            return Err(error);
        }
        if c.meta.cursor.as_deref() != expected_cursor
            || plan
                .settled_epoch
                .is_some_and(|e| e != c.meta.settled_epoch)
            || plan.page_serial.is_some_and(|n| n != c.meta.page_serial)
        {
            return Err(StoreError::CursorMoved);
        }
        c.apply(plan);
        let swept = c.replace(&plan.replacement, expected_cursor);
        c.meta.cursor = Some(next_cursor.to_string());
        c.meta.page_serial += 1;
        self.held_index.borrow_mut().remove(HELD_AT);
        let writes = plan.clear_kinds.len()
            + plan.row_deletes.len()
            + plan.snapshot_deletes.len()
            + plan.row_puts.len()
            + plan.snapshot_puts.len()
            + swept.rows.len()
            + swept.snapshots.len();
        self.row_writes.set(self.row_writes.get() + writes as u64);
        self.commits.set(self.commits.get() + 1);
        Ok(swept)
    }

    async fn wipe(&self, kinds: &[Kind], drop_cursor: bool) -> Result<(), StoreError> {
        let mut c = self.contents.borrow_mut();
        for kind in kinds {
            c.clear(*kind);
        }
        if drop_cursor {
            c.meta.cursor = None;
        }
        c.meta.page_serial += 1;
        self.held_index.borrow_mut().clear();
        Ok(())
    }

    async fn held_index(&self) -> Result<Option<HeldIndex>, StoreError> {
        self.index_reads.set(self.index_reads.get() + 1);
        let records = self.held_index.borrow();
        let Some(at) = records.get(HELD_AT) else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        for kind in Kind::ALL {
            if let Some(text) = records.get(kind.as_str()) {
                let part =
                    HeldPart::from_json(kind, text).map_err(|e| StoreError::Unavailable(e.0))?;
                parts.push(part);
            }
        }
        let mut raised = Vec::new();
        for (key, version) in records.iter() {
            if let (Some(id), Ok(version)) = (raised_version_id(key), version.parse()) {
                raised.push((id.to_string(), version));
            }
        }
        Ok(Some(HeldIndex {
            at: at.clone(),
            parts,
            raised,
        }))
    }

    async fn save_held_index(
        &self,
        at: &str,
        serial: u64,
        epoch: Option<u64>,
        parts: &[HeldPart],
    ) -> Result<bool, StoreError> {
        let meta = self.contents.borrow().meta.clone();
        if meta.cursor.as_deref() != Some(at)
            || meta.page_serial != serial
            || epoch.is_some_and(|e| e != meta.settled_epoch)
        {
            return Ok(false);
        }
        let mut records = self.held_index.borrow_mut();
        if epoch.is_some() {
            records.retain(|key, _| raised_version_id(key).is_none());
        }
        for part in parts {
            records.insert(part.kind.as_str().to_string(), part.to_json());
        }
        records.insert(HELD_AT.to_string(), at.to_string());
        Ok(true)
    }

    async fn scan_held(&self) -> Result<Option<HeldScan>, StoreError> {
        self.index_scans.set(self.index_scans.get() + 1);
        let c = self.contents.borrow();
        let mut parts: Vec<HeldPart> = Kind::ALL.iter().map(|k| HeldPart::empty(*k)).collect();
        for ((kind, key), row) in &c.rows {
            let part = parts
                .iter_mut()
                .find(|p| p.kind == *kind)
                .expect("every kind");
            part.versions.push((key.clone(), row.version));
            if *kind == Kind::Widget {
                part.widgets.push(WidgetRef::of(row));
            }
        }
        let snapshots = parts
            .iter_mut()
            .find(|p| p.kind == Kind::WidgetSnapshot)
            .expect("every kind");
        for ((widget, _), s) in &c.snapshots {
            snapshots
                .snapshots
                .push((widget.clone(), SnapshotMeta::from(s)));
        }
        Ok(Some(HeldScan {
            cursor: c.meta.cursor.clone(),
            settled_epoch: c.meta.settled_epoch,
            page_serial: c.meta.page_serial,
            parts,
        }))
    }

    async fn row(&self, kind: Kind, key: &str) -> Result<Option<StoredRow>, StoreError> {
        self.count_read();
        Ok(self
            .contents
            .borrow()
            .rows
            .get(&(kind, key.to_string()))
            .cloned())
    }

    async fn rows(&self, kind: Kind) -> Result<Vec<StoredRow>, StoreError> {
        self.count_read();
        Ok(self
            .contents
            .borrow()
            .rows
            .range((kind, String::new())..)
            .take_while(|((k, _), _)| *k == kind)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<StoredRow>, StoreError> {
        Ok(self
            .rows(Kind::Widget)
            .await?
            .into_iter()
            .filter(|w| w.row.get("dashboardId").and_then(|v| v.as_str()) == Some(dashboard_id))
            .collect())
    }

    async fn snapshots_of(&self, widget_id: &str) -> Result<Vec<StoredSnapshot>, StoreError> {
        self.count_read();
        let c = self.contents.borrow();
        let mut held: Vec<StoredSnapshot> = c
            .snapshots_oldest_first(widget_id)
            .into_iter()
            .cloned()
            .collect();
        held.reverse();
        Ok(held)
    }

    async fn holds_any(&self, kind: Kind) -> Result<bool, StoreError> {
        let c = self.contents.borrow();
        Ok(if kind == Kind::WidgetSnapshot {
            !c.snapshots.is_empty()
        } else {
            c.rows.keys().any(|(k, _)| *k == kind)
        })
    }

    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError> {
        self.count_read();
        let c = self.contents.borrow();
        Ok(keys
            .iter()
            .filter(|k| c.rows.contains_key(&(kind, (*k).clone())))
            .cloned()
            .collect())
    }
}
