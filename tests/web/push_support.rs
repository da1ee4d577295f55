//! The push path as the browser runs it, for the `push_*` suites: a tenant of the test's own
//! on the real reference server ([`PullEnv`]), the real `IdbStore` on a fresh database,
//! `FetchTransport`, `WebClock`/`WebRandom`, and the engine's push entry points. What the
//! server did is read back through its admin API (`/admin/rows`, `/admin/push-log`), never
//! inferred from the client's own report.

use super::pull_support::PullEnv;
use super::server_admin::{admin_get, admin_post, TestTenant};
use serde_json::{json, Value};
use std::cell::RefCell;
use sync_core::engine::{
    pending, push, queries_with_pending, rename_query, Backoff, HttpRequest, HttpResponse, Jitter,
    OutboxOp, Pending, PushConfig, PushError, PushReport, RetryPolicy, Store, Transport,
    TransportError,
};
use sync_core::protocol::Kind;
use sync_core::web::{FetchTransport, IdbStore, WebClock, WebRandom};

/// A base URL nothing answers on: port 1 is never served here and browsers refuse it
/// outright, so every request fails as a network error, like a device without a network.
pub const UNREACHABLE_URL: &str = "http://127.0.0.1:1";

/// `{"default": s}`.
pub fn name(s: &str) -> Value {
    json!({ "default": s })
}

/// Push settings with a short backoff so failure tests stay quick.
pub fn push_config(max_attempts: u32) -> PushConfig {
    PushConfig {
        retry: RetryPolicy {
            max_attempts,
            backoff: Backoff {
                base_ms: 20,
                cap_ms: 100,
                jitter: Jitter::Full,
            },
            ..RetryPolicy::default()
        },
        ..PushConfig::default()
    }
}

/// A transport for `tenant` that can never reach a server.
pub fn unreachable(tenant: &TestTenant) -> FetchTransport {
    FetchTransport::new(UNREACHABLE_URL, tenant.identity.clone()).with_timeout_ms(5_000)
}

/// A new env with a pulled tenant of `queries` saved queries (and a few rows of every
/// other kind).
pub async fn pulled_env(prefix: &str, queries: usize) -> PullEnv {
    let size = super::server_admin::TenantSize {
        queries,
        ..super::server_admin::TenantSize::SMALL
    };
    let env = PullEnv::new(prefix, size).await;
    env.pull_drained().await;
    env
}

/// Ids of the held queries, in key order.
pub async fn query_ids(store: &IdbStore) -> Vec<String> {
    store
        .rows(Kind::Query)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect()
}

/// `engine::rename_query` on the real store and clock.
pub async fn rename(store: &IdbStore, id: &str, default_name: &str) -> OutboxOp {
    rename_query(store, &WebClock, &WebRandom, id, &name(default_name))
        .await
        .unwrap_or_else(|e| panic!("rename {id}: {e}"))
}

/// `engine::push` over `transport` with `config`.
pub async fn push_with<T: Transport>(
    store: &IdbStore,
    transport: &T,
    config: &PushConfig,
) -> Result<PushReport, PushError> {
    push(store, transport, &WebClock, &WebRandom, config, &mut |_| {}).await
}

/// A push through the env's own transport that must succeed.
pub async fn push_ok(env: &PullEnv) -> PushReport {
    push_with(&env.store, &env.transport, &push_config(3))
        .await
        .unwrap_or_else(|e| panic!("push failed: {e} ({})", e.code()))
}

/// `(name, pendingName)` of a query as `queries()` shows it.
pub async fn shown(store: &IdbStore, id: &str) -> Option<(String, bool)> {
    queries_with_pending(store)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.key == id)
        .map(|r| {
            (
                r.row["name_i18n"]["default"].as_str().unwrap().to_string(),
                r.row.get("pendingName") == Some(&Value::Bool(true)),
            )
        })
}

/// Queued ops only (no commands).
pub async fn pending_ops(store: &IdbStore) -> Vec<OutboxOp> {
    pending(store)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|p| match p {
            Pending::Op(op) => Some(op),
            Pending::Command(_) => None,
        })
        .collect()
}

/// `(version, name_i18n.default)` of a query as the server holds it.
pub async fn server_query(tenant: &TestTenant, id: &str) -> (u64, String) {
    let row = tenant.server_row(Kind::Query, id).await;
    (
        row["version"].as_u64().unwrap(),
        row["row"]["name_i18n"]["default"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// Renames a query on the server (another device, an admin); returns `{version, position}`.
pub async fn server_rename(tenant: &TestTenant, id: &str, default_name: &str) -> Value {
    admin_post(
        "/admin/queries/rename",
        json!({"tenantId": tenant.tenant_id(), "queryId": id, "name_i18n": name(default_name)}),
    )
    .await
}

/// `GET /admin/push-log` of the tenant: `{ops: [{opId, applied, versions, duplicates}],
/// answers: [{scope, key, status, replays}]}`.
pub async fn push_log(tenant: &TestTenant) -> Value {
    admin_get(&format!("/admin/push-log?tenantId={}", tenant.tenant_id())).await
}

/// How many times the server applied `op_id` (0 when never).
pub fn applied(log: &Value, op_id: &str) -> u64 {
    log["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["opId"] == op_id)
        .map_or(0, |o| o["applied"].as_u64().unwrap())
}

/// Stored answers of one scope (`"push"` or `"command"`).
pub fn answers<'a>(log: &'a Value, scope: &str) -> Vec<&'a Value> {
    log["answers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["scope"] == scope)
        .collect()
}

/// Queues `count` copies of `fault` on the tenant's next requests of `target` (`"push"`,
/// `"command"`).
pub async fn inject(tenant: &TestTenant, target: &str, fault: Value, count: usize) {
    admin_post(
        "/admin/faults",
        json!({"tenantId": tenant.tenant_id(), "target": target, "count": count,
               "fault": fault}),
    )
    .await;
}

/// Forwards to the real transport and keeps every request it sent with its status (or
/// `None` for a transport failure).
pub struct RecordingTransport<'a> {
    pub inner: &'a FetchTransport,
    pub sent: RefCell<Vec<(HttpRequest, Option<u16>)>>,
}

impl<'a> RecordingTransport<'a> {
    pub fn new(inner: &'a FetchTransport) -> Self {
        RecordingTransport {
            inner,
            sent: RefCell::new(Vec::new()),
        }
    }

    /// Op ids of every push request, per request.
    pub fn push_bodies(&self) -> Vec<Vec<String>> {
        self.sent
            .borrow()
            .iter()
            .filter(|(r, _)| r.path_and_query == "/internal/sync/push")
            .map(|(r, _)| {
                let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
                body["ops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["opId"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    /// `Idempotency-Key` of every request sent to `path`.
    pub fn keys(&self, path_prefix: &str) -> Vec<String> {
        self.sent
            .borrow()
            .iter()
            .filter(|(r, _)| r.path_and_query.starts_with(path_prefix))
            .filter_map(|(r, _)| {
                r.headers
                    .iter()
                    .find(|(n, _)| n == "Idempotency-Key")
                    .map(|(_, v)| v.clone())
            })
            .collect()
    }
}

impl Transport for RecordingTransport<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let answer = self.inner.send(request.clone()).await;
        let status = answer.as_ref().ok().map(|r| r.status);
        self.sent.borrow_mut().push((request, status));
        answer
    }
}
