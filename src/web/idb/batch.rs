//! Rust side of `idb/batch.js`: many IndexedDB requests per boundary call.
//!
//! The `idb` crate wraps every request in two wasm closures and several boundary crossings;
//! the pull path issues thousands per page (the versions of ≈ 1700 keys, the snapshot
//! metadata of ≈ 200 widgets, ≈ 2000 puts). These helpers hand a whole batch to JS at once —
//! requests as JSON text, results as a `Float64Array` or JSON text — so the per-request cost
//! is the browser's alone. What to read and write is still decided here and in the engine.

use crate::protocol::Kind;
use crate::web::idb::error::IdbError;
use crate::web::idb::schema::{
    store_name, ACCESS_REVOKED_KEY, DASHBOARD_ID_FIELD, HELD_INDEX_STORE, META_STORE,
    PAGE_SERIAL_KEY, SETTLED_EPOCH_KEY, SNAPSHOT_META_STORE, WIDGETS_BY_DASHBOARD,
};
use js_sys::{Array, Float64Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbTransaction};

#[wasm_bindgen(module = "/src/web/idb/batch.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = readVersions)]
    fn read_versions_js(tx: &IdbTransaction, requests_json: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = readKeysHeld)]
    fn read_keys_held_js(
        tx: &IdbTransaction,
        store: &str,
        keys_json: &str,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = readSnapshotMetas)]
    fn read_snapshot_metas_js(
        tx: &IdbTransaction,
        snapshot_store: &str,
        widgets_json: &str,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = backfillSnapshotMeta)]
    fn backfill_snapshot_meta_js(
        snapshots: &IdbObjectStore,
        metas: &IdbObjectStore,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = rekeyStores)]
    #[allow(clippy::too_many_arguments)]
    fn rekey_stores_js(
        db: &IdbDatabase,
        tx: &IdbTransaction,
        row_stores: Vec<String>,
        snapshot_store: &str,
        meta_store: &str,
        widget_store: &str,
        index_name: &str,
        index_field: &str,
        rebuild_meta: bool,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = recreateReplicatedStores)]
    #[allow(clippy::too_many_arguments)]
    fn recreate_replicated_stores_js(
        db: &IdbDatabase,
        tx: &IdbTransaction,
        replicated: Vec<String>,
        widget_store: &str,
        index_name: &str,
        index_field: &str,
        held_index_store: &str,
        meta_store: &str,
        keep_keys: Vec<String>,
        serial_key: &str,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = readLastOfEach)]
    fn read_last_of_each_js(
        tx: &IdbTransaction,
        store: &str,
        prefixes_json: &str,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = readHeldKeys)]
    fn read_held_keys_js(
        tx: &IdbTransaction,
        row_stores_json: &str,
        snapshot_store: &str,
        meta_store: &str,
        mark_lower: &str,
        mark_upper: &str,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = readWidgetRefs)]
    fn read_widget_refs_js(tx: &IdbTransaction, store: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = checkCursor)]
    fn check_cursor_js(
        tx: &IdbTransaction,
        meta_store: &str,
        cursor_key: &str,
        expected: &JsValue,
        flag_keys: &Array,
        counts: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = bumpCount)]
    fn bump_count_js(tx: &IdbTransaction, meta_store: &str, key: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = issueWrites)]
    fn issue_writes_js(
        tx: &IdbTransaction,
        writes: &Array,
        rows: &JsValue,
        limit: f64,
    ) -> Result<f64, JsValue>;
}

/// Turns a synchronous throw or a rejection into an [`IdbError`], like the `idb` crate would.
fn js_error(error: JsValue) -> IdbError {
    IdbError::from_js(&error)
}

pub(super) async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, IdbError> {
    JsFuture::from(promise.map_err(js_error)?)
        .await
        .map_err(js_error)
}

/// A batch whose requests are already issued; [`versions`](Pending::versions) or
/// [`snapshot_metas`](Pending::snapshot_metas) awaits and decodes it. Starting two batches
/// before finishing either keeps the browser busy with both; finish every started batch
/// before returning an error, so no promise settles into a dropped future.
pub struct Pending {
    future: Result<JsFuture, IdbError>,
    count: usize,
}

impl Pending {
    fn new(promise: Result<Promise, JsValue>, count: usize) -> Pending {
        Pending {
            future: promise.map(JsFuture::from).map_err(js_error),
            count,
        }
    }

    fn failed(error: IdbError) -> Pending {
        Pending {
            future: Err(error),
            count: 0,
        }
    }

    async fn settle(self) -> Result<(JsValue, usize), IdbError> {
        let value = self.future?.await.map_err(js_error)?;
        Ok((value, self.count))
    }

