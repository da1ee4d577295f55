//! [`IdbStore`]: the engine's [`Store`] on IndexedDB, one database per (tenant, user).
//!
//! The write that matters is [`Store::commit_page`]: one page's rows and its cursor land in
//! one readwrite transaction or not at all (PROTOCOL §3 atomicity), in `page_commit.rs`.
//! Pages are decoded in `page_decode.rs`, reads live in `reads.rs`, the outbox in
//! `outbox_store.rs` and `outbox*.rs`. The parts work on the store's [`Handle`] (`handle.rs`)
//! and never import `IdbStore`: the store calls into them, nothing calls back.

use crate::engine::{
    ApplyPlan, DecodedPage, HeldIndex, HeldPart, HeldScan, LocalState, PullConfig, StateRequest,
    Store, StoreError, StoredRow, StoredSnapshot, Swept, SyncMeta, WidgetRef,
};
use crate::protocol::identity::Identity;
use crate::protocol::{Kind, PageError};
use crate::web::idb::batch::bump_count;
use crate::web::idb::connection::{self, Connection};
use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::page_decode::{self, JsRow};
use crate::web::idb::replacement::{self, decode_flag};
use crate::web::idb::schema::{
    self, ACCESS_REVOKED_KEY, CURSOR_KEY, HELD_INDEX_STORE, META_STORE, PAGE_SERIAL_KEY,
    SETTLED_EPOCH_KEY,
};
use crate::web::idb::transaction::{read_transaction, Durability, WriteTransaction};
use crate::web::idb::write_sets::stores_of_kinds;
use idb::Query;
use std::future::IntoFuture;
use wasm_bindgen::JsValue;

/// The IndexedDB [`Store`] of one (tenant, user).
pub struct IdbStore {
    name: String,
    pub(super) handle: Handle,
}

impl IdbStore {
    /// Opens (creating or upgrading) the database of `identity`'s tenant and user.
    pub async fn open(identity: &Identity) -> Result<IdbStore, StoreError> {
        Self::open_at_version(identity, schema::SCHEMA_VERSION).await
    }

    /// Opens the database at an older schema `version` (1..=[`schema::SCHEMA_VERSION`]).
    /// Only for upgrade tests and tooling: reads that need a later version's indexes fail.
    pub async fn open_at_version(
        identity: &Identity,
        version: u32,
    ) -> Result<IdbStore, StoreError> {
        if version == 0 || version > schema::SCHEMA_VERSION {
            return Err(StoreError::Unavailable(format!(
                "schema version {version} is not between 1 and {}",
                schema::SCHEMA_VERSION
            )));
        }
        let name = identity.database_name();
        let connection = Connection::open(&name, version).await?;
        Ok(IdbStore {
            name,
            handle: Handle::new(connection),
        })
    }

    /// Deletes every local byte of `identity`'s tenant and user (logout). Close open stores of
    /// that identity first, or this waits until they notice `versionchange` and close.
    pub async fn delete_database(identity: &Identity) -> Result<(), StoreError> {
        connection::delete(&identity.database_name())
            .await
            .map_err(Into::into)
    }

    /// The IndexedDB database name.
    pub fn database_name(&self) -> &str {
        &self.name
    }

    /// Closes the connection; every later call returns [`StoreError::Unavailable`].
    pub fn close(&self) {
        self.handle.connection.close();
    }

    /// Whether the connection is still usable (not closed by this context, not lost).
    pub fn is_open(&self) -> bool {
        self.handle.connection.database().is_ok()
    }

    /// Calls `listener(kind, reason)` when the connection is lost (`"upgrade"`, `"delete"`,
    /// `"close"`), see `idb/connection.rs`; the bindings use it to tell the app at once.
    pub fn on_connection_lost(&self, listener: Option<js_sys::Function>) {
        self.handle.connection.set_lost_listener(listener);
    }

    /// **Test hook, not for production use.** Makes the next `commit_page` call
    /// `transaction.abort()` after issuing `writes` of its writes (or just before committing,
    /// if the page has fewer), so tests can prove a page is all-or-nothing.
    pub fn fail_next_commit_after(&self, writes: usize) {
        self.handle.fail_after.set(Some(writes));
    }

