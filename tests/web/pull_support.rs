//! The pull path as the browser runs it, for the `pull_*` suites: a tenant of the test's own
//! on the real reference server, the real `IdbStore` on a fresh database, `FetchTransport`,
//! `WebClock`/`WebRandom`, and `engine::pull` — nothing simulated.
//!
//! Checks read IndexedDB directly through a second connection ([`raw_dump`]), not through
//! `IdbStore`'s read methods, so a bug in those cannot hide a bug in what was written.
//! [`RecordingStore`] wraps the real store to see the plans the engine commits (to prove
//! "zero writes"); it forwards every call unchanged.

use super::server_admin::{TenantSize, TestTenant};
use super::support::{idb_factory, request_done, server_url};
use js_sys::{Array, Function, JSON};
use std::cell::RefCell;
use std::collections::BTreeMap;
use sync_core::engine::{
    pull, ApplyPlan, Backoff, DecodedPage, Jitter, LocalState, PullConfig, PullError, PullReport,
    StateRequest, Store, StoreError, StoredRow, StoredSnapshot, Swept, SyncMeta,
};
use sync_core::protocol::{Kind, PageError};
use sync_core::web::idb::schema::{store_name, META_STORE};
use sync_core::web::{FetchTransport, IdbStore, JsRow, WebClock, WebRandom};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbDatabase;

/// A JS function returning `Promise.resolve(token)`, like a host's async `getToken`.
fn token_callback(token: &str) -> Function {
    Function::new_with_args("t", "return () => Promise.resolve(t);")
        .call1(&JsValue::UNDEFINED, &JsValue::from_str(token))
        .unwrap()
        .unchecked_into()
}

/// One test's tenant, database and transport.
pub struct PullEnv {
    pub tenant: TestTenant,
    pub store: IdbStore,
    pub transport: FetchTransport,
}

thread_local! {
    /// The read-only big tenant of [`PullEnv::big`], created by the first test that needs it.
    static BIG_TENANT: RefCell<Option<TestTenant>> = const { RefCell::new(None) };
}

impl PullEnv {
    /// Creates a tenant of `size` and opens a fresh database for its user.
    pub async fn new(prefix: &str, size: TenantSize) -> PullEnv {
        PullEnv::on(TestTenant::create(prefix, size).await).await
    }

    /// A fresh database and device on a tenant of `size` shared by every test of this run
    /// that calls this. Building a 20 000-item tenant is the slowest step of those tests
    /// (seconds on the debug server), so it is done once; tests that share it must not
    /// change it (no admin writes, no faults), and each gets its own device id (own cursor).
    pub async fn big(size: TenantSize) -> PullEnv {
        let shared = BIG_TENANT.with(|t| t.borrow().clone());
        let tenant = match shared {
            Some(tenant) => tenant,
            None => {
                let tenant = TestTenant::create("big", size).await;
                BIG_TENANT.with(|t| t.replace(Some(tenant.clone())));
                tenant
            }
        };
        let tenant = tenant.on_new_device();
        // Same tenant and user, same database name: drop whatever an earlier test that
        // failed before its cleanup may have left (its connection closes on versionchange).
        IdbStore::delete_database(&tenant.identity).await.unwrap();
        PullEnv::on(tenant).await
    }

    async fn on(tenant: TestTenant) -> PullEnv {
        let store = IdbStore::open(&tenant.identity).await.unwrap();
        let transport = FetchTransport::new(server_url(), tenant.identity.clone())
            .with_token_callback(token_callback(&tenant.token));
        PullEnv {
            tenant,
            store,
            transport,
        }
    }

    /// Settings for this user, with a short backoff so retry tests stay quick.
    pub fn config(&self) -> PullConfig {
        let mut config = PullConfig::new(self.tenant.user_id());
        config.retry.backoff = Backoff {
            base_ms: 20,
            cap_ms: 100,
            jitter: Jitter::Full,
        };
        config
    }

    /// `engine::pull` on this env's store with `config`.
    pub async fn pull_with(&self, config: &PullConfig) -> Result<PullReport, PullError> {
        self.pull_into(&self.store, config).await
    }

    /// `engine::pull` into any store (e.g. a [`RecordingStore`] around this env's).
    pub async fn pull_into<S: Store>(
        &self,
        store: &S,
        config: &PullConfig,
    ) -> Result<PullReport, PullError> {
        pull(
            store,
            &self.transport,
            &WebClock,
            &WebRandom,
            config,
            &mut |_| {},
        )
        .await
    }

    /// A pull with [`PullEnv::config`] that must succeed and drain.
    pub async fn pull_drained(&self) -> PullReport {
        let report = self
            .pull_with(&self.config())
            .await
            .unwrap_or_else(|e| panic!("pull failed: {e} ({})", e.code()));
        assert!(report.drained, "{report:?}");
        report
    }

    /// Everything the database holds, read over a second connection.
    pub async fn dump(&self) -> RawDump {
        raw_dump(self.store.database_name()).await
    }

    /// Closes the store and deletes the database.
    pub async fn finish(self) {
        self.store.close();
        IdbStore::delete_database(&self.tenant.identity)
            .await
            .unwrap();
    }
}

