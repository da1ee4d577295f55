//! The shape of stored records and their conversion to and from JS values.
//!
//! Records are plain JSON objects (what devtools, or a future JS-side migration, sees):
//! - versioned kinds: `{key, version, row}`, Widget records also `dashboardId`;
//! - snapshots: `{widgetId, generatedAt, paramsHash, rowsDigest, row}`.
//!
//! A pulled page's records are written with the row objects the page decoder made
//! (`idb/page_decode.js`): wasm encodes each record without its row and names the row by index
//! (`putHeld`); `issueWrites` adds it. Records of rows held in wasm (a settled rename's
//! Query row) are encoded whole.
//!
//! Writing goes through JSON text rather than `serde-wasm-bindgen`: serializing a whole
//! page with `serde_json` and one `JSON.parse` was measured 3.5× faster than
//! `serde_wasm_bindgen::Serializer::json_compatible()` (2000 records: ≈70 ms against ≈240 ms
//! in headless Chromium, release build), because the JS engine builds the objects natively
//! instead of one boundary call per field. The result is the same: maps become plain
//! objects. Encoding happens before a transaction opens. Reading takes a record's JSON text
//! (`JSON.stringify`: a value JSON cannot hold, a BigInt say, is refused there) and reads it
//! with `crate::json` (in the browser `JSON.parse` and serde-wasm-bindgen: serde_json's parser
//! is not in the browser build, `json.rs` says why). A record that does not decode is
//! something this code never wrote: [`IdbError::Decode`].

use crate::engine::{StoredRow, StoredSnapshot};
use crate::json::from_json_of;
use crate::protocol::{Kind, Row};
use crate::web::idb::error::IdbError;
use crate::web::idb::schema::DASHBOARD_ID_FIELD;
use js_sys::{Array, Reflect, JSON};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// Largest integer a JS number holds exactly; a larger version would be silently rounded.
pub(super) const MAX_SAFE_VERSION: u64 = (1 << 53) - 1;

#[derive(Serialize)]
struct RowRecordOut<'a> {
    key: &'a str,
    version: u64,
    row: &'a Row,
    /// Only on Widget records, for the `by_dashboard` index; a widget without one is simply
    /// not indexed.
    #[serde(rename = "dashboardId", skip_serializing_if = "Option::is_none")]
    dashboard_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct RowRecordIn {
    key: String,
    version: u64,
    row: Row,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotRecordIn {
    widget_id: String,
    generated_at: String,
    params_hash: String,
    rows_digest: String,
    row: Row,
}

/// A snapshot's record without its row, which `issueWrites` adds from the page's objects
/// (`putHeld`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HeldSnapshotRecordOut<'a> {
    widget_id: &'a str,
    generated_at: &'a str,
    params_hash: &'a str,
    rows_digest: &'a str,
}

