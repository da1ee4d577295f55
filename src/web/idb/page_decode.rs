//! [`IdbStore`](super::IdbStore)'s page decoder: the page is parsed once, in JS, into the
//! objects the store will put ([`JsRow`]); what crosses into wasm is each item's metadata
//! (op codes and versions in typed arrays, the strings in one NUL-separated text, the
//! canonical JSON of each snapshot's `rows` to digest here). The rules are the reference
//! decoder's (`engine/pull/decoded_page.rs`); `idb/page_decode.js` says how it keeps them. The Rust
//! parser is not in the browser build.

use crate::engine::text_digest;
use crate::engine::WidgetRef;
use crate::engine::{DecodedPage, ItemMeta, PullConfig, SnapshotMeta};
use crate::protocol::{Kind, PageError, Row};
use js_sys::{Array, Float64Array, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/web/idb/page_decode.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = decodePage)]
    fn decode_page_js(
        body: &[u8],
        user_id: &str,
        max_snapshot_bytes: f64,
    ) -> Result<JsValue, JsValue>;
}

/// A row held as the JS object the store will put (a pulled page's rows never become
/// [`Row`]s in the browser).
#[derive(Debug, Clone)]
pub struct JsRow(pub JsValue);

/// A parsed row as a JS object (tests and tools commit [`Row`]s; one `JSON.parse` each).
/// Neither step can fail: a map of JSON values always serializes, and `JSON.parse` reads
/// whatever `serde_json` writes.
impl From<Row> for JsRow {
    fn from(row: Row) -> JsRow {
        let parsed = serde_json::to_string(&row)
            .ok()
            .and_then(|text| JSON::parse(&text).ok())
            .unwrap_or(JsValue::NULL);
        JsRow(parsed)
    }
}

/// The op codes of `idb/page_decode.js`.
const UPSERT: u8 = 0;
const TOMBSTONE: u8 = 1;
const APPEND: u8 = 2;
const TOO_LARGE: u8 = 3;
const RESET: u8 = 4;

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn broken(what: &str) -> PageError {
    PageError::Json(format!("the page decoder returned no {what}"))
}

/// Decodes a pull body in JS (see the module doc).
pub fn decode_page(body: &[u8], config: &PullConfig) -> Result<DecodedPage<JsRow>, PageError> {
    let decoded = decode_page_js(body, &config.user_id, config.max_snapshot_bytes as f64)
        .map_err(|_| PageError::Json("the page decoder threw".into()))?;
    if let Some(refused) = field(&decoded, "refused").as_string() {
        let reason = field(&decoded, "reason").as_string().unwrap_or_default();
        return Err(match refused.as_str() {
            "shape" => PageError::Shape,
            "item" => PageError::Item {
                index: field(&decoded, "index").as_f64().unwrap_or(0.0) as usize,
                reason,
            },
            _ => PageError::Json(reason),
        });
    }
    let ops = field(&decoded, "ops")
        .dyn_into::<Uint8Array>()
        .map_err(|_| broken("ops"))?
        .to_vec();
    let versions = field(&decoded, "versions")
        .dyn_into::<Float64Array>()
        .map_err(|_| broken("versions"))?
        .to_vec();
    // The strings, NUL-separated in one text, or as an array when one holds a NUL.
    let (text, listed) = match field(&decoded, "text").as_string() {
        Some(text) => (text, None),
        None => {
            let list = field(&decoded, "strings")
                .dyn_into::<Array>()
                .map_err(|_| broken("strings"))?;
            (String::new(), Some(list))
        }
    };
    let canon = field(&decoded, "canon")
        .as_string()
        .ok_or_else(|| broken("canon"))?;
    let objects = field(&decoded, "rows")
        .dyn_into::<Array>()
        .map_err(|_| broken("rows"))?;
    let next_cursor = field(&decoded, "nextCursor")
        .as_string()
        .ok_or_else(|| broken("nextCursor"))?;
    let drained = field(&decoded, "drained")
        .as_bool()
        .ok_or_else(|| broken("drained"))?;

    let mut joined = text.split('\0');
    let mut listed_at = 0;
    let mut next = || {
        let string = match &listed {
            None => joined.next().map(str::to_string),
            Some(list) => {
                listed_at += 1;
                list.get(listed_at - 1).as_string()
            }
        };
        string.ok_or_else(|| broken("string"))
    };
    let mut digests = canon.split('\0');
    let mut metas = Vec::with_capacity(ops.len());
    let mut rows = Vec::with_capacity(ops.len());
    for (i, &op) in ops.iter().enumerate() {
        let mut kind = || -> Result<Kind, PageError> {
            next()?.parse::<Kind>().map_err(|e| PageError::Item {
                index: i,
                reason: e.to_string(),
            })
        };
        let (meta, row) = match op {
            UPSERT => {
                let kind = kind()?;
                let key = next()?;
                let widget = if kind == Kind::Widget {
                    Some(WidgetRef {
                        key: key.clone(),
                        dashboard_id: Some(next()?),
                        metric_key: Some(next()?),
                    })
                } else {
                    None
                };
                let version = versions.get(i).copied().ok_or_else(|| broken("version"))?;
                let meta = ItemMeta::Upsert {
                    kind,
                    key,
                    version: version as u64,
                    widget,
                };
                (meta, Some(JsRow(objects.get(i as u32))))
            }
            TOMBSTONE => {
                let kind = kind()?;
                (ItemMeta::Tombstone { kind, id: next()? }, None)
            }
            APPEND => {
                let widget_id = next()?;
                let snapshot = SnapshotMeta {
                    generated_at: next()?,
                    params_hash: next()?,
                    rows_digest: text_digest(digests.next().ok_or_else(|| broken("rows"))?),
                };
                let meta = ItemMeta::Append {
                    widget_id,
                    snapshot,
                };
                (meta, Some(JsRow(objects.get(i as u32))))
            }
            TOO_LARGE => (ItemMeta::TooLarge { widget_id: next()? }, None),
            RESET => (ItemMeta::Reset { kind: kind()? }, None),
            _ => return Err(broken("known op")),
        };
        metas.push(meta);
        rows.push(row);
    }
    Ok(DecodedPage {
        metas,
        rows,
        next_cursor,
        drained,
    })
}