/// The contents of a database as plain JSON: per object store, every record in key order
/// (`JSON.stringify` of what IndexedDB returns), plus the `meta` entries by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDump {
    pub stores: BTreeMap<Kind, Vec<serde_json::Value>>,
    pub meta: BTreeMap<String, serde_json::Value>,
}

impl RawDump {
    /// Records held per kind.
    pub fn counts(&self) -> BTreeMap<Kind, usize> {
        self.stores.iter().map(|(k, v)| (*k, v.len())).collect()
    }

    /// Keys (`key` field) of the versioned records of `kind`.
    pub fn keys(&self, kind: Kind) -> Vec<String> {
        self.stores[&kind]
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_string())
            .collect()
    }

    /// The stored record of a versioned row, if held.
    pub fn record(&self, kind: Kind, key: &str) -> Option<&serde_json::Value> {
        self.stores[&kind].iter().find(|r| r["key"] == key)
    }

    /// `generatedAt` of each widget's held snapshots, oldest first.
    pub fn snapshot_times(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &self.stores[&Kind::WidgetSnapshot] {
            out.entry(s["widgetId"].as_str().unwrap().to_string())
                .or_default()
                .push(s["generatedAt"].as_str().unwrap().to_string());
        }
        out
    }

    /// The stored cursor, if any.
    pub fn cursor(&self) -> Option<&str> {
        self.meta.get("cursor").and_then(|c| c.as_str())
    }
}

fn to_json(value: &JsValue) -> serde_json::Value {
    let text = JSON::stringify(value).unwrap().as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Reads database `name` completely over its own connection (opened without a version, so
/// it never upgrades anything), then closes that connection.
pub async fn raw_dump(name: &str) -> RawDump {
    let open = idb_factory().unwrap().open(name).unwrap();
    let db: IdbDatabase = request_done(&open).await.unwrap().unchecked_into();
    let mut stores = BTreeMap::new();
    for kind in Kind::ALL {
        let tx = db.transaction_with_str(store_name(kind)).unwrap();
        let all = tx
            .object_store(store_name(kind))
            .unwrap()
            .get_all()
            .unwrap();
        let records: Array = request_done(&all).await.unwrap().unchecked_into();
        stores.insert(kind, records.iter().map(|r| to_json(&r)).collect());
    }
    let tx = db.transaction_with_str(META_STORE).unwrap();
    let meta_store = tx.object_store(META_STORE).unwrap();
    let keys: Array = request_done(&meta_store.get_all_keys().unwrap())
        .await
        .unwrap()
        .unchecked_into();
    let values: Array = request_done(&meta_store.get_all().unwrap())
        .await
        .unwrap()
        .unchecked_into();
    let meta = keys
        .iter()
        .zip(values.iter())
        .map(|(k, v)| (k.as_string().unwrap(), to_json(&v)))
        .collect();
    db.close();
    RawDump { stores, meta }
}

/// The real store, forwarding every call, and keeping a copy of every plan it committed.
pub struct RecordingStore<'a> {
    inner: &'a IdbStore,
    pub commits: RefCell<Vec<ApplyPlan<JsRow>>>,
}

impl<'a> RecordingStore<'a> {
    pub fn new(inner: &'a IdbStore) -> Self {
        RecordingStore {
            inner,
            commits: RefCell::new(Vec::new()),
        }
    }
}

impl Store for RecordingStore<'_> {
    type Payload = JsRow;
    fn decode_page(
        &self,
        body: &[u8],
        config: &PullConfig,
    ) -> Result<DecodedPage<JsRow>, PageError> {
        self.inner.decode_page(body, config)
    }
    async fn meta(&self) -> Result<SyncMeta, StoreError> {
        self.inner.meta().await
    }
    async fn set_access_revoked(&self, revoked: bool) -> Result<(), StoreError> {
        self.inner.set_access_revoked(revoked).await
    }
    async fn local_state(&self, request: &StateRequest) -> Result<LocalState, StoreError> {
        self.inner.local_state(request).await
    }
    async fn commit_page<P: Clone + Into<Self::Payload>>(
        &self,
        plan: &ApplyPlan<P>,
        expected_cursor: Option<&str>,
        next_cursor: &str,
    ) -> Result<Swept, StoreError> {
        let result = self
            .inner
            .commit_page(plan, expected_cursor, next_cursor)
            .await;
        if result.is_ok() {
            self.commits.borrow_mut().push(plan.to_payload());
        }
        result
    }
    async fn wipe(&self, kinds: &[Kind], drop_cursor: bool) -> Result<(), StoreError> {
        self.inner.wipe(kinds, drop_cursor).await
    }
    async fn row(&self, kind: Kind, key: &str) -> Result<Option<StoredRow>, StoreError> {
        self.inner.row(kind, key).await
    }
    async fn rows(&self, kind: Kind) -> Result<Vec<StoredRow>, StoreError> {
        self.inner.rows(kind).await
    }
    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<StoredRow>, StoreError> {
        self.inner.widgets_of(dashboard_id).await
    }
    async fn snapshots_of(&self, widget_id: &str) -> Result<Vec<StoredSnapshot>, StoreError> {
        self.inner.snapshots_of(widget_id).await
    }
    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError> {
        self.inner.existing_keys(kind, keys).await
    }
}
