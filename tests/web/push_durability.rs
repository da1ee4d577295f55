//! Every outbox write is exactly one readwrite transaction opened with
//! `durability: "strict"`, seen from the browser's side: a spy wraps
//! `IDBDatabase.prototype.transaction` for the duration of the test and records the mode,
//! the durability asked for and (where the engine exposes it) the transaction's own
//! `durability`. Pulled pages, for contrast, are relaxed.

use super::idb_fixtures::{discard, open_fresh, row};
use js_sys::{Function, Reflect, JSON};
use serde_json::{json, Value};
use sync_core::engine::build_batch;
use sync_core::engine::{
    enqueue_command, rename_query, resolve_conflict, ApplyPlan, CommandSettlement, Conflict,
    ConflictSource, OpSettlement, OutboxStore, Resolution, Store,
};
use sync_core::protocol::Kind;
use sync_core::web::{WebClock, WebRandom};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// Wraps `IDBDatabase.prototype.transaction`; `take()` returns what was opened since the
/// last call, `restore()` puts the original back.
struct Spy(JsValue);

impl Spy {
    fn install() -> Spy {
        let install = Function::new_no_args(
            r#"
            const proto = IDBDatabase.prototype;
            const original = proto.transaction;
            let log = [];
            proto.transaction = function (names, mode, options) {
              const tx = original.apply(this, arguments);
              log.push({
                stores: typeof names === "string" ? [names] : Array.from(names),
                mode: tx.mode,
                requested: options && options.durability !== undefined
                  ? options.durability : null,
                durability: tx.durability === undefined ? null : tx.durability,
              });
              return tx;
            };
            return {
              take() { const out = log; log = []; return out; },
              restore() { proto.transaction = original; },
            };
            "#,
        );
        Spy(install.call0(&JsValue::UNDEFINED).unwrap())
    }

    fn call(&self, method: &str) -> JsValue {
        let f: Function = Reflect::get(&self.0, &method.into())
            .unwrap()
            .unchecked_into();
        f.call0(&self.0).unwrap()
    }

    /// The transactions opened since the last call, as JSON.
    fn take(&self) -> Vec<Value> {
        let text = JSON::stringify(&self.call("take"))
            .unwrap()
            .as_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Asserts the last write opened exactly one readwrite transaction, strict.
    fn assert_one_strict(&self, what: &str) {
        let opened = self.take();
        let writes: Vec<&Value> = opened.iter().filter(|t| t["mode"] == "readwrite").collect();
        assert_eq!(writes.len(), 1, "{what}: {opened:?}");
        assert_eq!(writes[0]["requested"], "strict", "{what}: {opened:?}");
        // Engines that expose the transaction's durability must report strict too.
        assert!(
            writes[0]["durability"].is_null() || writes[0]["durability"] == "strict",
            "{what}: {opened:?}"
        );
        assert_eq!(opened.len(), 1, "{what} opened nothing else: {opened:?}");
    }
}

impl Drop for Spy {
    fn drop(&mut self) {
        self.call("restore");
    }
}

#[wasm_bindgen_test]
async fn every_outbox_write_is_one_strict_transaction() {
    let (identity, store) = open_fresh().await;
    let spy = Spy::install();
    let plan = ApplyPlan {
        row_puts: vec![row(
            Kind::Query,
            "qry_1",
            1,
            json!({"ownerId": "usr_web", "name_i18n": {"default": "One"}}),
        )],
        ..ApplyPlan::default()
    };
    store.commit_page(&plan, None, "c1").await.unwrap();
    let page = spy.take();
    assert_eq!(page.len(), 1, "{page:?}");
    assert_eq!(
        page[0]["requested"], "relaxed",
        "pulled pages may be relaxed"
    );

    let (c, r) = (&WebClock, &WebRandom);
    let op = rename_query(&store, c, r, "qry_1", &json!({"default": "A"}))
        .await
        .unwrap();
    spy.assert_one_strict("rename (new op)");
    rename_query(&store, c, r, "qry_1", &json!({"default": "B"}))
        .await
        .unwrap();
    spy.assert_one_strict("rename (coalesced)");
    let batch = build_batch(&store.outbox().await.unwrap(), 1).unwrap();
    spy.take();
    store.begin_batch(&batch).await.unwrap();
    spy.assert_one_strict("begin_batch");
    let conflict = Conflict {
        id: "cfl_1".into(),
        kind: Kind::Query,
        entity_id: "qry_1".into(),
        local: json!({"name_i18n": {"default": "B"}}),
        server: json!({"version": 3, "name_i18n": {"default": "S"}}),
        source: ConflictSource::Op {
            op_id: op.op_id.clone(),
        },
        created_at_ms: 1,
        resolution: None,
        resolved_at_ms: None,
    };
    store
        .settle_batch(
            &batch.key,
            &[OpSettlement::Conflict {
                seq: op.seq,
                conflict,
            }],
        )
        .await
        .unwrap();
    spy.assert_one_strict("settle_batch");
    resolve_conflict(&store, c, r, "cfl_1", Resolution::KeepLocal)
        .await
        .unwrap();
    // resolve_conflict reads the conflicts first (readonly), then writes once.
    let opened = spy.take();
    let writes: Vec<&Value> = opened.iter().filter(|t| t["mode"] == "readwrite").collect();
    assert_eq!(writes.len(), 1, "{opened:?}");
    assert_eq!(writes[0]["requested"], "strict");
    let command = enqueue_command(
        &store,
        c,
        r,
        "PUT",
        "/api/v1/analytics/dashboards/dsh_1",
        Some(json!({"name_i18n": {"default": "D"}})),
        Some("2".into()),
    )
    .await
    .unwrap();
    spy.assert_one_strict("enqueue_command");
    store
        .settle_command(command.seq, &CommandSettlement::Done)
        .await
        .unwrap();
    spy.assert_one_strict("settle_command");
    drop(spy);
    discard(&identity, store).await;
}
