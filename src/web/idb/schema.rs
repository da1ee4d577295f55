//! The IndexedDB schema: names of stores, indexes and key paths, and what each version added.
//! A leaf: the steps that build each version are in `idb/migration.rs`.
//!
//! Version history:
//! 1. One object store per kind plus `meta`.
//!    - Versioned kinds (`Dashboard`, `Widget`, `MetricDefinition`, `Query`, `Projection`,
//!      `DqAlertOpen`): records `{key, version, row}` with key path `"key"`; Widget records
//!      also carry `dashboardId` (copied from the row) so it can be indexed.
//!    - `WidgetSnapshot`: records `{widgetId, generatedAt, paramsHash, rowsDigest, row}` with
//!      key path `["widgetId", "generatedAt"]`.
//!    - `meta`: out-of-line keys (`"cursor"`, `"accessRevoked"`), plain values.
//! 2. Read indexes: `Widget.by_dashboard` on `dashboardId`, and
//!    `WidgetSnapshot.by_widget_generated` on `["widgetId", "generatedAt"]` (range scans per
//!    widget, in time order).
//!
//! 3. The outbox side (the push path, PROTOCOL §4–§5). None of these is touched by
//!    `Store::wipe` (403, 410): local edits survive losing the replicated rows.
//!    - `outbox`: queued rename ops `{seq, opId, kind, entityId, expectedVersion, name_i18n,
//!      createdAtMs, updatedAtMs, inFlight}`, key path `seq` (queue order), index
//!      `by_entity` on `entityId` (the coalescing lookup; within one entity the index
//!      yields records in `seq` order).
//!    - `commands`: deferred authoring requests `{seq, commandId, method, path, body,
//!      ifMatch, createdAtMs}`, key path `seq`.
//!    - `conflicts`: `{id, order, kind, entityId, local, server, source, createdAtMs,
//!      resolution, resolvedAtMs}`, key path `id`, index `by_order` on `order` (oldest
//!      first, as they were recorded; ids are random).
//!    - `dead_letters`: `{id, order, source, kind, entityId, status, reason, payload,
//!      failedAtMs}`, key path `id`, index `by_order`.
//!    - `outbox_meta`: out-of-line keys: `lastSeq` (the one sequence ops and commands share),
//!      `lastOrder` (the order of conflicts and dead letters) and `inFlightBatch` (the push
//!      batch fixed before it was sent). Kept apart from `meta` so an outbox write never
//!      shares a transaction scope with, and never waits behind, a pulled page's cursor.
//!
//! Every outbox write is one readwrite transaction with `durability: "strict"` (see
//! `idb/outbox.rs`).
//!
//! 4. `snapshot_meta`: one record `{widgetId, generatedAt, paramsHash, rowsDigest}` per held
//!    snapshot, key path `["widgetId", "generatedAt", "paramsHash", "rowsDigest"]`, written
//!    and deleted in the same transaction as its snapshot and cleared with it. The planner
//!    reads a widget's dedupe/retention metadata as this store's keys (`getAllKeys`, no value
//!    read) instead of structured-cloning every held snapshot with its rows (measured in
//!    headless Chromium, 200 widgets × 12 snapshots of ≈ 1.9 KB: `getAll` of the snapshots
//!    270 ms, a key cursor on an index carrying the metadata 529 ms, `getAllKeys` here 80 ms).
//!    The upgrade step backfills a record for every snapshot already on disk.
//! 5. Drops `WidgetSnapshot.by_widget_generated` (its key path is the primary key's).
//! 6. `held_index`: the held index (`engine/store/held_index.rs`, `idb/held_index.rs`),
//!    out-of-line keys: [`HELD_AT_KEY`] (the cursor it is exact at), one JSON text per kind
//!    under the kind's name, a number per query whose version a settled rename raised. Cleared
//!    by `Store::wipe`. The upgrade only creates it: the first pull after it rebuilds the index
//!    from the rows once (a scan), rows, snapshots and the outbox are untouched. `meta` gains
//!    [`SETTLED_EPOCH_KEY`], which every settlement raising a Query version bumps.
//! 7. The replicated stores — the six versioned kinds, `WidgetSnapshot` and `snapshot_meta` —
//!    move to out-of-line keys: same records, same keys (`recordKey` in `batch.js`), now passed
//!    with each put. Why: Chromium evaluates an inline key path on a structured clone of the value,
//!    deserialized on the page's thread right after serializing it, so every put paid for its
//!    record twice (measured in headless Chromium, 10 × 2 000 puts of ≈ 300-byte rows: ≈ 40 %
//!    less main-thread time per put out of line). The Widget store keeps `by_dashboard` (an
//!    index needs the clone anyway). The upgrade copies each store into a new one under the
//!    same name and rebuilds `snapshot_meta` from the snapshots; a failure aborts it and the
//!    database stays at 6.
//! 8. Drops `snapshot_meta`: every pulled snapshot was two puts (measured with `bench/run.sh`,
//!    5 + 1 trials, the twin's puts skipped by hand in the bench page's copy of `batch.js`: cold
//!    apply ÷ raw floor 0.742 and 0.751 with the twin, 0.796 and 0.818 without). Since the
//!    held index (schema 6) the planner reads snapshot metadata only when no index is whole,
//!    and the index's scan once per rebuild: both now read it from the snapshot records
//!    (`getAll`, which clones their rows too — the price of the rare path, paid instead of a
//!    second put on every pulled snapshot). Upgrades from before 8 skip building the store.

