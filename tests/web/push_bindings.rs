//! The push side of the `SyncCore` wasm binding, called the way JS calls it (promises,
//! plain objects, `SyncError`s), against the real server: an offline rename survives a
//! reopen and shows in `queries()`; `sync()` reports a retryable push failure without
//! skipping the pull; refusals carry stable codes; commands queue and replay; a closed core
//! keeps no pull state.

use super::push_support::UNREACHABLE_URL;
use super::server_admin::{TenantSize, TestTenant};
use super::support::server_url;
use js_sys::{Function, Promise, Reflect, JSON};
use serde_json::{json, Value};
use sync_core::bindings::SyncCore;
use sync_core::protocol::Kind;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn js(value: Value) -> JsValue {
    JSON::parse(&value.to_string()).unwrap()
}

fn to_json(value: &JsValue) -> Value {
    if value.is_undefined() {
        return Value::Null;
    }
    serde_json::from_str(&JSON::stringify(value).unwrap().as_string().unwrap()).unwrap()
}

async fn ok(promise: Promise) -> Value {
    match JsFuture::from(promise).await {
        Ok(v) => to_json(&v),
        Err(e) => panic!("rejected: {:?}", error_of(&e)),
    }
}

/// `(name, code, retryable)` of a rejection.
fn error_of(e: &JsValue) -> (String, String, bool) {
    let get = |k: &str| Reflect::get(e, &k.into()).unwrap();
    (
        get("name").as_string().unwrap_or_default(),
        get("code").as_string().unwrap_or_default(),
        get("retryable").as_bool().unwrap_or_default(),
    )
}

async fn rejected(promise: Promise) -> (JsValue, (String, String, bool)) {
    let e = JsFuture::from(promise)
        .await
        .expect_err("expected a rejection");
    let summary = error_of(&e);
    (e, summary)
}

fn token_callback(token: &str) -> Function {
    Function::new_with_args("t", "return () => Promise.resolve(t);")
        .call1(&JsValue::UNDEFINED, &JsValue::from_str(token))
        .unwrap()
        .unchecked_into()
}

async fn open(tenant: &TestTenant, base_url: &str) -> SyncCore {
    let options = js(json!({
        "baseUrl": base_url,
        "tenantId": tenant.tenant_id(),
        "userId": tenant.user_id(),
        "deviceId": tenant.identity.device_id,
        "maxAttempts": 1,
        "timeoutMs": 5000,
    }));
    Reflect::set(&options, &"getToken".into(), &token_callback(&tenant.token)).unwrap();
    SyncCore::open(options).await.unwrap()
}

fn query<'a>(queries: &'a Value, id: &str) -> &'a Value {
    queries
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == id)
        .unwrap()
}

