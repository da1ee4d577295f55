//! What one pull call knows of local state without asking the store again (issue 13, design
//! item 2: the version/digest index held by the syncing leader).
//!
//! Planning a page needs the held version of every key it names and the held snapshot
//! metadata of every widget it touches. Reading them costs a readonly transaction per page
//! (≈ 1 700 `get`s and ≈ 200 snapshot-metadata reads on a 2 000-item page). But the pull loop already
//! knows most of it: what it read for earlier pages, and what it committed since. This cache
//! keeps both, so a page reads only keys never seen in this call — and a cold start into an
//! empty database reads nothing at all, since every answer is "not held".
//!
//! Why it is exact: within one pull call the only writer of rows is the call itself, checked
//! by the compare-and-set of every commit on the cursor and the page serial
//! (`Store::commit_page`, `ApplyPlan::page_serial`: another context's page may leave the
//! cursor as it found it, never the serial). The cache is used only for a page fetched with
//! the cursor and serial it was last updated at; any other (`CursorMoved`, a 410 restart)
//! drops it. The one writer the compare-and-set cannot see is
//! a pushed rename settling in another context: it raises a Query's version, so the cache
//! can only be behind (never ahead), and the store's in-commit version check
//! (`idb_version_guard.rs`, `MemoryStore::commit_page`) skips such a put — the same outcome
//! as a state read taken just before that rename settled.
//!
//! Across calls it lives on as the store's held index (`store/held_index.rs`): a call starts
//! from the index when it is exact at the stored cursor, and leaves it behind when it ends
//! (`pull/held_index.rs`), writing only the kinds it changed (`dirty`).

use crate::engine::pull::integrity::WidgetRef;
use crate::engine::pull::replacement::Swept;
use crate::engine::pull::snapshot_retention::sort_oldest_first;
use crate::engine::store::cache::{
    ApplyPlan, HeldIndex, HeldPart, LocalState, SnapshotMeta, StateRequest, Store, StoreError,
    SyncMeta,
};
use crate::protocol::{Kind, KindSet};
use std::collections::HashMap;

/// Known local state: held versions (`None` = known absent) and held snapshot metadata per
/// widget (oldest first), plus the kinds of which every key is known.
#[derive(Debug, Clone, Default)]
pub struct StateCache {
    /// The cursor the store held when the cache was last exact; `None` = not yet anchored.
    at: Option<Option<String>>,
    /// The store's page serial at `at` (`SyncMeta::page_serial`); `None` when not known (a
    /// tool planning single pages unchecked). Another context's page may leave the cursor as
    /// it found it (PROTOCOL §3), never the serial.
    serial: Option<u64>,
    /// Kinds whose every row is known: keys missing from `versions` are not held.
    complete: KindSet,
    versions: HashMap<(Kind, String), Option<u64>>,
    snapshots: HashMap<String, Vec<SnapshotMeta>>,
    /// The references of the widgets this call wrote (all held ones once Widget is
    /// complete), for the integrity gate (`pull/cached_reads.rs`).
    widget_refs: HashMap<String, WidgetRef>,
    /// How many times the cache dropped what it knew: a read planned against an earlier
    /// generation (`pull/read_ahead.rs`) may not be exact any more.
    generation: u64,
    /// The kinds whose stored index part may differ from what the cache knows: none when the
    /// cache was loaded from the index, every kind otherwise.
    dirty: KindSet,
    /// The cursor the stored index was loaded at or last saved at, if any.
    indexed_at: Option<String>,
    /// The settle epoch at which every version the cache knows was exact, when the cache
    /// knew everything from its start (the held index, an empty store) and read nothing
    /// since: its plans then need no in-commit version check (`ApplyPlan::settled_epoch`).
    settled_epoch: Option<u64>,
}

impl StateCache {
    /// A cache that knows nothing yet: every key is read once.
    pub fn unknown() -> StateCache {
        StateCache {
            dirty: KindSet::all(),
            ..StateCache::default()
        }
    }

    /// The cache of a store holding no row of any kind at `cursor` and page serial `serial`:
    /// nothing needs reading.
    pub fn of_empty_store(cursor: Option<String>, serial: u64) -> StateCache {
        StateCache {
            at: Some(cursor),
            serial: Some(serial),
            settled_epoch: None,
            complete: KindSet::all(),
            dirty: KindSet::all(),
            ..StateCache::default()
        }
    }