    /// **Test hook, not for production use.** Makes the next open that upgrades past schema 6
    /// in this thread fail its copy of the cache as a full disk does (`QuotaExceededError`),
    /// so tests can prove the open then recreates the cache empty and keeps the outbox.
    pub fn fail_next_upgrade_copy_with_quota() {
        crate::web::idb::migration::fail_next_copy_with_quota();
    }

    /// **Test hook, not for production use.** Makes the next outbox write (any
    /// `OutboxStore` method that writes) `abort()` its transaction after issuing `writes` of
    /// its writes (or just before committing, if it has fewer), so tests can prove every
    /// outbox write is all-or-nothing.
    pub fn fail_next_outbox_write_after(&self, writes: usize) {
        self.handle.outbox_fail_after.set(Some(writes));
    }

    /// The connection this store holds, lent to the TypeScript wrapper for the reads it does
    /// itself (`pkg/src/idb-reads.ts`: `widgets` and `latestSnapshot`, first render). Those reads
    /// return the stored objects as they are: going through wasm cost a `JSON.stringify`, a copy,
    /// a serde parse and print and a `JSON.parse` per record, only to pick `.row` (issue 13).
    /// Lending the connection instead of opening a second one keeps one connection per client:
    /// one `versionchange`/`close` watcher, one lifecycle (`idb/connection.rs`).
    ///
    /// The live `IDBDatabase` as a JS value; fails like every read (`Unavailable`) once the
    /// connection is closed or lost, so the wrapper reopens or reports `closed` as it does
    /// for a wasm read.
    pub fn database_handle(&self) -> Result<JsValue, StoreError> {
        Ok(JsValue::from(self.handle.db()?.clone()))
    }

    /// Opens a readwrite transaction over `stores`. The building block for writes that are
    /// not pages (the outbox, with [`Durability::Strict`]); see [`WriteTransaction`] for the
    /// rules.
    pub fn begin_write(
        &self,
        stores: &[&str],
        durability: Durability,
    ) -> Result<WriteTransaction, IdbError> {
        self.handle.begin_write(stores, durability)
    }

    async fn read_meta(&self) -> Result<SyncMeta, IdbError> {
        let tx = read_transaction(self.handle.db()?, &[META_STORE])?;
        let store = tx.object_store(META_STORE)?;
        let cursor = store.get(Query::Key(CURSOR_KEY.into()))?.into_future();
        let revoked = store
            .get(Query::Key(ACCESS_REVOKED_KEY.into()))?
            .into_future();
        let replacing = store
            .get(Query::Key(replacement::REPLACING_KEY.into()))?
            .into_future();
        let orphan_sweep = store
            .get(Query::Key(replacement::ORPHAN_SWEEP_KEY.into()))?
            .into_future();
        let settled_epoch = store
            .get(Query::Key(SETTLED_EPOCH_KEY.into()))?
            .into_future();
        let page_serial = store.get(Query::Key(PAGE_SERIAL_KEY.into()))?.into_future();
        let cursor = decode_cursor(cursor.await?)?;
        Ok(SyncMeta {
            cursor,
            access_revoked: decode_flag(revoked.await?, ACCESS_REVOKED_KEY)?,
            replacing: decode_flag(replacing.await?, replacement::REPLACING_KEY)?,
            orphan_sweep: decode_flag(orphan_sweep.await?, replacement::ORPHAN_SWEEP_KEY)?,
            settled_epoch: decode_count(settled_epoch.await?, SETTLED_EPOCH_KEY)?,
            page_serial: decode_count(page_serial.await?, PAGE_SERIAL_KEY)?,
        })
    }

    async fn write_access_revoked(&self, revoked: bool) -> Result<(), IdbError> {
        let mut tx = self.begin_write(&[META_STORE], Durability::Default)?;
        tx.put(
            META_STORE,
            &JsValue::from_bool(revoked),
            Some(&ACCESS_REVOKED_KEY.into()),
        )?;
        tx.commit().await
    }

    async fn clear_kinds(&self, kinds: &[Kind], drop_cursor: bool) -> Result<(), IdbError> {
        let kind_stores = stores_of_kinds(kinds);
        let mut stores = kind_stores.clone();
        stores.push(META_STORE);
        let held_index = self.handle.has_held_index()?;
        if held_index {
            stores.push(HELD_INDEX_STORE);
        }
        let mut tx = self.begin_write(&stores, Durability::Default)?;
        for store in kind_stores {
            tx.clear(store)?;
        }
        if held_index {
            tx.clear(HELD_INDEX_STORE)?;
        }
        if drop_cursor {
            tx.delete(META_STORE, &CURSOR_KEY.into())?;
        }
        // A plan or an index known before the wipe must not pass a check after it.
        bump_count(tx.raw(), META_STORE, PAGE_SERIAL_KEY).await?;
        tx.commit().await
    }
}