    /// The versions of [`start_read_versions`], in request order; `None` where nothing is held.
    pub async fn versions(self) -> Result<Vec<Option<u64>>, IdbError> {
        let (value, count) = self.settle().await?;
        let versions = value
            .dyn_into::<Float64Array>()
            .map_err(|_| IdbError::Decode("readVersions did not return a Float64Array".into()))?
            .to_vec();
        if versions.len() != count {
            return Err(IdbError::Decode(
                "readVersions returned too few versions".into(),
            ));
        }
        versions.into_iter().map(decode_version).collect()
    }

    /// The metadata of [`start_read_snapshot_metas`], one list per widget in request order.
    pub async fn snapshot_metas(self) -> Result<Vec<Vec<MetaTriple>>, IdbError> {
        let (value, count) = self.settle().await?;
        let text = value
            .as_string()
            .ok_or_else(|| IdbError::Decode("readSnapshotMetas did not return text".into()))?;
        let metas: Vec<Vec<MetaTriple>> = crate::json::from_str(&text)
            .map_err(|e| IdbError::Decode(format!("snapshot metadata: {e}")))?;
        if metas.len() != count {
            return Err(IdbError::Decode(
                "readSnapshotMetas returned too few widgets".into(),
            ));
        }
        Ok(metas)
    }
}

/// Issues, in `tx`, a `get` of every `(kind, key)` now; finish with [`Pending::versions`].
pub fn start_read_versions(tx: &IdbTransaction, keys: &[(Kind, &str)]) -> Pending {
    let requests: Vec<(&str, &str)> = keys.iter().map(|(k, key)| (k.as_str(), *key)).collect();
    match serde_json::to_string(&requests) {
        Ok(json) => Pending::new(read_versions_js(tx, &json), keys.len()),
        Err(e) => Pending::failed(IdbError::Encode(e.to_string())),
    }
}

/// Which of `keys` `store` holds, in order (one `getKey` each, issued in one call).
pub async fn read_keys_held(
    tx: &IdbTransaction,
    store: &str,
    keys: &[String],
) -> Result<Vec<bool>, IdbError> {
    let json = serde_json::to_string(keys).map_err(|e| IdbError::Encode(e.to_string()))?;
    let held = settle(read_keys_held_js(tx, store, &json))
        .await?
        .dyn_into::<Uint8Array>()
        .map_err(|_| IdbError::Decode("readKeysHeld did not return a Uint8Array".into()))?
        .to_vec();
    if held.len() != keys.len() {
        return Err(IdbError::Decode(
            "readKeysHeld returned too few flags".into(),
        ));
    }
    Ok(held.into_iter().map(|h| h == 1).collect())
}

/// -1 is "not held"; anything else must be a version a JS number holds exactly.
fn decode_version(v: f64) -> Result<Option<u64>, IdbError> {
    if v == -1.0 {
        return Ok(None);
    }
    if !(0.0..=crate::web::idb::records::MAX_SAFE_VERSION as f64).contains(&v) || v.fract() != 0.0 {
        return Err(IdbError::Decode(format!("bad row version {v}")));
    }
    Ok(Some(v as u64))
}

/// `[generatedAt, paramsHash, rowsDigest]` of every held snapshot, oldest first.
pub type MetaTriple = (String, String, String);

/// Issues, in `tx`, a `getAll` of `snapshot_store`'s range for each of `widgets` now (the
/// metadata is read from the records; schema 8 keeps no copy of it); finish with
/// [`Pending::snapshot_metas`].
pub fn start_read_snapshot_metas(
    tx: &IdbTransaction,
    snapshot_store: &str,
    widgets: &[String],
) -> Pending {
    match serde_json::to_string(widgets) {
        Ok(json) => Pending::new(
            read_snapshot_metas_js(tx, snapshot_store, &json),
            widgets.len(),
        ),
        Err(e) => Pending::failed(IdbError::Encode(e.to_string())),
    }
}

/// Starts schema 4's backfill inside the upgrade transaction: a metadata record in `metas`
/// for every snapshot of `snapshots`. The transaction waits for it; a failure aborts it.
pub fn backfill_snapshot_meta(
    snapshots: &IdbObjectStore,
    metas: &IdbObjectStore,
) -> Result<(), IdbError> {
    backfill_snapshot_meta_js(snapshots, metas).map_err(js_error)
}

