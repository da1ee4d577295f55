//! The read side of [`IdbStore`]: each call is one readonly transaction.
//!
//! When a call needs many records (the planner's [`StateRequest`]), every request is issued
//! first and the results are collected afterwards, so the browser works on all of them at
//! once instead of one event-loop turn per key.
//!
//! `WidgetSnapshot` is not a versioned kind: `row`, `rows` and `existing_keys` hold nothing
//! for it (use `snapshots_of`).

use super::idb_error::IdbError;
use super::idb_store::IdbStore;
use super::records::{
    decode_row, decode_snapshot, decode_snapshot_meta, decode_version, snapshot_range_bounds,
};
use super::schema::{store_name, SNAPSHOTS_BY_WIDGET_GENERATED, WIDGETS_BY_DASHBOARD};
use super::transaction::read_transaction;
use crate::engine::{LocalState, StateRequest, StoredRow, StoredSnapshot};
use crate::protocol::Kind;
use idb::{KeyRange, Query};
use std::collections::BTreeSet;
use std::future::IntoFuture;
use wasm_bindgen::JsValue;

impl IdbStore {
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
            .index(SNAPSHOTS_BY_WIDGET_GENERATED)?
            .get_all(Some(widget_range(widget_id)?), None)?
            .await?;
        // The index yields oldest first; the API wants newest first.
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
        let tx = read_transaction(self.db()?, &[name])?;
        let store = tx.object_store(name)?;
        let mut pending = Vec::with_capacity(keys.len());
        for key in keys {
            pending.push((key, store.get_key(Query::Key(key.into()))?.into_future()));
        }
        let mut found = Vec::new();
        for (key, request) in pending {
            if request.await?.is_some_and(|k| !k.is_undefined()) {
                found.push(key.clone());
            }
        }
        Ok(found)
    }

    pub(super) async fn read_local_state(
        &self,
        request: &StateRequest,
    ) -> Result<LocalState, IdbError> {
        let kinds: BTreeSet<Kind> = request
            .keys
            .iter()
            .map(|(kind, _)| *kind)
            .filter(|kind| kind.is_versioned())
            .collect();
        let mut stores: Vec<&str> = kinds.iter().map(|kind| store_name(*kind)).collect();
        if !request.widgets.is_empty() {
            stores.push(store_name(Kind::WidgetSnapshot));
        }
        let mut state = LocalState::default();
        if stores.is_empty() {
            return Ok(state);
        }
        let tx = read_transaction(self.db()?, &stores)?;

        let mut versions = Vec::with_capacity(request.keys.len());
        for (kind, key) in request.keys.iter().filter(|(kind, _)| kind.is_versioned()) {
            let get = tx
                .object_store(store_name(*kind))?
                .get(Query::Key(key.into()))?;
            versions.push(((*kind, key.clone()), get.into_future()));
        }
        let mut snapshots = Vec::with_capacity(request.widgets.len());
        if !request.widgets.is_empty() {
            let index = tx
                .object_store(store_name(Kind::WidgetSnapshot))?
                .index(SNAPSHOTS_BY_WIDGET_GENERATED)?;
            for widget in &request.widgets {
                let all = index.get_all(Some(widget_range(widget)?), None)?;
                snapshots.push((widget.clone(), all.into_future()));
            }
        }

        for (key, get) in versions {
            if let Some(record) = get.await?.filter(|v| !v.is_undefined()) {
                state.versions.insert(key, decode_version(&record)?);
            }
        }
        for (widget, all) in snapshots {
            let metas = all
                .await?
                .iter()
                .map(decode_snapshot_meta)
                .collect::<Result<Vec<_>, _>>()?;
            // Like the in-memory store: a widget with nothing held has no entry.
            if !metas.is_empty() {
                state.snapshots.insert(widget, metas);
            }
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
