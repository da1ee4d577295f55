//! The held index on IndexedDB (`engine/store/held_index.rs` says what it is): the
//! `held_index` store (schema 6), out-of-line keys — `at` (the cursor the parts are exact at),
//! one JSON text per kind under the kind's name, and the raised query versions a settled
//! rename records (`outbox_settle.rs`).

use crate::engine::StoreError;
use crate::engine::{raised_version_id, raised_version_key, HeldIndex, HeldPart, HeldScan};
use crate::protocol::Kind;
use crate::web::idb::batch::{check_cursor, settle, CountCheck, CursorCheck};
use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::schema::{
    store_name, CURSOR_KEY, HELD_AT_KEY, HELD_INDEX_STORE, META_STORE, PAGE_SERIAL_KEY,
    SETTLED_EPOCH_KEY,
};
use crate::web::idb::store::decode_count;
use crate::web::idb::transaction::{read_transaction_raw, Durability};
use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::IdbTransaction;

#[wasm_bindgen(module = "/src/web/idb/held_index.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = readHeldIndex)]
    fn read_held_index_js(tx: &IdbTransaction, store: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = scanHeld)]
    fn scan_held_js(
        tx: &IdbTransaction,
        row_stores: &Array,
        widget_store: &str,
        snapshot_kind: &str,
        snapshot_store: &str,
        meta_store: &str,
        meta_keys: &Array,
    ) -> Result<Promise, JsValue>;
}

fn kind_named(name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
}

fn part(kind: Kind, text: &JsValue) -> Result<HeldPart, IdbError> {
    let text = text.as_string().ok_or_else(|| {
        IdbError::Decode(format!("held index part {} is not text", kind.as_str()))
    })?;
    HeldPart::from_json(kind, &text).map_err(|e| IdbError::Decode(format!("held index {}", e.0)))
}

impl Handle {
    /// Whether the database has the held index store (schema 6 and later).
    pub(super) fn has_held_index(&self) -> Result<bool, IdbError> {
        Ok(self.db()?.object_store_names().contains(HELD_INDEX_STORE))
    }

    pub(super) async fn read_held_index(&self) -> Result<Option<HeldIndex>, IdbError> {
        if !self.has_held_index()? {
            return Ok(None);
        }
        let tx = read_transaction_raw(self.db()?, &[HELD_INDEX_STORE])?;
        let read = settle(read_held_index_js(&tx, HELD_INDEX_STORE)).await?;
        let read: Array = read.unchecked_into();
        let (keys, values): (Array, Array) =
            (read.get(0).unchecked_into(), read.get(1).unchecked_into());
        let mut at = None;
        let mut parts = Vec::new();
        let mut raised = Vec::new();
        for (key, value) in keys.iter().zip(values.iter()) {
            let Some(key) = key.as_string() else { continue };
            if key == HELD_AT_KEY {
                at = value.as_string();
            } else if let Some(kind) = kind_named(&key) {
                parts.push(part(kind, &value)?);
            } else if let (Some(id), Some(version)) = (raised_version_id(&key), value.as_f64()) {
                raised.push((id.to_string(), version as u64));
            }
        }
        Ok(at.map(|at| HeldIndex { at, parts, raised }))
    }

    /// Writes `parts` and `at` if the stored cursor is `at`, the stored page serial `serial`
    /// and, with `epoch`, the stored settle epoch is `epoch` — then dropping the raised query versions the parts hold (the
    /// compare-and-set is the transaction's first requests; the writes are issued right behind
    /// them and the transaction aborts on a mismatch, as a page commit's do).
    pub(super) async fn write_held_index(
        &self,
        at: &str,
        serial: u64,
        epoch: Option<u64>,
        parts: &[HeldPart],
    ) -> Result<bool, StoreError> {
        if !self.has_held_index()? {
            return Ok(false);
        }
        let texts: Vec<String> = parts.iter().map(HeldPart::to_json).collect();
        let mut tx = self.begin_write(&[HELD_INDEX_STORE, META_STORE], Durability::Relaxed)?;
        let counts = CountCheck::serial_and_epoch(Some(serial), false, epoch);
        let check = check_cursor(tx.raw(), META_STORE, CURSOR_KEY, Some(at), &[], &counts);
        if epoch.is_some() {
            // Every raised query version: the keys from `Query\0` up to `Query\u{1}`.
            let raised = web_sys::IdbKeyRange::bound_with_lower_open_and_upper_open(
                &JsValue::from_str(&raised_version_key("")),
                &JsValue::from_str(&format!("{}\u{1}", Kind::Query.as_str())),
                false,
                true,
            )
            .map_err(|e| IdbError::from_js(&e))?;
            tx.delete(HELD_INDEX_STORE, &raised)?;
        }
        for (part, text) in parts.iter().zip(&texts) {
            tx.put(
                HELD_INDEX_STORE,
                &JsValue::from_str(text),
                Some(&part.kind.as_str().into()),
            )?;
        }
        tx.put(
            HELD_INDEX_STORE,
            &JsValue::from_str(at),
            Some(&HELD_AT_KEY.into()),
        )?;
        let matched = matches!(check.await?, CursorCheck::Matched(_));
        let committed = tx.commit().await;
        if matched {
            committed?;
        }
        Ok(matched)
    }

    /// Every kind's part read from the rows, with the cursor, settle epoch and page serial, in
    /// one readonly transaction.
    pub(super) async fn scan_held_index(&self) -> Result<HeldScan, IdbError> {
        let row_kinds: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_versioned()).collect();
        let mut stores: Vec<&str> = row_kinds.iter().map(|k| store_name(*k)).collect();
        let row_stores: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        stores.extend([store_name(Kind::WidgetSnapshot), META_STORE]);
        let tx = read_transaction_raw(self.db()?, &stores)?;
        let scanned = settle(scan_held_js(
            &tx,
            &row_stores,
            store_name(Kind::Widget),
            Kind::WidgetSnapshot.as_str(),
            store_name(Kind::WidgetSnapshot),
            META_STORE,
            &Array::of3(
                &CURSOR_KEY.into(),
                &SETTLED_EPOCH_KEY.into(),
                &PAGE_SERIAL_KEY.into(),
            ),
        ))
        .await?;
        let get = |name: &str| Reflect::get(&scanned, &JsValue::from_str(name)).unwrap_or_default();
        let meta: Array = get("meta").unchecked_into();
        let cursor = meta.get(0).as_string();
        let settled_epoch = decode_count(Some(meta.get(1)), SETTLED_EPOCH_KEY)?;
        let page_serial = decode_count(Some(meta.get(2)), PAGE_SERIAL_KEY)?;
        let mut parts = Vec::new();
        for entry in get("parts").unchecked_into::<Array>().iter() {
            let entry: Array = entry.unchecked_into();
            let kind = entry
                .get(0)
                .as_string()
                .and_then(|name| kind_named(&name))
                .ok_or_else(|| IdbError::Decode("scanHeld named no kind".into()))?;
            parts.push(part(kind, &entry.get(1))?);
        }
        Ok(HeldScan {
            cursor,
            settled_epoch,
            page_serial,
            parts,
        })
    }
}
