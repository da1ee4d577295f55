//! Builders shared by the native push tests: a store holding saved queries, the fake push
//! server behind the scripted transport, and one-line wrappers around the engine's push
//! entry points. The crash helper drops a push mid-request, which is what a page that died
//! looks like to the engine.
#![allow(dead_code)]

use futures::FutureExt;
use serde_json::{json, Value};
use std::cell::Cell;
use sync_core::engine::{
    dead_letters, enqueue_command, open_conflicts, pending, pull, push, queries_with_pending,
    rename_query, resolve_conflict, Conflict, DeadLetter, DeferredCommand, EditError, HttpRequest,
    HttpResponse, ManualClock, MemoryContents, MemoryStore, OutboxContents, OutboxOp, Pending,
    PullConfig, PullError, PullReport, PushConfig, PushError, PushProgress, PushReport, PushServer,
    Resolution, Resolved, ScriptedTransport, SeededRandom, ServerLog, StoredRow, Transport,
    TransportError,
};
use sync_core::protocol::Kind;

pub const USER: &str = "usr_alice";
/// 2026-01-01T00:00:00Z.
pub const T0: u64 = 1_767_225_600_000;

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

pub fn name(default: &str) -> Value {
    json!({ "default": default })
}

pub fn query_id(i: usize) -> String {
    format!("qry_{i:03}")
}

/// A Query row as pull would have stored it.
pub fn query_row(id: &str, version: u64, default_name: &str) -> StoredRow {
    StoredRow {
        kind: Kind::Query,
        key: id.to_string(),
        version,
        row: json!({"id": id, "ownerId": USER, "name_i18n": {"default": default_name}})
            .as_object()
            .cloned()
            .unwrap(),
    }
}

/// A store holding `n` queries `qry_000…` at version 1, named `Q<i>`.
pub fn store_with_queries(n: usize) -> MemoryStore {
    let mut contents = MemoryContents::default();
    for i in 0..n {
        let row = query_row(&query_id(i), 1, &format!("Q{i}"));
        contents.rows.insert((Kind::Query, row.key.clone()), row);
    }
    MemoryStore::with_contents(contents)
}

/// A transport that forwards to `inner` and then never completes while `crash` is set:
/// the request reached the server (which may have applied it) but the page died before
/// the response arrived.
pub struct CrashingTransport<'a, T> {
    pub inner: &'a T,
    pub crash: Cell<bool>,
}

impl<T: Transport> Transport for CrashingTransport<'_, T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let answer = self.inner.send(request).await;
        if self.crash.get() {
            futures::future::pending::<()>().await;
        }
        answer
    }
}

/// Everything the push entry points need, with fakes for the platform.
pub struct PushHarness {
    pub store: MemoryStore,
    pub transport: ScriptedTransport,
    pub clock: ManualClock,
    pub random: SeededRandom,
    pub config: PushConfig,
    pub pull_config: PullConfig,
    pub progress: Vec<PushProgress>,
}

impl PushHarness {
    /// `n` local queries, a scripted transport with nothing behind the script.
    pub fn scripted(n: usize) -> Self {
        PushHarness::new(store_with_queries(n), ScriptedTransport::new())
    }

    /// `n` queries created on a fake server and pulled into the store.
    pub fn with_server(n: usize) -> Self {
        let server = PushServer::new(ServerLog::default());
        for i in 0..n {
            server.add_query(&query_id(i), USER, &format!("Q{i}"));
        }
        let h = PushHarness::new(MemoryStore::new(), ScriptedTransport::with_server(server));
        h.pull().unwrap();
        h
    }

    pub fn new(store: MemoryStore, transport: ScriptedTransport) -> Self {
        PushHarness {
            store,
            transport,
            clock: ManualClock::new(T0),
            random: SeededRandom::new(7),
            config: PushConfig::default(),
            pull_config: PullConfig::new(USER),
            progress: Vec::new(),
        }
    }

    pub fn server(&self) -> &PushServer {
        self.transport.server().unwrap()
    }