/// Starts schema 7's re-keying inside the upgrade transaction `tx` (`rekeyStores` in
/// `idb/batch.js`): the replicated stores move to out-of-line keys, records and keys kept,
/// and the snapshot metadata store is dropped, and rebuilt from the snapshots when
/// `rebuild_meta` (an upgrade that stops at 7: schema 8 drops it). The transaction waits for
/// it; a failure aborts it.
pub fn rekey_stores(
    db: &IdbDatabase,
    tx: &IdbTransaction,
    rebuild_meta: bool,
) -> Result<(), IdbError> {
    let rows: Vec<String> = Kind::ALL
        .iter()
        .filter(|k| k.is_versioned())
        .map(|k| store_name(*k).to_string())
        .collect();
    rekey_stores_js(
        db,
        tx,
        rows,
        store_name(Kind::WidgetSnapshot),
        SNAPSHOT_META_STORE,
        store_name(Kind::Widget),
        WIDGETS_BY_DASHBOARD,
        DASHBOARD_ID_FIELD,
        rebuild_meta,
    )
    .map_err(js_error)
}

/// Schema 7 without the copy (`recreateReplicatedStores` in `idb/batch.js`): the replicated
/// stores are created again empty with out-of-line keys, the held index cleared, the cursor
/// and the replacement bookkeeping dropped (the access-revoked flag and the settle epoch
/// kept, the page serial bumped). The outbox stores are not touched. For an upgrade whose copy
/// did not fit in the quota (`connection.rs`): the rows come back with the next pull. With
/// `with_meta` (an upgrade that stops at 7) the snapshot metadata store is one of them.
pub fn recreate_replicated_stores(
    db: &IdbDatabase,
    tx: &IdbTransaction,
    with_meta: bool,
) -> Result<(), IdbError> {
    let mut replicated: Vec<String> = Kind::ALL
        .iter()
        .map(|k| store_name(*k).to_string())
        .collect();
    if with_meta {
        replicated.push(SNAPSHOT_META_STORE.to_string());
    }
    recreate_replicated_stores_js(
        db,
        tx,
        replicated,
        store_name(Kind::Widget),
        WIDGETS_BY_DASHBOARD,
        DASHBOARD_ID_FIELD,
        HELD_INDEX_STORE,
        META_STORE,
        vec![ACCESS_REVOKED_KEY.into(), SETTLED_EPOCH_KEY.into()],
        PAGE_SERIAL_KEY,
    )
    .map_err(js_error)
}

/// For each of `prefixes` (array-key prefixes, e.g. `[widgetId]`), the JSON text of the
/// record of `store` with the greatest primary key starting with it, if any, in order. All
/// the reverse cursors are issued in one boundary call and each reads one record.
pub async fn read_last_of_each(
    tx: &IdbTransaction,
    store: &str,
    prefixes: &[&[&str]],
) -> Result<Vec<Option<String>>, IdbError> {
    let json = serde_json::to_string(prefixes).map_err(|e| IdbError::Encode(e.to_string()))?;
    let found = settle(read_last_of_each_js(tx, store, &json))
        .await?
        .dyn_into::<Array>()
        .map_err(|_| IdbError::Decode("readLastOfEach did not return an array".into()))?;
    if found.length() as usize != prefixes.len() {
        return Err(IdbError::Decode(
            "readLastOfEach returned too few records".into(),
        ));
    }
    found
        .iter()
        .map(|value| {
            if value.is_undefined() {
                return Ok(None);
            }
            value
                .as_string()
                .map(Some)
                .ok_or_else(|| IdbError::Decode("readLastOfEach did not return text".into()))
        })
        .collect()
}

/// Issues at most `limit` of `writes` (`["putHeld", store, record, i]` taking its row from
/// `rows[i]`, `["delete", store, key]`, …, see [`crate::web::idb::records`])
/// in `tx` without awaiting; returns how many were issued.
pub fn issue_writes(
    tx: &IdbTransaction,
    writes: &Array,
    rows: &JsValue,
    limit: usize,
) -> Result<usize, IdbError> {
    let issued = issue_writes_js(tx, writes, rows, limit as f64).map_err(|e| {
        // `objectStore()` throws InvalidStateError once the transaction finished.
        match IdbError::from_js(&e) {
            IdbError::InvalidState(message) => IdbError::TransactionInactive(message),
            other => other,
        }
    })?;
    Ok(issued as usize)
}

/// Every key the sweep that ends a full replacement looks at (`readHeldKeys`).
#[derive(Debug, serde::Deserialize)]
pub struct HeldKeys {
    /// `(store, keys)` of each row store asked for.
    pub rows: Vec<(String, Vec<String>)>,
    /// `[widgetId, generatedAt]` of every held snapshot.
    pub snapshots: Vec<(String, String)>,
    /// The values held in the mark range, as written.
    pub marks: Vec<String>,
}

