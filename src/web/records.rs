//! The shape of stored records and their conversion to and from JS values.
//!
//! Encoding happens before a transaction opens (it is the expensive part of a write), with
//! `serde-wasm-bindgen`'s JSON-compatible serializer so rows become plain objects that any
//! other reader of the database (devtools, a future JS migration) sees as JSON. Decoding
//! failures mean the database holds something this code never wrote: `IdbError::Decode`.

use super::idb_error::IdbError;
use super::schema::{DASHBOARD_ID_FIELD, SNAPSHOT_KEY_PATH};
use crate::engine::{SnapshotMeta, StoredRow, StoredSnapshot};
use crate::protocol::{Kind, Row};
use js_sys::{Array, Reflect};
use serde::{Deserialize, Serialize};
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::JsValue;

const SERIALIZER: Serializer = Serializer::json_compatible();

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotRecordOut<'a> {
    widget_id: &'a str,
    generated_at: &'a str,
    params_hash: &'a str,
    rows_digest: &'a str,
    row: &'a Row,
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

/// The stored record of a versioned row.
pub fn encode_row(row: &StoredRow) -> Result<JsValue, IdbError> {
    let dashboard_id = match row.kind {
        Kind::Widget => row.row.get(DASHBOARD_ID_FIELD).and_then(|v| v.as_str()),
        _ => None,
    };
    RowRecordOut {
        key: &row.key,
        version: row.version,
        row: &row.row,
        dashboard_id,
    }
    .serialize(&SERIALIZER)
    .map_err(|e| IdbError::Encode(format!("{} {}: {e}", row.kind, row.key)))
}

/// A versioned row from its stored record.
pub fn decode_row(kind: Kind, value: JsValue) -> Result<StoredRow, IdbError> {
    let record: RowRecordIn = serde_wasm_bindgen::from_value(value)
        .map_err(|e| IdbError::Decode(format!("{kind} record: {e}")))?;
    Ok(StoredRow {
        kind,
        key: record.key,
        version: record.version,
        row: record.row,
    })
}

/// The stored record of a snapshot.
pub fn encode_snapshot(snapshot: &StoredSnapshot) -> Result<JsValue, IdbError> {
    SnapshotRecordOut {
        widget_id: &snapshot.widget_id,
        generated_at: &snapshot.generated_at,
        params_hash: &snapshot.params_hash,
        rows_digest: &snapshot.rows_digest,
        row: &snapshot.row,
    }
    .serialize(&SERIALIZER)
    .map_err(|e| {
        IdbError::Encode(format!(
            "snapshot {}@{}: {e}",
            snapshot.widget_id, snapshot.generated_at
        ))
    })
}

/// A snapshot from its stored record.
pub fn decode_snapshot(value: JsValue) -> Result<StoredSnapshot, IdbError> {
    let record: SnapshotRecordIn = serde_wasm_bindgen::from_value(value)
        .map_err(|e| IdbError::Decode(format!("WidgetSnapshot record: {e}")))?;
    Ok(StoredSnapshot {
        widget_id: record.widget_id,
        generated_at: record.generated_at,
        params_hash: record.params_hash,
        rows_digest: record.rows_digest,
        row: record.row,
    })
}

/// Only the identifying fields of a snapshot record, read without decoding its rows: the
/// planner asks for these for every widget a page touches.
pub fn decode_snapshot_meta(value: &JsValue) -> Result<SnapshotMeta, IdbError> {
    Ok(SnapshotMeta {
        generated_at: string_field(value, SNAPSHOT_KEY_PATH[1])?,
        params_hash: string_field(value, "paramsHash")?,
        rows_digest: string_field(value, "rowsDigest")?,
    })
}

/// Only the `version` of a row record, read without decoding the row.
pub fn decode_version(value: &JsValue) -> Result<u64, IdbError> {
    let version = Reflect::get(value, &JsValue::from_str("version"))
        .ok()
        .and_then(|v| v.as_f64())
        .ok_or_else(|| IdbError::Decode("row record without a numeric version".into()))?;
    if version < 0.0 || version.fract() != 0.0 || version > js_sys::Number::MAX_SAFE_INTEGER {
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

fn string_field(value: &JsValue, field: &str) -> Result<String, IdbError> {
    Reflect::get(value, &JsValue::from_str(field))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| IdbError::Decode(format!("snapshot record without a string `{field}`")))
}