/// A versioned row's record without its row, which `issueWrites` adds from the page's
/// objects (`putHeld`).
#[derive(Serialize)]
struct HeldRowRecordOut<'a> {
    key: &'a str,
    version: u64,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RecordOut<'a> {
    Row(RowRecordOut<'a>),
    HeldRow(HeldRowRecordOut<'a>),
    HeldSnapshot(HeldSnapshotRecordOut<'a>),
}

/// Something to store, borrowed from the plan; encode many with [`encode_records`].
#[derive(Serialize)]
#[serde(transparent)]
pub struct RecordRef<'a>(RecordOut<'a>);

impl<'a> RecordRef<'a> {
    /// The record of a versioned row. Refuses a version a JS number would round.
    pub fn row(row: &'a StoredRow) -> Result<RecordRef<'a>, IdbError> {
        if row.version > MAX_SAFE_VERSION {
            return Err(IdbError::Encode(format!(
                "{} {}: version {} does not fit a JS number",
                row.kind, row.key, row.version
            )));
        }
        let dashboard_id = match row.kind {
            Kind::Widget => row.row.get(DASHBOARD_ID_FIELD).and_then(|v| v.as_str()),
            _ => None,
        };
        Ok(RecordRef(RecordOut::Row(RowRecordOut {
            key: &row.key,
            version: row.version,
            row: &row.row,
            dashboard_id,
        })))
    }

    /// The record of a versioned row held as a JS object, without the row (see
    /// [`WriteOp::put_held`]). Refuses a version a JS number would round.
    pub fn held_row<P>(row: &'a StoredRow<P>) -> Result<RecordRef<'a>, IdbError> {
        if row.version > MAX_SAFE_VERSION {
            return Err(IdbError::Encode(format!(
                "{} {}: version {} does not fit a JS number",
                row.kind, row.key, row.version
            )));
        }
        Ok(RecordRef(RecordOut::HeldRow(HeldRowRecordOut {
            key: &row.key,
            version: row.version,
        })))
    }

    /// The record of a snapshot held as a JS object, without the row (see
    /// [`WriteOp::put_held`]).
    pub fn held_snapshot<P>(snapshot: &'a StoredSnapshot<P>) -> RecordRef<'a> {
        RecordRef(RecordOut::HeldSnapshot(HeldSnapshotRecordOut {
            widget_id: &snapshot.widget_id,
            generated_at: &snapshot.generated_at,
            params_hash: &snapshot.params_hash,
            rows_digest: &snapshot.rows_digest,
        }))
    }
}

/// Encodes many records with one `JSON.parse`; the result is in input order.
pub fn encode_records(records: &[RecordRef<'_>]) -> Result<Vec<JsValue>, IdbError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let text = serde_json::to_string(records).map_err(|e| IdbError::Encode(e.to_string()))?;
    let parsed =
        JSON::parse(&text).map_err(|e| IdbError::Encode(IdbError::from_js(&e).to_string()))?;
    let array = parsed
        .dyn_into::<Array>()
        .map_err(|_| IdbError::Encode("JSON.parse did not return an array".into()))?;
    Ok(array.iter().collect())
}

/// The key of a delete: a row key, or a snapshot's `[widgetId, generatedAt]`.
#[derive(Serialize)]
#[serde(untagged)]
enum WriteKey<'a> {
    Row(&'a str),
    Snapshot([&'a str; 2]),
    /// `[lower, upper)` of a `deleteRange`.
    Range([&'a str; 2]),
}

/// One write of a page as JS sees it: `["putHeld" | "putHeldWidget", store, record,
/// rowIndex]`, `["delete", store, key]` or `["deleteRange", store, [lower, upper]]` (what
/// `issueWrites` in `idb/batch.js` takes).
#[derive(Serialize)]
#[serde(untagged)]
enum WriteOpOut<'a> {
    WriteHeld(&'static str, &'static str, RecordRef<'a>, u32),
    Delete(&'static str, &'static str, WriteKey<'a>),
}

/// A page's deletes and puts, in the order given, encoded for [`encode_writes`].
#[derive(Serialize)]
#[serde(transparent)]
pub struct WriteOp<'a>(WriteOpOut<'a>);

impl<'a> WriteOp<'a> {
    /// Put `record` into `store` with its `row` set to element `row` of the JS array of row
    /// objects issued with the writes (`issueWrites`); with `widget`, the row's string
    /// `dashboardId` is also copied onto the record (the `by_dashboard` index).
    pub fn put_held(
        store: &'static str,
        record: RecordRef<'a>,
        row: u32,
        widget: bool,
    ) -> WriteOp<'a> {
        let op = if widget { "putHeldWidget" } else { "putHeld" };
        WriteOp(WriteOpOut::WriteHeld(op, store, record, row))
    }

    /// Delete the row `key` of `store`.
    pub fn delete_row(store: &'static str, key: &'a str) -> WriteOp<'a> {
        WriteOp(WriteOpOut::Delete("delete", store, WriteKey::Row(key)))
    }

    /// Delete every key `k` of `store` with `lower <= k < upper`.
    pub fn delete_range(store: &'static str, lower: &'a str, upper: &'a str) -> WriteOp<'a> {
        WriteOp(WriteOpOut::Delete(
            "deleteRange",
            store,
            WriteKey::Range([lower, upper]),
        ))
    }

    /// Delete the snapshot `[widget_id, generated_at]` of `store`.
    pub fn delete_snapshot(
        store: &'static str,
        widget_id: &'a str,
        generated_at: &'a str,
    ) -> WriteOp<'a> {
        WriteOp(WriteOpOut::Delete(
            "delete",
            store,
            WriteKey::Snapshot([widget_id, generated_at]),
        ))
    }
}

/// Encodes a page's writes with one `serde_json` pass and one `JSON.parse`; the result is the
/// JS array `issueWrites` takes (never iterated element by element from wasm).
pub fn encode_writes(writes: &[WriteOp<'_>]) -> Result<Array, IdbError> {
    let text = serde_json::to_string(writes).map_err(|e| IdbError::Encode(e.to_string()))?;
    JSON::parse(&text)
        .map_err(|e| IdbError::Encode(IdbError::from_js(&e).to_string()))?
        .dyn_into::<Array>()
        .map_err(|_| IdbError::Encode("JSON.parse did not return an array".into()))
}

/// The stored record of a versioned row.
pub fn encode_row(row: &StoredRow) -> Result<JsValue, IdbError> {
    single(encode_records(&[RecordRef::row(row)?])?)
}

fn single(mut values: Vec<JsValue>) -> Result<JsValue, IdbError> {
    values
        .pop()
        .ok_or_else(|| IdbError::Encode("no record produced".into()))
}

/// A stored record read as its JSON (`json/browser.rs`); `what` names it in the error.
pub(super) fn stored<T: serde::de::DeserializeOwned>(
    value: &JsValue,
    what: &str,
) -> Result<T, IdbError> {
    from_json_of(value).map_err(|e| match e.is_not_json() {
        true => IdbError::Decode(format!("{what} record is not JSON")),
        false => IdbError::Decode(format!("{what} record: {e}")),
    })
}

/// A versioned row from its stored record.
pub fn decode_row(kind: Kind, value: &JsValue) -> Result<StoredRow, IdbError> {
    let record: RowRecordIn = stored(value, kind.as_str())?;
    Ok(StoredRow {
        kind,
        key: record.key,
        version: record.version,
        row: record.row,
    })
}

/// A snapshot from its stored record.
pub fn decode_snapshot(value: &JsValue) -> Result<StoredSnapshot, IdbError> {
    snapshot_of(stored(value, "WidgetSnapshot")?)
}

/// A snapshot from the JSON text of its stored record.
pub fn decode_snapshot_json(text: &str) -> Result<StoredSnapshot, IdbError> {
    let record: SnapshotRecordIn = crate::json::from_str(text)
        .map_err(|e| IdbError::Decode(format!("WidgetSnapshot record: {e}")))?;
    snapshot_of(record)
}

fn snapshot_of(record: SnapshotRecordIn) -> Result<StoredSnapshot, IdbError> {
    Ok(StoredSnapshot {
        widget_id: record.widget_id,
        generated_at: record.generated_at,
        params_hash: record.params_hash,
        rows_digest: record.rows_digest,
        row: record.row,
    })
}

/// Only the `version` of a row record, read without decoding the row.
pub fn decode_version(value: &JsValue) -> Result<u64, IdbError> {
    let version = Reflect::get(value, &JsValue::from_str("version"))
        .ok()
        .and_then(|v| v.as_f64())
        .ok_or_else(|| IdbError::Decode("row record without a numeric version".into()))?;
    if version < 0.0 || version.fract() != 0.0 || version > MAX_SAFE_VERSION as f64 {
        return Err(IdbError::Decode(format!("bad row version {version}")));
    }
    Ok(version as u64)
}

/// The primary key of a snapshot: `[widgetId, generatedAt]`.
pub fn snapshot_key(widget_id: &str, generated_at: &str) -> JsValue {
    Array::of2(&widget_id.into(), &generated_at.into()).into()
}

/// Bounds of every `[widgetId, *]` key of one widget: `[widgetId]` sorts before any
/// `[widgetId, string]`, and `[widgetId, []]` after (arrays sort above strings).
pub fn snapshot_range_bounds(widget_id: &str) -> (JsValue, JsValue) {
    let lower = Array::of1(&widget_id.into());
    let upper = Array::of2(&widget_id.into(), &Array::new());
    (lower.into(), upper.into())
}