/// Reads, inside `tx` and after whatever it issued before, the keys of `row_stores` and of
/// `snapshot_store` and the `meta_store` values in `[mark_lower, mark_upper)`.
pub async fn read_held_keys(
    tx: &IdbTransaction,
    row_stores: &[&str],
    snapshot_store: &str,
    meta_store: &str,
    marks: (&str, &str),
) -> Result<HeldKeys, IdbError> {
    let stores = serde_json::to_string(row_stores).map_err(|e| IdbError::Encode(e.to_string()))?;
    let text = settle(read_held_keys_js(
        tx,
        &stores,
        snapshot_store,
        meta_store,
        marks.0,
        marks.1,
    ))
    .await?
    .as_string()
    .ok_or_else(|| IdbError::Decode("readHeldKeys did not return text".into()))?;
    crate::json::from_str(&text).map_err(|e| IdbError::Decode(format!("held keys: {e}")))
}

/// How a page commit's cursor compare-and-set ended (`checkCursor`).
pub enum CursorCheck {
    /// The stored cursor is the expected one; the flags' stored values, in request order.
    Matched(Vec<JsValue>),
    /// It is not: the transaction was aborted before any write issued after the check ran.
    Moved,
    /// The stored cursor is not a string, or a count not a count (the transaction was
    /// aborted).
    Corrupt,
}

/// A count of `meta` a compare-and-set reads (`checkCursor`): the settle epoch, the page
/// serial.
pub struct CountCheck<'a> {
    pub key: &'a str,
    /// Aborts the transaction unless the stored count (absent: 0) is this one.
    pub expected: Option<u64>,
    /// Writes the stored count plus one.
    pub bump: bool,
}

impl CountCheck<'static> {
    /// What a page commit (`bump`: it moves the serial) or an index save checks: the page
    /// serial, when known, and the settle epoch, when known.
    pub fn serial_and_epoch(serial: Option<u64>, bump: bool, epoch: Option<u64>) -> Vec<Self> {
        let serial = CountCheck {
            key: PAGE_SERIAL_KEY,
            expected: serial,
            bump,
        };
        let epoch = epoch.map(|e| CountCheck {
            key: SETTLED_EPOCH_KEY,
            expected: Some(e),
            bump: false,
        });
        std::iter::once(serial).chain(epoch).collect()
    }
}

/// Issues, as the first requests of `tx`, the read of `meta_store[cursor_key]` that aborts
/// `tx` unless it holds `expected`, the reads of `counts` (each aborting `tx` unless its
/// count is the expected one, and bumping it if asked), and the reads of `flag_keys`. The
/// page's writes are then issued at once behind it; await the returned future after issuing
/// them.
pub fn check_cursor(
    tx: &IdbTransaction,
    meta_store: &str,
    cursor_key: &str,
    expected: Option<&str>,
    flag_keys: &[&str],
    counts: &[CountCheck],
) -> impl std::future::Future<Output = Result<CursorCheck, IdbError>> {
    let expected = expected.map_or(JsValue::UNDEFINED, JsValue::from_str);
    let keys: Array = flag_keys.iter().map(|k| JsValue::from_str(k)).collect();
    let counts: Array = counts
        .iter()
        .map(|c| {
            let expected = c.expected.map_or(JsValue::UNDEFINED, |n| (n as f64).into());
            let row = Array::of3(&c.key.into(), &expected, &c.bump.into());
            JsValue::from(row)
        })
        .collect();
    let promise = check_cursor_js(tx, meta_store, cursor_key, &expected, &keys, &counts);
    async move {
        let result = settle(promise).await?;
        let get = |name: &str| Reflect::get(&result, &JsValue::from_str(name)).unwrap_or_default();
        if get("matched").is_truthy() {
            let flags = get("flags")
                .dyn_into::<Array>()
                .map_err(|_| IdbError::Decode("checkCursor returned no flags".into()))?;
            Ok(CursorCheck::Matched(flags.iter().collect()))
        } else if get("corrupt").is_truthy() {
            Ok(CursorCheck::Corrupt)
        } else {
            Ok(CursorCheck::Moved)
        }
    }
}

/// Adds one to the count `meta_store[key]` (absent: 0) within `tx`; done once the write is
/// issued (then `tx` may be committed).
pub async fn bump_count(tx: &IdbTransaction, meta_store: &str, key: &str) -> Result<(), IdbError> {
    settle(bump_count_js(tx, meta_store, key)).await.map(drop)
}

/// `(key, dashboardId, metricKey)` of every record of the Widget store `store`, in key order
/// (`readWidgetRefs`: the rows are not handed to wasm).
pub async fn read_widget_refs(
    tx: &IdbTransaction,
    store: &str,
) -> Result<Vec<(String, Option<String>, Option<String>)>, IdbError> {
    let text = settle(read_widget_refs_js(tx, store))
        .await?
        .as_string()
        .ok_or_else(|| IdbError::Decode("readWidgetRefs did not return text".into()))?;
    crate::json::from_str(&text).map_err(|e| IdbError::Decode(format!("widget references: {e}")))
}
