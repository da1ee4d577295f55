//! Stored records read back (issue 12's fuzzing): whatever a record in the database holds —
//! written by an older or newer version, another library, a browser extension, a bug — every
//! read of the IndexedDB store answers a value or a typed `StoreError`, never a panic (a
//! panic in wasm would fail this test with `unreachable`). Records are random JSON trees
//! with just the key fields their object store needs to accept them, in every store.

use super::idb_fixtures::{discard, open_fresh, seed_plan, within};
use super::idb_held_index::sorted;
use super::support::Xorshift as Rng;
use serde_json::{json, Map, Value};
use std::rc::Rc;
use sync_core::engine::{
    ApplyPlan, MemoryStore, OutboxStore, ReplacementStep, StateRequest, Store, StoreError,
};
use sync_core::protocol::{Kind, Row};
use sync_core::web::idb::schema::{
    store_name, CONFLICTS_STORE, DEAD_LETTERS_STORE, META_STORE, OUTBOX_META_STORE, OUTBOX_STORE,
};
use sync_core::web::{Durability, IdbStore};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;
use wasm_bindgen_test::wasm_bindgen_test;

impl Rng {
    fn value(&mut self, depth: u32) -> Value {
        let names = [
            "key",
            "version",
            "row",
            "id",
            "opId",
            "seq",
            "name_i18n",
            "default",
            "rows",
            "widgetId",
            "generatedAt",
            "paramsHash",
            "rowsDigest",
            "inFlight",
            "sent",
            "order",
            "kind",
            "entityId",
            "method",
            "path",
            "body",
            "payload",
            "status",
            "x",
        ];
        match self.below(if depth == 0 { 6 } else { 9 }) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => json!(self.next() as i64 >> self.below(60)),
            3 => json!((self.next() as f64) / 3.0),
            4 => json!(
                [
                    "Query",
                    "Widget",
                    "PUT",
                    "op_1",
                    "",
                    "qry_1",
                    "2026-01-01T00:00:00Z"
                ][self.below(7) as usize]
            ),
            5 => json!(u64::MAX >> self.below(64)),
            6 | 7 => {
                let mut m = Map::new();
                for _ in 0..self.below(5) {
                    let k = names[self.below(names.len() as u64) as usize];
                    m.insert(k.into(), self.value(depth - 1));
                }
                Value::Object(m)
            }
            _ => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
        }
    }
}

fn js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

/// Puts `record` (with the key fields `store` needs, and under the key they make for the
/// replicated stores, whose keys are out of line since schema 7) into `store`, or under `key`
/// for a store with out-of-line keys. A record the browser refuses (say, a bad key) is simply
/// skipped.
async fn plant(idb: &IdbStore, store: &str, mut record: Value, key: Option<&str>) {
    let mut key = key.map(|k| json!(k));
    if let (Some(o), None) = (record.as_object_mut(), &key) {
        match store {
            s if s == OUTBOX_STORE || s == "commands" => {
                o.insert("seq".into(), json!(1));
            }
            s if s == CONFLICTS_STORE || s == DEAD_LETTERS_STORE => {
                o.insert("id".into(), json!("x_1"));
            }
            "WidgetSnapshot" => {
                o.insert("widgetId".into(), json!("wid_1"));
                o.insert("generatedAt".into(), json!("2026-01-01T00:00:00Z"));
                key = Some(json!(["wid_1", "2026-01-01T00:00:00Z"]));
            }
            _ => {
                o.insert("key".into(), json!("qry_1"));
                key = Some(json!("qry_1"));
            }
        }
    }
    let Ok(mut tx) = idb.begin_write(&[store], Durability::Default) else {
        return;
    };
    let key = key.map(|k| js(&k));
    if tx.put(store, &js(&record), key.as_ref()).is_ok() {
        let _ = tx.commit().await;
    }
}

/// Every read of both store traits; each must answer, `Ok` or a typed error.
async fn read_everything(idb: &IdbStore) {
    let _ = idb.meta().await;
    for kind in Kind::ALL {
        let _ = idb.rows(kind).await;
        let _ = idb.row(kind, "qry_1").await;
    }
    let _ = idb.widgets_of("dsh_1").await;
    let _ = idb.snapshots_of("wid_1").await;
    let _ = idb.latest_snapshot("wid_1").await;
    let _ = idb.latest_snapshots(&["wid_1".into()]).await;
    let _ = idb
        .local_state(&StateRequest {
            keys: vec![(Kind::Query, "qry_1".into())],
            widgets: vec!["wid_1".into()],
        })
        .await;
    let _ = idb.scan_held().await;
    let _ = idb.outbox().await;
    let _ = idb.in_flight_batch().await;
    let _ = idb.commands().await;
    let _ = idb.all_conflicts().await;
    let _ = idb.dead_letters().await;
}