    /// The cache a whole held index exact at `index.at` and page serial `serial` describes: it
    /// knows everything and nothing of it needs saving.
    pub fn of_index(index: HeldIndex, serial: u64) -> StateCache {
        let mut cache = StateCache {
            at: Some(Some(index.at.clone())),
            serial: Some(serial),
            settled_epoch: None,
            complete: KindSet::all(),
            indexed_at: Some(index.at),
            ..StateCache::default()
        };
        for part in index.parts {
            for (key, version) in part.versions {
                cache.versions.insert((part.kind, key), Some(version));
            }
            for widget in part.widgets {
                cache.widget_refs.insert(widget.key.clone(), widget);
            }
            for (widget, meta) in part.snapshots {
                cache.snapshots.entry(widget).or_default().push(meta);
            }
        }
        if !index.raised.is_empty() {
            // Folded in below; the next save rewrites the part and drops the records.
            cache.dirty.insert(Kind::Query);
        }
        for (id, version) in index.raised {
            if let Some(Some(held)) = cache.versions.get_mut(&(Kind::Query, id)) {
                *held = (*held).max(version);
            }
        }
        for held in cache.snapshots.values_mut() {
            sort_oldest_first(held);
        }
        cache
    }

    /// What the stored index lacks of what the cache knows, to be saved exact at the cursor
    /// and page serial (and settle epoch, when known) it returns; `None` when the cache does
    /// not know everything, is not anchored at a cursor and serial, or the stored index is
    /// already exact.
    pub fn unsaved(&self) -> Option<(&str, u64, Option<u64>, Vec<HeldPart>)> {
        let at = self.at.as_ref()?.as_deref()?;
        let serial = self.serial?;
        if !self.knows_everything()
            || (self.dirty.is_empty() && self.indexed_at.as_deref() == Some(at))
        {
            return None;
        }
        let mut parts: Vec<HeldPart> = self.dirty.iter().map(HeldPart::empty).collect();
        for ((kind, key), version) in &self.versions {
            let (Some(version), Some(part)) = (version, parts.iter_mut().find(|p| p.kind == *kind))
            else {
                continue;
            };
            part.versions.push((key.clone(), *version));
            if *kind == Kind::Widget {
                let refs = self
                    .widget_refs
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| WidgetRef {
                        key: key.clone(),
                        dashboard_id: None,
                        metric_key: None,
                    });
                part.widgets.push(refs);
            }
        }
        if let Some(part) = parts.iter_mut().find(|p| p.kind == Kind::WidgetSnapshot) {
            for (widget, held) in &self.snapshots {
                part.snapshots
                    .extend(held.iter().map(|meta| (widget.clone(), meta.clone())));
            }
        }
        Some((at, serial, self.settled_epoch, parts))
    }

    /// Anchors what the cache knows at settle epoch `epoch`, read before anything the cache
    /// knows (a settlement after that read only makes the commits refuse and the cache be
    /// forgotten). Only a cache that knows everything and read nothing may be anchored.
    pub fn at_settle_epoch(mut self, epoch: u64) -> StateCache {
        if self.knows_everything() {
            self.settled_epoch = Some(epoch);
        }
        self
    }

    /// See [`at_settle_epoch`](Self::at_settle_epoch); `None` when versions were read.
    pub fn settled_epoch(&self) -> Option<u64> {
        self.settled_epoch
    }

    /// The stored index is now exact at `at` (after [`unsaved`](Self::unsaved)'s parts were
    /// saved there).
    pub fn saved(&mut self, at: &str) {
        self.dirty.clear();
        self.indexed_at = Some(at.to_string());
    }

    /// Whether the cache may answer for a page fetched with `cursor` at page serial `serial`.
    /// A cache not yet anchored anchors there (it holds nothing it could be wrong about).
    fn anchor(&mut self, cursor: Option<&str>, serial: Option<u64>) {
        match &self.at {
            Some(at) if at.as_deref() == cursor && self.serial == serial => {}
            Some(_) => {
                *self = StateCache {
                    at: Some(cursor.map(str::to_string)),
                    serial,
                    generation: self.generation + 1,
                    dirty: KindSet::all(),
                    ..StateCache::default()
                }
            }
            None => {
                self.at = Some(cursor.map(str::to_string));
                self.serial = serial;
            }
        }
    }

    /// Forgets everything (a failed commit, a wipe): the next page reads again.
    pub fn forget(&mut self) {
        *self = StateCache {
            generation: self.generation + 1,
            dirty: KindSet::all(),
            ..StateCache::default()
        };
    }

    /// Changes whenever the cache drops what it knew (see [`forget`](Self::forget)).
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether every held row of every kind is known: no page needs a read (a cold start).
    pub(super) fn knows_everything(&self) -> bool {
        Kind::ALL.iter().all(|kind| self.complete.contains(kind))
    }

    /// Whether the cache still describes a store whose meta is `meta`: it knows every held
    /// key, and the stored cursor, page serial and settle epoch are the ones it is exact at —
    /// no page or wipe (the serial) and no settlement (the epoch) of any context since.
    pub fn is_exact_at(&self, meta: &SyncMeta) -> bool {
        self.knows_everything()
            && self.at.as_ref() == Some(&meta.cursor)
            && self.serial == Some(meta.page_serial)
            && self.settled_epoch == Some(meta.settled_epoch)
    }

    /// Whether the cache knows that the store holds no row and no snapshot at all (a cold
    /// start into an empty store, before any page is planned).
    pub(super) fn holds_nothing(&self) -> bool {
        self.knows_everything()
            && self.versions.values().all(Option::is_none)
            && self.snapshots.values().all(Vec::is_empty)
    }

    /// Whether every held row of `kind` is known.
    pub(super) fn is_complete(&self, kind: Kind) -> bool {
        self.complete.contains(&kind)
    }

    /// The references of a widget this call wrote; with Widget complete, of every held one.
    pub(super) fn widget_refs(&self) -> &HashMap<String, WidgetRef> {
        &self.widget_refs
    }

    /// `Some(version)` / `Some(None)` (known not held), `None` when unknown.
    pub(super) fn knows_key(&self, key: &(Kind, String)) -> Option<Option<u64>> {
        match self.versions.get(key) {
            Some(known) => Some(*known),
            None if self.complete.contains(&key.0) => Some(None),
            None => None,
        }
    }

    /// The held snapshots of `widget`, `None` when unknown.
    pub(super) fn knows_widget(&self, widget: &str) -> Option<&[SnapshotMeta]> {
        match self.snapshots.get(widget) {
            Some(held) => Some(held),
            None if self.complete.contains(&Kind::WidgetSnapshot) => Some(&[]),
            None => None,
        }
    }

    /// Splits `request` for a page fetched with `cursor`, to be committed at page serial
    /// `serial`, into what the cache answers and what must still be read from the store
    /// (possibly nothing).
    pub fn answer(
        &mut self,
        cursor: Option<&str>,
        serial: Option<u64>,
        request: &StateRequest,
    ) -> (LocalState, StateRequest) {
        self.anchor(cursor, serial);
        let mut known = LocalState::default();
        let mut missing = StateRequest::default();
        for key in &request.keys {
            match self.knows_key(key) {
                Some(Some(version)) => {
                    known.versions.insert(key.clone(), version);
                }
                Some(None) => {}
                None => missing.keys.push(key.clone()),
            }
        }
        for widget in &request.widgets {
            match self.knows_widget(widget) {
                Some([]) => {}
                Some(held) => {
                    known.snapshots.insert(widget.clone(), held.to_vec());
                }
                None => missing.widgets.push(widget.clone()),
            }
        }
        (known, missing)
    }

    /// Takes in the store's answer to `missing` (as [`answer`](Self::answer) returned it),
    /// and adds it to `known`, which then answers the whole request.
    pub fn learn(&mut self, missing: &StateRequest, read: LocalState, known: &mut LocalState) {
        // Read at an epoch nobody recorded: plans are checked in their commits again.
        self.settled_epoch = None;
        for key in &missing.keys {
            let version = read.versions.get(key).copied();
            self.versions.insert(key.clone(), version);
            if let Some(version) = version {
                known.versions.insert(key.clone(), version);
            }
        }
        for widget in &missing.widgets {
            let held = read.snapshots.get(widget).cloned().unwrap_or_default();
            self.snapshots.insert(widget.clone(), held.clone());
            if !held.is_empty() {
                known.snapshots.insert(widget.clone(), held);
            }
        }
    }

    /// Takes in a planned page as if it were committed, leaving the store at `cursor` (and
    /// the page serial after the plan's): the
    /// next page may be planned while this one's commit runs (a failed commit makes the
    /// caller [`forget`](Self::forget) everything). What the commit's own sweep removes comes
    /// after, through [`swept`](Self::swept). `widgets` are the references of the plan's
    /// Widget puts (from their [`ItemMeta`](crate::engine::ItemMeta): the rows may not be readable
    /// here).
    pub fn planned<P>(&mut self, plan: &ApplyPlan<P>, widgets: &[&WidgetRef], cursor: &str) {
        self.at = Some(Some(cursor.to_string()));
        self.serial = plan.page_serial.map(|n| n + 1);
        // The plan's commit drops the stored index's anchor (`Store::commit_page`): the next
        // save writes it again, even if no part changed.
        self.indexed_at = None;
        self.dirty.extend(plan.clear_kinds.iter().copied());
        self.dirty
            .extend(plan.row_deletes.iter().map(|(kind, _)| *kind));
        self.dirty.extend(plan.row_puts.iter().map(|row| row.kind));
        if !plan.snapshot_puts.is_empty() || !plan.snapshot_deletes.is_empty() {
            self.dirty.insert(Kind::WidgetSnapshot);
        }
        for &kind in &plan.clear_kinds {
            self.versions.retain(|(k, _), _| *k != kind);
            match kind {
                Kind::WidgetSnapshot => self.snapshots.clear(),
                Kind::Widget => self.widget_refs.clear(),
                _ => {}
            }
            self.complete.insert(kind);
        }
        for key in &plan.row_deletes {
            self.forget_row(key);
        }
        self.drop_snapshots(&plan.snapshot_deletes);
        for row in &plan.row_puts {
            self.versions
                .insert((row.kind, row.key.clone()), Some(row.version));
        }
        for widget in widgets {
            self.widget_refs
                .insert(widget.key.clone(), (*widget).clone());
        }
        for snapshot in &plan.snapshot_puts {
            let known = self.snapshots.contains_key(&snapshot.widget_id)
                || self.complete.contains(&Kind::WidgetSnapshot);
            if !known {
                // Never read for this widget: it stays unknown and is read when asked.
                continue;
            }
            let held = self
                .snapshots
                .entry(snapshot.widget_id.clone())
                .or_default();
            let meta = SnapshotMeta::from(snapshot);
            match held
                .iter_mut()
                .find(|m| m.generated_at == meta.generated_at)
            {
                Some(same) => *same = meta,
                None => {
                    held.push(meta);
                    sort_oldest_first(held);
                }
            }
        }
    }

    /// Takes in what a committed page's replacement sweep removed.
    pub fn swept(&mut self, swept: &Swept) {
        self.dirty.extend(swept.rows.iter().map(|(kind, _)| *kind));
        if !swept.snapshots.is_empty() {
            self.dirty.insert(Kind::WidgetSnapshot);
        }
        for key in &swept.rows {
            self.forget_row(key);
        }
        self.drop_snapshots(&swept.snapshots);
    }

    /// A row known to be gone.
    fn forget_row(&mut self, key: &(Kind, String)) {
        self.versions.insert(key.clone(), None);
        if key.0 == Kind::Widget {
            self.widget_refs.remove(&key.1);
        }
    }

    fn drop_snapshots(&mut self, gone: &[(String, String)]) {
        for (widget, at) in gone {
            if let Some(held) = self.snapshots.get_mut(widget) {
                held.retain(|m| &m.generated_at != at);
            }
        }
    }
}

impl StateCache {
    /// The cache a pull call starts with: knowing that nothing is held when the store is at
    /// a cold start and holds no row of any kind (one `count` per kind), else nothing. The
    /// counts come after `meta` was read: a page landing in between moves the page serial, and
    /// the call's first commit is refused.
    pub async fn for_store<S: Store>(store: &S, meta: &SyncMeta) -> Result<StateCache, StoreError> {
        if meta.cursor.is_some() {
            return Ok(StateCache::unknown());
        }
        for kind in Kind::ALL {
            if store.holds_any(kind).await? {
                return Ok(StateCache::unknown());
            }
        }
        Ok(StateCache::of_empty_store(None, meta.page_serial))
    }
}