    pub fn rename(&self, id: &str, default_name: &str) -> Result<OutboxOp, EditError> {
        block_on(rename_query(
            &self.store,
            &self.clock,
            &self.random,
            id,
            &name(default_name),
        ))
    }

    pub fn push(&mut self) -> Result<PushReport, PushError> {
        let progress = &mut self.progress;
        block_on(push(
            &self.store,
            &self.transport,
            &self.clock,
            &self.random,
            &self.config,
            &mut |p| progress.push(*p),
        ))
    }

    /// Starts a push whose first request reaches the server and whose page then dies.
    /// Returns true when the push was indeed cut off (it never finished).
    pub fn push_and_crash(&self) -> bool {
        let crashing = CrashingTransport {
            inner: &self.transport,
            crash: Cell::new(true),
        };
        let mut ignore = |_: &PushProgress| {};
        let future = push(
            &self.store,
            &crashing,
            &self.clock,
            &self.random,
            &self.config,
            &mut ignore,
        );
        future.now_or_never().is_none()
    }

    pub fn pull(&self) -> Result<PullReport, PullError> {
        block_on(pull(
            &self.store,
            &self.transport,
            &self.clock,
            &self.random,
            &self.pull_config,
            &mut |_| {},
        ))
    }

    pub fn command(
        &self,
        method: &str,
        path: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Result<DeferredCommand, EditError> {
        block_on(enqueue_command(
            &self.store,
            &self.clock,
            &self.random,
            method,
            path,
            Some(body),
            if_match.map(str::to_string),
        ))
    }

    pub fn resolve(&self, id: &str, resolution: Resolution) -> Result<Resolved, EditError> {
        block_on(resolve_conflict(
            &self.store,
            &self.clock,
            &self.random,
            id,
            resolution,
        ))
    }

    pub fn outbox(&self) -> OutboxContents {
        self.store.outbox_contents()
    }

    pub fn ops(&self) -> Vec<OutboxOp> {
        self.outbox().ops.into_values().collect()
    }

    pub fn pending(&self) -> Vec<Pending> {
        block_on(pending(&self.store)).unwrap()
    }

    pub fn conflicts(&self) -> Vec<Conflict> {
        block_on(open_conflicts(&self.store)).unwrap()
    }

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        block_on(dead_letters(&self.store)).unwrap()
    }

    /// `(version, default name)` of the local row, pending rename applied.
    pub fn shown(&self, id: &str) -> Option<(u64, String, bool)> {
        block_on(queries_with_pending(&self.store))
            .unwrap()
            .into_iter()
            .find(|r| r.key == id)
            .map(|r| {
                (
                    r.version,
                    r.row["name_i18n"]["default"].as_str().unwrap().to_string(),
                    r.row.get("pendingName") == Some(&Value::Bool(true)),
                )
            })
    }

    /// `(version, default name)` of the stored row, without the pending overlay.
    pub fn stored(&self, id: &str) -> Option<(u64, String)> {
        self.store
            .contents()
            .rows
            .get(&(Kind::Query, id.to_string()))
            .map(|r| {
                (
                    r.version,
                    r.row["name_i18n"]["default"].as_str().unwrap().to_string(),
                )
            })
    }

    /// Every push request sent so far.
    pub fn push_requests(&self) -> Vec<HttpRequest> {
        self.transport
            .requests()
            .into_iter()
            .filter(|r| r.path_and_query == "/internal/sync/push")
            .collect()
    }
}

/// The op ids a push request body carries, in order.
pub fn body_op_ids(request: &HttpRequest) -> Vec<String> {
    let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
    body["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["opId"].as_str().unwrap().to_string())
        .collect()
}

pub fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A `200` push response with the given results.
pub fn results_body(results: Value) -> Vec<u8> {
    json!({ "results": results }).to_string().into_bytes()
}

/// Proptest settings: `default_cases` keeps `cargo test` fast; `PROPTEST_CASES=5000` runs a
/// deep search. No regression files are written into `tests/`.
pub fn proptest_config(default_cases: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