/// A stored count of `meta` (the settle epoch, the page serial; absent: 0).
pub(super) fn decode_count(value: Option<JsValue>, key: &str) -> Result<u64, IdbError> {
    match value.filter(|v| !v.is_undefined()) {
        None => Ok(0),
        Some(value) => value
            .as_f64()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0)
            .map(|n| n as u64)
            .ok_or_else(|| IdbError::Decode(format!("the stored {key} is not a count"))),
    }
}

fn decode_cursor(value: Option<JsValue>) -> Result<Option<String>, IdbError> {
    match value.filter(|v| !v.is_undefined()) {
        None => Ok(None),
        Some(value) => value
            .as_string()
            .map(Some)
            .ok_or_else(|| IdbError::Decode("the stored cursor is not a string".into())),
    }
}

impl Store for IdbStore {
    type Payload = JsRow;

    fn decode_page(
        &self,
        body: &[u8],
        config: &PullConfig,
    ) -> Result<DecodedPage<JsRow>, PageError> {
        page_decode::decode_page(body, config)
    }

    async fn meta(&self) -> Result<SyncMeta, StoreError> {
        Ok(self.read_meta().await?)
    }

    async fn set_access_revoked(&self, revoked: bool) -> Result<(), StoreError> {
        Ok(self.write_access_revoked(revoked).await?)
    }

    async fn local_state(&self, request: &StateRequest) -> Result<LocalState, StoreError> {
        Ok(self.handle.read_local_state(request).await?)
    }

    async fn commit_page<P: Clone + Into<JsRow>>(
        &self,
        plan: &ApplyPlan<P>,
        expected_cursor: Option<&str>,
        next_cursor: &str,
    ) -> Result<Swept, StoreError> {
        self.handle
            .write_page(plan, expected_cursor, next_cursor)
            .await
    }

    async fn wipe(&self, kinds: &[Kind], drop_cursor: bool) -> Result<(), StoreError> {
        Ok(self.clear_kinds(kinds, drop_cursor).await?)
    }

    async fn row(&self, kind: Kind, key: &str) -> Result<Option<StoredRow>, StoreError> {
        Ok(self.handle.read_row(kind, key).await?)
    }

    async fn rows(&self, kind: Kind) -> Result<Vec<StoredRow>, StoreError> {
        Ok(self.handle.read_rows(kind).await?)
    }

    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<StoredRow>, StoreError> {
        Ok(self.handle.read_widgets_of(dashboard_id).await?)
    }

    async fn snapshots_of(&self, widget_id: &str) -> Result<Vec<StoredSnapshot>, StoreError> {
        Ok(self.handle.read_snapshots_of(widget_id).await?)
    }

    async fn latest_snapshot(&self, widget_id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        Ok(self.handle.read_latest_snapshot(widget_id).await?)
    }

    async fn latest_snapshots(
        &self,
        widget_ids: &[String],
    ) -> Result<Vec<Option<StoredSnapshot>>, StoreError> {
        Ok(self.handle.read_latest_snapshots(widget_ids).await?)
    }

    async fn widget_refs(&self) -> Result<Vec<WidgetRef>, StoreError> {
        Ok(self.handle.read_widget_refs().await?)
    }

    async fn holds_any(&self, kind: Kind) -> Result<bool, StoreError> {
        Ok(self.handle.count_records(kind).await? > 0)
    }

    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError> {
        Ok(self.handle.read_existing_keys(kind, keys).await?)
    }

    async fn held_index(&self) -> Result<Option<HeldIndex>, StoreError> {
        Ok(self.handle.read_held_index().await?)
    }

    async fn save_held_index(
        &self,
        at: &str,
        serial: u64,
        epoch: Option<u64>,
        parts: &[HeldPart],
    ) -> Result<bool, StoreError> {
        self.handle.write_held_index(at, serial, epoch, parts).await
    }

    async fn scan_held(&self) -> Result<Option<HeldScan>, StoreError> {
        if !self.handle.has_held_index()? {
            return Ok(None);
        }
        Ok(Some(self.handle.scan_held_index().await?))
    }
}
