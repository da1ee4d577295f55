//! Fixtures of the IndexedDB store suites: a fresh identity (hence a fresh database) per
//! test, realistic rows of every kind, and a full dump of a store to compare before/after.

use js_sys::{Function, Promise};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use sync_core::engine::{ApplyPlan, Store, StoredRow, StoredSnapshot, SyncMeta};
use sync_core::protocol::identity::Identity;
use sync_core::protocol::{Kind, Row};
use sync_core::web::IdbStore;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// An identity no other test uses: its database name is fresh.
pub fn fresh_identity() -> Identity {
    let random = (js_sys::Math::random() * 1e15) as u64;
    let tenant = format!("tnt_web{:x}{random:x}", js_sys::Date::now() as u64);
    Identity::new(&tenant, "usr_web", "dev_web").unwrap()
}

/// A fresh database, opened at the current schema.
pub async fn open_fresh() -> (Identity, IdbStore) {
    let identity = fresh_identity();
    let store = IdbStore::open(&identity).await.unwrap();
    (identity, store)
}

/// Closes `store` and deletes its database.
pub async fn discard(identity: &Identity, store: IdbStore) {
    store.close();
    drop(store);
    IdbStore::delete_database(identity).await.unwrap();
}

fn object(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        other => panic!("fixture is not an object: {other}"),
    }
}

/// A versioned row of `kind` whose key field is `key`, with `fields` merged in.
pub fn row(kind: Kind, key: &str, version: u64, fields: Value) -> StoredRow {
    let mut row = object(fields);
    if let Some(field) = kind.key_field() {
        row.insert(field.to_string(), json!(key));
    }
    StoredRow {
        kind,
        key: key.to_string(),
        version,
        row,
    }
}

pub fn dashboard(id: &str, version: u64) -> StoredRow {
    row(
        Kind::Dashboard,
        id,
        version,
        json!({
            "name_i18n": {"default": "Revenue", "fr": "Revenu"},
            "scope": "tenant",
            "sharedWith": [{"kind": "role", "id": "rol_gm"}],
            "tables": ["occupancy_daily", "adr_daily"],
            "updatedAt": "2024-05-01T08:00:00Z",
        }),
    )
}

pub fn widget(id: &str, dashboard_id: &str, version: u64) -> StoredRow {
    row(
        Kind::Widget,
        id,
        version,
        json!({
            "dashboardId": dashboard_id,
            "type": "kpi",
            "title_i18n": {"default": "Occupancy"},
            "metricKey": "occupancy",
            "params": {"period": "7d", "compare": null},
            "paramsHash": "ph1",
            "freshness": {"targetMinutes": 15, "alertAtMinutes": 60},
            "layout": {"x": 0, "y": 0, "w": 4, "h": 2},
        }),
    )
}

pub fn snapshot(widget_id: &str, generated_at: &str, value: f64) -> StoredSnapshot {
    let row = object(json!({
        "widgetId": widget_id,
        "generatedAt": generated_at,
        "paramsHash": "ph1",
        "rows": [{"date": "2024-05-01", "value": value}],
        "provenance": {"computedAt": generated_at, "bytesScanned": 1024, "slotMs": 12,
                       "warehouseJobId": "job_1", "computedBy": "generator"},
        "freshnessLagSeconds": 30,
    }));
    StoredSnapshot {
        widget_id: widget_id.to_string(),
        generated_at: generated_at.to_string(),
        params_hash: "ph1".to_string(),
        rows_digest: format!("digest-{value}"),
        row,
    }
}

/// A first page touching every kind.
pub fn seed_plan() -> ApplyPlan {
    ApplyPlan {
        row_puts: vec![
            dashboard("dsh_1", 1),
            dashboard("dsh_2", 3),
            widget("wid_1", "dsh_1", 1),
            widget("wid_2", "dsh_1", 2),
            widget("wid_3", "dsh_2", 1),
            row(
                Kind::MetricDefinition,
                "occupancy",
                4,
                json!({"version": 4, "name_i18n": {"default": "Occupancy"}, "unit": "%", "format": "0.0"}),
            ),
            row(
                Kind::Query,
                "qry_1",
                1,
                json!({"ownerId": "usr_web", "name_i18n": {"default": "Weekly"}, "sql_template": "select 1"}),
            ),
            row(
                Kind::Projection,
                "occupancy_daily",
                7,
                json!({"lastSuccessAt": "2024-05-01T07:55:00Z", "lagMinutes": 5}),
            ),
            row(
                Kind::DqAlertOpen,
                "dqc_1",
                1,
                json!({"checkKey": "rooms_sold_nonneg", "severity": "warning", "observedAt": "2024-05-01T06:00:00Z"}),
            ),
        ],
        snapshot_puts: vec![
            snapshot("wid_1", "2024-05-01T07:00:00Z", 0.81),
            snapshot("wid_1", "2024-05-01T07:05:00Z", 0.82),
            snapshot("wid_1", "2024-05-01T07:10:00Z", 0.835),
            snapshot("wid_2", "2024-05-01T07:00:00Z", 120.5),
        ],
        ..ApplyPlan::default()
    }
}

/// Everything a store holds, for before/after comparisons.
#[derive(Debug, PartialEq)]
pub struct Dump {
    pub meta: SyncMeta,
    pub rows: BTreeMap<Kind, Vec<StoredRow>>,
    pub snapshots: BTreeMap<String, Vec<StoredSnapshot>>,
}

/// Reads every versioned row and the snapshots of `widgets` through the public read API.
pub async fn dump(store: &IdbStore, widgets: &[&str]) -> Dump {
    let mut rows = BTreeMap::new();
    for kind in Kind::ALL.into_iter().filter(|k| k.is_versioned()) {
        rows.insert(kind, store.rows(kind).await.unwrap());
    }
    let mut snapshots = BTreeMap::new();
    for widget in widgets {
        snapshots.insert(
            widget.to_string(),
            store.snapshots_of(widget).await.unwrap(),
        );
    }
    Dump {
        meta: store.meta().await.unwrap(),
        rows,
        snapshots,
    }
}

/// Waits for `promise` at most `ms` milliseconds; `Err("timeout")` after that. Keeps a test
/// that would block (e.g. on a connection that never closes) from hanging the whole run.
pub async fn within(ms: i32, promise: Promise) -> Result<JsValue, JsValue> {
    let timeout = Promise::new(&mut |_resolve: Function, reject: Function| {
        let set_timeout: Function = js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into())
            .unwrap()
            .into();
        set_timeout
            .call3(
                &js_sys::global(),
                &reject,
                &JsValue::from(ms),
                &JsValue::from_str("timeout"),
            )
            .unwrap();
    });
    JsFuture::from(Promise::race(&js_sys::Array::of2(&promise, &timeout))).await
}