use crate::protocol::Kind;

/// The schema version this code writes and expects.
pub const SCHEMA_VERSION: u32 = 8;

/// Object store of sync bookkeeping (cursor, flags).
pub const META_STORE: &str = "meta";
/// `meta` key of the opaque pull cursor (a string; absent means cold start).
pub const CURSOR_KEY: &str = "cursor";
/// `meta` key of the access-revoked flag (a boolean).
pub const ACCESS_REVOKED_KEY: &str = "accessRevoked";
/// `meta` key of the settle epoch (a number, absent = 0): bumped by every settlement that
/// raised a held Query's version (`SyncMeta::settled_epoch`; schema 6).
pub const SETTLED_EPOCH_KEY: &str = "settledEpoch";
/// `meta` key of the page serial (a number, absent = 0): bumped by every page commit and
/// every wipe (`SyncMeta::page_serial`). Written since schema 7 without a schema change: a
/// database that never had one counts from 0.
pub const PAGE_SERIAL_KEY: &str = "pageSerial";

/// Key path of versioned-kind records.
pub const ROW_KEY_PATH: &str = "key";
/// Index of widgets by their dashboard.
pub const WIDGETS_BY_DASHBOARD: &str = "by_dashboard";
/// Field of Widget records the [`WIDGETS_BY_DASHBOARD`] index reads.
pub const DASHBOARD_ID_FIELD: &str = "dashboardId";
/// Index of snapshots by (widget, generation time): versions 2–4 only (schema 5 drops it;
/// the primary key has the same key path).
pub const SNAPSHOTS_BY_WIDGET_GENERATED: &str = "by_widget_generated";
/// Key path of snapshot records and of [`SNAPSHOTS_BY_WIDGET_GENERATED`].
pub const SNAPSHOT_KEY_PATH: [&str; 2] = ["widgetId", "generatedAt"];
/// Snapshot metadata (v4 to v7; dropped by v8), key path [`SNAPSHOT_META_KEY_PATH`], no other
/// field. Only the upgrade steps name it.
pub const SNAPSHOT_META_STORE: &str = "snapshot_meta";
/// Key path of [`SNAPSHOT_META_STORE`]: a snapshot's key, then what dedupe needs.
pub const SNAPSHOT_META_KEY_PATH: [&str; 4] =
    ["widgetId", "generatedAt", "paramsHash", "rowsDigest"];

/// The held index (v6), out-of-line keys.
pub const HELD_INDEX_STORE: &str = "held_index";
/// [`HELD_INDEX_STORE`] key of the cursor the index is exact at.
pub const HELD_AT_KEY: &str = "at";

/// Queued rename ops (v3), key path [`SEQ_KEY_PATH`].
pub const OUTBOX_STORE: &str = "outbox";
/// Index of [`OUTBOX_STORE`] on [`ENTITY_ID_FIELD`].
pub const OPS_BY_ENTITY: &str = "by_entity";
/// Field of op records naming the entity (query id) they edit.
pub const ENTITY_ID_FIELD: &str = "entityId";
/// Queued deferred commands (v3), key path [`SEQ_KEY_PATH`].
pub const COMMANDS_STORE: &str = "commands";
/// Key path of ops and commands: their queue position.
pub const SEQ_KEY_PATH: &str = "seq";
/// Conflicts, open and resolved (v3), key path [`ID_KEY_PATH`].
pub const CONFLICTS_STORE: &str = "conflicts";
/// Dead letters (v3), key path [`ID_KEY_PATH`].
pub const DEAD_LETTERS_STORE: &str = "dead_letters";
/// Key path of conflicts and dead letters.
pub const ID_KEY_PATH: &str = "id";
/// Index of conflicts and dead letters on [`ORDER_FIELD`]: oldest first.
pub const BY_ORDER: &str = "by_order";
/// Field holding the recording order of conflicts and dead letters.
pub const ORDER_FIELD: &str = "order";
/// Outbox bookkeeping (v3), out-of-line keys.
pub const OUTBOX_META_STORE: &str = "outbox_meta";
/// [`OUTBOX_META_STORE`] key of the last seq handed out (a number; absent means 0).
pub const LAST_SEQ_KEY: &str = "lastSeq";
/// [`OUTBOX_META_STORE`] key of the last conflict/dead-letter order handed out.
pub const LAST_ORDER_KEY: &str = "lastOrder";
/// [`OUTBOX_META_STORE`] key of the push batch in flight (absent when none).
pub const IN_FLIGHT_BATCH_KEY: &str = "inFlightBatch";

/// The object store holding rows of `kind`: the kind's wire name.
pub fn store_name(kind: Kind) -> &'static str {
    kind.as_str()
}
