//! The read side of [`IdbStore`]: each call is one readonly transaction.
//!
//! When a call needs many records (the planner's [`StateRequest`]), every request is issued
//! first and the results are collected afterwards, so the browser works on all of them at
//! once instead of one event-loop turn per key.
//!
//! `WidgetSnapshot` is not a versioned kind: `row`, `rows` and `existing_keys` hold nothing
//! for it (use `snapshots_of`).

use crate::engine::{LocalState, SnapshotMeta, StateRequest, StoredRow, StoredSnapshot, WidgetRef};
use crate::protocol::{Kind, KindSet};
use crate::web::idb::batch;
use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::records::{
    decode_row, decode_snapshot, decode_snapshot_json, snapshot_range_bounds,
};
use crate::web::idb::schema::{store_name, WIDGETS_BY_DASHBOARD};
use crate::web::idb::transaction::{read_transaction, read_transaction_raw};
use idb::{KeyRange, Query};
use wasm_bindgen::JsValue;

impl Handle {
    pub(super) async fn read_row(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Option<StoredRow>, IdbError> {
        if !kind.is_versioned() {
            return Ok(None);
        }
        let name = store_name(kind);
        let tx = read_transaction(self.db()?, &[name])?;
        let value = tx.object_store(name)?.get(Query::Key(key.into()))?.await?;
        value
            .filter(|v| !v.is_undefined())
            .map(|v| decode_row(kind, &v))
            .transpose()
    }

    pub(super) async fn read_rows(&self, kind: Kind) -> Result<Vec<StoredRow>, IdbError> {
        if !kind.is_versioned() {
            return Ok(Vec::new());
        }
        let name = store_name(kind);
        let tx = read_transaction(self.db()?, &[name])?;
        let values = tx.object_store(name)?.get_all(None, None)?.await?;
        values.iter().map(|v| decode_row(kind, v)).collect()
    }

    /// Every held widget's key and references, without decoding the rows.
    pub(super) async fn read_widget_refs(&self) -> Result<Vec<WidgetRef>, IdbError> {
        let name = store_name(Kind::Widget);
        let tx = read_transaction_raw(self.db()?, &[name])?;
        let refs = batch::read_widget_refs(&tx, name).await?;
        Ok(refs
            .into_iter()
            .map(|(key, dashboard_id, metric_key)| WidgetRef {
                key,
                dashboard_id,
                metric_key,
            })
            .collect())
    }

    /// How many records the store of `kind` holds: a `count()`, no record is read.
    pub(super) async fn count_records(&self, kind: Kind) -> Result<u32, IdbError> {
        let name = store_name(kind);
        let tx = read_transaction(self.db()?, &[name])?;
        Ok(tx.object_store(name)?.count(None)?.await?)
    }

    pub(super) async fn read_widgets_of(
        &self,
        dashboard_id: &str,
    ) -> Result<Vec<StoredRow>, IdbError> {
        let name = store_name(Kind::Widget);
        let tx = read_transaction(self.db()?, &[name])?;
        let values = tx
            .object_store(name)?
            .index(WIDGETS_BY_DASHBOARD)?
            .get_all(Some(Query::Key(dashboard_id.into())), None)?
            .await?;
        values.iter().map(|v| decode_row(Kind::Widget, v)).collect()
    }

    pub(super) async fn read_snapshots_of(
        &self,
        widget_id: &str,
    ) -> Result<Vec<StoredSnapshot>, IdbError> {
        let name = store_name(Kind::WidgetSnapshot);
        let tx = read_transaction(self.db()?, &[name])?;
        let values = tx
            .object_store(name)?
            .get_all(Some(widget_range(widget_id)?), None)?
            .await?;
        // The primary key `[widgetId, generatedAt]` yields oldest first; the API wants newest
        // first.
        values.iter().rev().map(decode_snapshot).collect()
    }

    pub(super) async fn read_existing_keys(
        &self,
        kind: Kind,
        keys: &[String],
    ) -> Result<Vec<String>, IdbError> {
        if !kind.is_versioned() || keys.is_empty() {
            return Ok(Vec::new());
        }
        let name = store_name(kind);
        let tx = read_transaction_raw(self.db()?, &[name])?;
        let held = batch::read_keys_held(&tx, name, keys).await?;
        Ok(keys
            .iter()
            .zip(held)
            .filter(|(_, held)| *held)
            .map(|(key, _)| key.clone())
            .collect())
    }

    /// The newest snapshot of a widget: one record read through a reverse cursor, not every
    /// held snapshot (first render reads one per widget).
    pub(super) async fn read_latest_snapshot(
        &self,
        widget_id: &str,
    ) -> Result<Option<StoredSnapshot>, IdbError> {
        let name = store_name(Kind::WidgetSnapshot);
        let tx = read_transaction_raw(self.db()?, &[name])?;
        let prefix: [&str; 1] = [widget_id];
        let text = batch::read_last_of_each(&tx, name, &[&prefix])
            .await?
            .pop()
            .flatten();
        text.as_deref().map(decode_snapshot_json).transpose()
    }

    /// The newest snapshot of each of `widget_ids`, in order: one readonly transaction, one
    /// reverse cursor per widget over the primary key `[widgetId, generatedAt]`, all issued
    /// at once (first render asks for every widget on screen; one transaction each cost a
    /// commit and an event-loop round trip apiece).
    pub(super) async fn read_latest_snapshots(
        &self,
        widget_ids: &[String],
    ) -> Result<Vec<Option<StoredSnapshot>>, IdbError> {
        if widget_ids.is_empty() {
            return Ok(Vec::new());
        }
        let name = store_name(Kind::WidgetSnapshot);
        let tx = read_transaction_raw(self.db()?, &[name])?;
        let prefixes: Vec<[&str; 1]> = widget_ids.iter().map(|w| [w.as_str()]).collect();
        let prefixes: Vec<&[&str]> = prefixes.iter().map(|p| p.as_slice()).collect();
        batch::read_last_of_each(&tx, name, &prefixes)
            .await?
            .iter()
            .map(|text| text.as_deref().map(decode_snapshot_json).transpose())
            .collect()
    }

    /// The planner's reads for one page in one readonly transaction and two batches: the
    /// version of every requested key, and the metadata of every requested widget's
    /// snapshots, read from the snapshot records (schema 8 keeps no copy of the metadata: this
    /// clones the rows too, but only runs when no held index is whole).
    pub(super) async fn read_local_state(
        &self,
        request: &StateRequest,
    ) -> Result<LocalState, IdbError> {
        let keys: Vec<(Kind, &str)> = request
            .keys
            .iter()
            .filter(|(kind, _)| kind.is_versioned())
            .map(|(kind, key)| (*kind, key.as_str()))
            .collect();
        let kinds: KindSet = keys.iter().map(|(kind, _)| *kind).collect();
        let mut stores: Vec<&str> = kinds.iter().map(store_name).collect();
        if !request.widgets.is_empty() {
            stores.push(store_name(Kind::WidgetSnapshot));
        }
        let mut state = LocalState::default();
        if stores.is_empty() {
            return Ok(state);
        }
        let tx = read_transaction_raw(self.db()?, &stores)?;
        let snapshots = store_name(Kind::WidgetSnapshot);

        // Both batches are issued before either is awaited, and both are awaited before an
        // error returns (a promise must not settle into a dropped future).
        let versions = batch::start_read_versions(&tx, &keys);
        let metas = (!request.widgets.is_empty())
            .then(|| batch::start_read_snapshot_metas(&tx, snapshots, &request.widgets));
        let versions = versions.versions().await;
        let metas = match metas {
            Some(pending) => pending.snapshot_metas().await,
            None => Ok(Vec::new()),
        };
        let (versions, metas) = (versions?, metas?);

        for ((kind, key), version) in keys.iter().zip(versions) {
            if let Some(version) = version {
                state.versions.insert((*kind, (*key).to_owned()), version);
            }
        }
        for (widget, held) in request.widgets.iter().zip(metas) {
            // Like the in-memory store: a widget with nothing held has no entry.
            if held.is_empty() {
                continue;
            }
            let held = held
                .into_iter()
                .map(|(generated_at, params_hash, rows_digest)| SnapshotMeta {
                    generated_at,
                    params_hash,
                    rows_digest,
                })
                .collect();
            state.snapshots.insert(widget.clone(), held);
        }
        Ok(state)
    }
}

/// Every snapshot key of one widget, as an index query.
fn widget_range(widget_id: &str) -> Result<Query, IdbError> {
    let (lower, upper): (JsValue, JsValue) = snapshot_range_bounds(widget_id);
    Ok(Query::KeyRange(KeyRange::bound(
        &lower,
        &upper,
        Some(false),
        Some(false),
    )?))
}