#[wasm_bindgen_test]
async fn sync_core_push_surface_against_the_real_server() {
    let tenant = TestTenant::create("bind", TenantSize::SMALL).await;
    let online = open(&tenant, server_url()).await;
    ok(online.pull(JsValue::UNDEFINED, None)).await;
    let queries = ok(online.queries()).await;
    let id = queries[0]["id"].as_str().unwrap().to_string();
    let version = tenant.server_row(Kind::Query, &id).await["version"]
        .as_u64()
        .unwrap();

    // Offline: the rename is durable, survives a reopen, shows at once.
    let offline = open(&tenant, UNREACHABLE_URL).await;
    let op = ok(offline.rename_query(id.clone(), js(json!({"default": "Bound offline"})))).await;
    assert_eq!(op["expectedVersion"], version);
    offline.close();
    let offline = open(&tenant, UNREACHABLE_URL).await;
    let shown = ok(offline.queries()).await;
    assert_eq!(query(&shown, &id)["name_i18n"]["default"], "Bound offline");
    assert_eq!(query(&shown, &id)["pendingName"], true);
    let pending = ok(offline.pending()).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["type"], "op");
    assert_eq!(pending[0]["opId"], op["opId"]);
    // sync() while offline: the push fails retryably, the pull still runs (and fails too).
    let (error, summary) = rejected(offline.sync()).await;
    assert_eq!(summary, ("SyncError".into(), "offline".into(), true));
    let push_error = to_json(&Reflect::get(&error, &"pushError".into()).unwrap());
    assert_eq!(push_error["code"], "offline");
    // The batch was fixed before sending: the op now waits in flight.
    let pending = ok(offline.pending()).await;
    assert_eq!(pending[0]["inFlight"], true);

    // Refusals carry stable codes and write nothing.
    let dashboard = ok(offline.dashboards()).await[0]["id"].clone();
    let (_, summary) = rejected(offline.edit(
        "Dashboard".into(),
        dashboard.as_str().unwrap().into(),
        js(json!({"name_i18n": {"default": "No"}})),
    ))
    .await;
    assert_eq!(summary, ("SyncError".into(), "not_editable".into(), false));
    let (_, summary) = rejected(offline.edit(
        "Query".into(),
        id.clone(),
        js(json!({"sql_template": "drop table x"})),
    ))
    .await;
    assert_eq!(summary.1, "not_editable");
    let (_, summary) =
        rejected(offline.rename_query(id.clone(), js(json!({"default": "  "})))).await;
    assert_eq!(summary.1, "invalid_name");
    // A name JSON cannot hold is a bad request; one JSON gives no text for (a function) is null.
    let big = js_sys::eval("({default: 5n})").unwrap();
    let (_, summary) = rejected(offline.rename_query(id.clone(), big)).await;
    assert_eq!(summary, ("SyncError".into(), "bad_request".into(), false));
    let function = js_sys::eval("(() => 1)").unwrap();
    let (_, summary) = rejected(offline.rename_query(id.clone(), function)).await;
    assert_eq!(summary.1, "invalid_name");
    let (_, summary) = rejected(offline.resolve_conflict("cfl_x".into(), "mine".into())).await;
    assert_eq!(summary, ("SyncError".into(), "bad_request".into(), false));
    let (_, summary) = rejected(offline.resolve_conflict("cfl_x".into(), "keepLocal".into())).await;
    assert_eq!(summary.1, "not_found");
    let (_, summary) = rejected(offline.enqueue_command(js(
        json!({"method": "DELETE", "path": "/api/v1/analytics/dashboards/x"}),
    )))
    .await;
    assert_eq!(summary.1, "bad_command");
    assert_eq!(ok(offline.pending()).await, pending);
    offline.close();

    // Back online: sync pushes, then pulls.
    let report = ok(online.sync()).await;
    assert_eq!(report["push"]["opsApplied"], 1, "{report}");
    assert_eq!(report["pushError"], Value::Null);
    assert_eq!(report["pull"]["drained"], true);
    let shown = ok(online.queries()).await;
    assert_eq!(query(&shown, &id)["name_i18n"]["default"], "Bound offline");
    assert_eq!(query(&shown, &id).get("pendingName"), None);
    assert_eq!(ok(online.pending()).await, json!([]));
    assert_eq!(ok(online.conflicts()).await, json!([]));
    assert_eq!(ok(online.dead_letters()).await, json!([]));
    assert_eq!(
        tenant.server_row(Kind::Query, &id).await["version"],
        version + 1
    );

    // A deferred command, replayed by push().
    let dashboards = ok(online.dashboards()).await;
    let dashboard_id = dashboards[0]["id"].as_str().unwrap();
    let current = tenant.server_row(Kind::Dashboard, dashboard_id).await["version"]
        .as_u64()
        .unwrap();
    let command = ok(online.enqueue_command(js(json!({
        "method": "PUT",
        "path": format!("/api/v1/analytics/dashboards/{dashboard_id}"),
        "body": {"name_i18n": {"default": "Bound title"}},
        "ifMatch": current,
    }))))
    .await;
    assert_eq!(command["ifMatch"], current.to_string());
    assert_eq!(ok(online.outbox_counts()).await["pending"], 1);
    let report = ok(online.push(None)).await;
    assert_eq!(report["commandsDone"], 1, "{report}");
    let server = tenant.server_row(Kind::Dashboard, dashboard_id).await;
    assert_eq!(server["row"]["name_i18n"]["default"], "Bound title");
    online.close();
    SyncCore::delete_database(
        tenant.tenant_id().into(),
        tenant.user_id().into(),
        tenant.identity.device_id.clone(),
    )
    .await
    .unwrap();
}

/// A client keeps its pull's state for the next pull while it is open, and frees it when it
/// closes — also when a pull still running at `close()` ends after it: the wasm object lives on
/// until the garbage collector gets to it, with every held key of a warm store.
#[wasm_bindgen_test]
async fn a_closed_core_keeps_no_pull_state() {
    let tenant = TestTenant::create("keep", TenantSize::SMALL).await;
    let core = open(&tenant, server_url()).await;
    ok(core.pull(JsValue::UNDEFINED, None)).await;
    assert!(core.keeps_pull_state(), "an open client keeps it");
    core.close();
    assert!(!core.keeps_pull_state(), "close frees it");

    let core = open(&tenant, server_url()).await;
    let running = core.pull(JsValue::UNDEFINED, None);
    core.close();
    let _ = JsFuture::from(running).await;
    assert!(
        !core.keeps_pull_state(),
        "a pull that ended after close kept nothing"
    );
}