#[wasm_bindgen_test]
async fn garbage_in_any_store_reads_back_as_a_value_or_a_typed_error() {
    let (identity, idb) = open_fresh().await;
    let stores = [
        "Dashboard",
        "Widget",
        "Query",
        "WidgetSnapshot",
        OUTBOX_STORE,
        "commands",
        CONFLICTS_STORE,
        DEAD_LETTERS_STORE,
    ];
    let meta_keys = [
        (META_STORE, "cursor"),
        (META_STORE, "accessRevoked"),
        (META_STORE, "replacing"),
        (META_STORE, "sent:x"),
        (OUTBOX_META_STORE, "lastSeq"),
        (OUTBOX_META_STORE, "inFlightBatch"),
    ];
    for seed in 1..=60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let store = stores[rng.below(stores.len() as u64) as usize];
        let record = match rng.value(3) {
            Value::Object(m) => Value::Object(m),
            _ => Value::Object(Map::new()),
        };
        plant(&idb, store, record, None).await;
        let (meta_store, key) = meta_keys[rng.below(meta_keys.len() as u64) as usize];
        plant(&idb, meta_store, rng.value(2), Some(key)).await;
        read_everything(&idb).await;
        // A pull's commit over garbage must also answer, not trap.
        let _ = idb
            .commit_page(&ApplyPlan::<Row>::default(), None, &format!("c{seed}"))
            .await;
    }
    discard(&identity, idb).await;
}

/// Every read of the pull path, each key of every versioned kind included, the index scan and
/// a page commit: what a record of `kind` can reach.
async fn read_pull_path(idb: &IdbStore) {
    read_everything(idb).await;
    let keys = Kind::ALL
        .into_iter()
        .filter(|k| k.is_versioned())
        .map(|k| (k, "qry_1".to_string()))
        .collect();
    let request = StateRequest {
        keys,
        widgets: vec!["wid_1".into()],
    };
    let _ = idb.local_state(&request).await;
    let _ = idb.widget_refs().await;
    let _ = idb.existing_keys(Kind::Widget, &["qry_1".into()]).await;
    let _ = idb.held_index().await;
    let _ = idb.scan_held().await;
    let _ = idb
        .commit_page(&ApplyPlan::<Row>::default(), None, "c1")
        .await;
}

/// Values JSON cannot hold but IndexedDB stores: a BigInt, and records whose key and version
/// are BigInts (`JSON.stringify` throws on them).
fn bigint_values() -> Vec<JsValue> {
    let bigint = JsValue::from(js_sys::BigInt::from(5));
    let record = js_sys::Object::new();
    for field in ["key", "version", "widgetId", "generatedAt"] {
        js_sys::Reflect::set(&record, &field.into(), &bigint).unwrap();
    }
    vec![bigint, record.into()]
}

/// A record that is not an object at all (`null`, a number, a string, an array, a BigInt:
/// another library's, an extension's), or one holding what JSON cannot, under a key of a
/// replicated store. Every read still answers, `Ok` or a typed error, within the time limit: a
/// reader in JS that throws inside its request's success handler (a field of `null`,
/// `JSON.stringify` of a BigInt) aborts the transaction without settling the promise the read
/// awaits — the read, and the pull behind it, would wait forever.
#[wasm_bindgen_test]
async fn a_record_that_is_not_an_object_is_refused_not_waited_on() {
    let values: Vec<JsValue> = [json!(null), json!(5), json!("text"), json!([1, 2])]
        .iter()
        .map(js)
        .chain(bigint_values())
        .collect();
    for value in values {
        for kind in Kind::ALL {
            let (identity, idb) = open_fresh().await;
            let store = store_name(kind);
            let key = match kind {
                Kind::WidgetSnapshot => json!(["wid_1", "2026-01-01T00:00:00Z"]),
                _ => json!("qry_1"),
            };
            let mut tx = idb.begin_write(&[store], Durability::Default).unwrap();
            tx.put(store, &value, Some(&js(&key))).unwrap();
            tx.commit().await.unwrap();

            let idb = Rc::new(idb);
            let reads = {
                let idb = Rc::clone(&idb);
                future_to_promise(async move {
                    read_pull_path(&idb).await;
                    Ok(JsValue::UNDEFINED)
                })
            };
            let answered = within(10_000, reads).await;
            assert!(answered.is_ok(), "{store} holding {value:?}: {answered:?}");
            let idb = Rc::try_unwrap(idb).ok().unwrap();
            discard(&identity, idb).await;
        }
    }
}

