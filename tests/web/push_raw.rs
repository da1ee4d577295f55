//! Direct access to the outbox stores of a database over a second connection, so the push
//! suites check what was really written (not what `IdbStore`'s own reads say) and can
//! plant a record the way another writer would have left it.

use super::support::{idb_factory, request_done, transaction_done};
use js_sys::{Array, Reflect, JSON};
use serde_json::Value;
use std::collections::BTreeMap;
use sync_core::web::idb::schema::{
    COMMANDS_STORE, CONFLICTS_STORE, DEAD_LETTERS_STORE, OUTBOX_META_STORE, OUTBOX_STORE,
};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbTransactionMode};

/// Every outbox-side store.
pub const OUTBOX_STORES: [&str; 5] = [
    OUTBOX_STORE,
    COMMANDS_STORE,
    CONFLICTS_STORE,
    DEAD_LETTERS_STORE,
    OUTBOX_META_STORE,
];

fn to_json(value: &JsValue) -> Value {
    let text = JSON::stringify(value).unwrap().as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

pub async fn open(name: &str) -> IdbDatabase {
    let open = idb_factory().unwrap().open(name).unwrap();
    request_done(&open).await.unwrap().unchecked_into()
}

/// Whether the database `name` has the object store `store`.
pub async fn has_store(name: &str, store: &str) -> bool {
    let db = open(name).await;
    let held = db.object_store_names().contains(store);
    db.close();
    held
}

/// Every record of every outbox store, as `[key, value]` pairs in key order.
pub async fn raw_outbox(name: &str) -> BTreeMap<&'static str, Vec<(Value, Value)>> {
    let db = open(name).await;
    let mut out = BTreeMap::new();
    for store_name in OUTBOX_STORES {
        let tx = db.transaction_with_str(store_name).unwrap();
        let store = tx.object_store(store_name).unwrap();
        let keys: Array = request_done(&store.get_all_keys().unwrap())
            .await
            .unwrap()
            .unchecked_into();
        let values: Array = request_done(&store.get_all().unwrap())
            .await
            .unwrap()
            .unchecked_into();
        let records = keys
            .iter()
            .zip(values.iter())
            .map(|(k, v)| (to_json(&k), to_json(&v)))
            .collect();
        out.insert(store_name, records);
    }
    db.close();
    out
}

/// Replaces field `field` of the op record `seq` with `value`, in its own transaction.
pub async fn raw_set_op_field(name: &str, seq: u64, field: &str, value: &Value) {
    let db = open(name).await;
    let tx = db
        .transaction_with_str_and_mode(OUTBOX_STORE, IdbTransactionMode::Readwrite)
        .unwrap();
    let store = tx.object_store(OUTBOX_STORE).unwrap();
    let key = JsValue::from_f64(seq as f64);
    let record = request_done(&store.get(&key).unwrap()).await.unwrap();
    assert!(!record.is_undefined(), "op {seq} is not stored");
    let js_value = JSON::parse(&value.to_string()).unwrap();
    Reflect::set(&record, &JsValue::from_str(field), &js_value).unwrap();
    store.put(&record).unwrap();
    transaction_done(&tx).await.unwrap();
    db.close();
}