/// The same for the bookkeeping a replacement's sweep reads (`meta`'s marks of the keys each
/// page sent): a mark another writer stored as a BigInt. The draining page's commit answers
/// within the time limit, whatever it answers.
#[wasm_bindgen_test]
async fn a_replacement_mark_json_cannot_hold_is_refused_not_waited_on() {
    let (identity, idb) = open_fresh().await;
    let mut tx = idb.begin_write(&[META_STORE], Durability::Default).unwrap();
    tx.put(META_STORE, &"c0".into(), Some(&"cursor".into()))
        .unwrap();
    tx.put(META_STORE, &JsValue::TRUE, Some(&"replacing".into()))
        .unwrap();
    let mark = JsValue::from(js_sys::BigInt::from(5));
    tx.put(META_STORE, &mark, Some(&"sent:c0".into())).unwrap();
    tx.commit().await.unwrap();

    let idb = Rc::new(idb);
    let commit = {
        let idb = Rc::clone(&idb);
        future_to_promise(async move {
            let plan = ApplyPlan::<Row> {
                replacement: ReplacementStep {
                    drains: true,
                    ..ReplacementStep::default()
                },
                ..ApplyPlan::default()
            };
            let committed = idb.commit_page(&plan, Some("c0"), "c1").await;
            Ok(JsValue::from_str(&format!("{committed:?}")))
        })
    };
    let answered = within(10_000, commit).await;
    let committed = answered.map(|v| v.as_string().unwrap_or_default());
    // Refused as corrupt (a retry reads the same mark), and nothing of the page written.
    assert!(
        committed
            .as_deref()
            .is_ok_and(|c| c.starts_with("Err(Corrupt(")),
        "the draining commit: {committed:?}"
    );
    let idb = Rc::try_unwrap(idb).ok().unwrap();
    assert_eq!(idb.meta().await.unwrap().cursor.as_deref(), Some("c0"));
    discard(&identity, idb).await;
}

/// A value JSON cannot hold where a record belongs is corrupt data, not a failed transaction: a
/// retry would read it again, so the read says so (`Corrupt`, not retryable) instead of
/// `Aborted`, which the pull would retry until its attempts ran out, on every call.
#[wasm_bindgen_test]
async fn a_value_json_cannot_hold_is_reported_corrupt() {
    let (identity, idb) = open_fresh().await;
    let snapshots = store_name(Kind::WidgetSnapshot);
    let mut tx = idb.begin_write(&[snapshots], Durability::Default).unwrap();
    let key = js(&json!(["wid_1", "2026-01-01T00:00:00Z"]));
    let bigint = JsValue::from(js_sys::BigInt::from(5));
    tx.put(snapshots, &bigint, Some(&key)).unwrap();
    tx.commit().await.unwrap();
    let latest = idb.latest_snapshot("wid_1").await;
    assert!(matches!(latest, Err(StoreError::Corrupt(_))), "{latest:?}");
    discard(&identity, idb).await;
}

/// One snapshot record another writer stored (not the shape sync-core writes) does not stop
/// the planner or the held index for good: their metadata reads skip it, as they skipped it
/// before schema 8 (it had no `snapshot_meta` twin), and see the widget's other snapshots.
#[wasm_bindgen_test]
async fn a_foreign_snapshot_record_is_skipped_by_the_metadata_reads() {
    let (identity, idb) = open_fresh().await;
    idb.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let snapshots = store_name(Kind::WidgetSnapshot);
    let mut tx = idb.begin_write(&[snapshots], Durability::Default).unwrap();
    let key = js(&json!(["wid_1", "2000-01-01T00:00:00Z"]));
    tx.put(snapshots, &JsValue::NULL, Some(&key)).unwrap();
    let key = js(&json!(["wid_1", "2000-01-02T00:00:00Z"]));
    tx.put(
        snapshots,
        &js(&json!({"widgetId": "wid_1", "generatedAt": 5})),
        Some(&key),
    )
    .unwrap();
    tx.commit().await.unwrap();

    let memory = MemoryStore::new();
    memory.commit_page(&seed_plan(), None, "c1").await.unwrap();
    let request = StateRequest {
        keys: Vec::new(),
        widgets: vec!["wid_1".into(), "wid_2".into()],
    };
    assert_eq!(
        idb.local_state(&request).await.unwrap(),
        memory.local_state(&request).await.unwrap()
    );
    let scanned = idb.scan_held().await.unwrap().unwrap().parts;
    let expected = memory.scan_held().await.unwrap().unwrap().parts;
    assert_eq!(sorted(scanned), sorted(expected));
    discard(&identity, idb).await;
}
