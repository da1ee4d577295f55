//! The `#[wasm_bindgen]` surface: convert arguments, call the engine over the IndexedDB store
//! and the fetch transport, convert results, map every error to one JS `SyncError`. No sync
//! logic lives here; the TypeScript wrapper in `pkg/` builds the public API on top of it.
//! The push side (renames, push, sync, commands, conflicts, dead letters) is in
//! `bindings/outbox.rs`, the wrapper's records in `meta` in `bindings/wrapper_meta.rs`. Nothing
//! here exists only for tests (PROTOCOL §9.11): the package's panic tests make the shipped
//! module trap from outside (`tests/consumer/src/trap-switch.ts`).

mod errors;
mod outbox;
mod wrapper_meta;

use crate::engine::{self, ErrorCode, GatedTransport, PullConfig, PushConfig, StateCache, Store};
use crate::protocol::identity::Identity;
use crate::protocol::{Kind, Row};
use crate::web::{FetchTransport, IdbStore, WebClock, WebRandom};
use errors::{pull_error, push_error, store_error, sync_error};
use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// Options of `SyncCore.open`, as in API.md (`getToken` and `fetch` are read separately:
/// functions do not go through serde).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenOptions {
    base_url: String,
    tenant_id: String,
    user_id: String,
    device_id: String,
    #[serde(default)]
    retention: Option<usize>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    max_pages: Option<u32>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    timeout_ms: Option<u32>,
    /// How long `getToken` may take (PROTOCOL §9.9).
    #[serde(default)]
    token_timeout_ms: Option<u32>,
    /// Ops per push request, `1..=50`.
    #[serde(default)]
    push_batch_size: Option<usize>,
}

/// Options of one `pull` call.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PullOptions {
    fresh: bool,
}

struct Client {
    store: IdbStore,
    /// Every request of every call goes through the `Retry-After` gate (PROTOCOL §9.5).
    transport: GatedTransport<FetchTransport, WebClock>,
    config: PullConfig,
    push_config: PushConfig,
    /// What the last pull left for the next (`engine::pull_keeping`): taken by a pull for
    /// its run, put back when it ends ([`Client::keep`]).
    kept: RefCell<Option<StateCache>>,
}

impl Client {
    /// Keeps what a pull left for the next one — unless the client was closed meanwhile:
    /// nothing would use it, and the wasm object (with every held key of a warm store) lives
    /// on until the garbage collector frees it.
    fn keep(&self, kept: Option<StateCache>) {
        if self.store.is_open() {
            self.kept.replace(kept);
        }
    }
}

/// One user's sync engine over one IndexedDB database.
#[wasm_bindgen]
pub struct SyncCore {
    client: Rc<Client>,
}

/// Not exported to JS: what the binding tests look at.
impl SyncCore {
    /// Whether the client holds a pull's state for the next pull (`engine::pull_keeping`).
    pub fn keeps_pull_state(&self) -> bool {
        self.client.kept.borrow().is_some()
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| sync_error(ErrorCode::BadResponse, false, &e.to_string()))
}

fn function_option(options: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(options, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

fn rows(rows: Vec<engine::StoredRow>) -> Vec<Row> {
    rows.into_iter()
        .map(engine::StoredRow::into_app_row)
        .collect()
}

fn snapshot_rows(snapshots: Vec<engine::StoredSnapshot>) -> Vec<Row> {
    snapshots.into_iter().map(|s| s.row).collect()
}

/// The future behind one returned `Promise`, boxed.
type BoxedJsFuture = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// The one place a future becomes a `Promise`. `future_to_promise` is generic over the
/// future: called with each method's own `async` type it was instantiated (with its task,
/// waker and closure glue, 2–3 KB of wasm each) once per method; boxed, it is instantiated
/// once for the whole surface (22 KB less wasm). One boxed allocation and a vtable call per
/// poll are nothing next to the IndexedDB and fetch work behind each of these promises.
#[inline(never)]
fn spawn(future: BoxedJsFuture) -> Promise {
    future_to_promise(future)
}

/// Runs `work` on a clone of the client and resolves with its serialized result.
fn run<T, F, Fut>(client: &Rc<Client>, work: F) -> Promise
where
    T: Serialize,
    F: FnOnce(Rc<Client>) -> Fut,
    Fut: Future<Output = Result<T, JsValue>> + 'static,
{
    let fut = work(Rc::clone(client));
    spawn(Box::pin(async move { to_js(&fut.await?) }))
}

#[wasm_bindgen]
impl SyncCore {
    /// Opens (creating or upgrading) this user's database. Rejects with `SyncError`
    /// `bad_request` for bad options and `storage_unavailable` when IndexedDB cannot open.
    pub async fn open(options: JsValue) -> Result<SyncCore, JsValue> {
        let parsed: OpenOptions = serde_wasm_bindgen::from_value(options.clone())
            .map_err(|e| sync_error(ErrorCode::BadRequest, false, &format!("options: {e}")))?;
        let identity = Identity::new(&parsed.tenant_id, &parsed.user_id, &parsed.device_id)
            .map_err(|e| sync_error(ErrorCode::BadRequest, false, &e.to_string()))?;
        let mut config = PullConfig::new(parsed.user_id.clone());
        if let Some(retention) = parsed.retention {
            config.retention = retention;
        }
        if let Some(page_size) = parsed.page_size {
            config.page_size = page_size;
        }
        if let Some(max_pages) = parsed.max_pages {
            config.max_pages = max_pages;
        }
        if let Some(max_attempts) = parsed.max_attempts {
            config.retry.max_attempts = max_attempts;
        }
        config.validate().map_err(pull_error)?;
        let mut push_config = PushConfig {
            retry: config.retry,
            user_id: parsed.user_id.clone(),
            ..PushConfig::default()
        };
        if let Some(batch_size) = parsed.push_batch_size {
            push_config.batch_size = batch_size;
        }
        push_config.validate().map_err(push_error)?;
        let mut transport = FetchTransport::new(&parsed.base_url, identity.clone());
        if let Some(get_token) = function_option(&options, "getToken") {
            transport = transport.with_token_callback(get_token);
        }
        // `onReachability(reachable, detail)`: the wrapper's status shows at once that the
        // server stopped answering, while the engine still retries.
        if let Some(callback) = function_option(&options, "onReachability") {
            transport = transport.with_reachability_callback(callback);
        }
        if let Some(fetch) = function_option(&options, "fetch") {
            transport = transport.with_fetch(fetch);
        }
        if let Some(timeout_ms) = parsed.timeout_ms {
            transport = transport.with_timeout_ms(timeout_ms);
        }
        if let Some(timeout_ms) = parsed.token_timeout_ms {
            transport = transport.with_token_timeout_ms(timeout_ms);
        }
        let store = IdbStore::open(&identity).await.map_err(store_error)?;
        // `onConnectionLost(kind, reason)`: the wrapper reopens or closes at once.
        store.on_connection_lost(function_option(&options, "onConnectionLost"));
        Ok(SyncCore {
            client: Rc::new(Client {
                store,
                transport: GatedTransport::new(transport, WebClock),
                config,
                push_config,
                kept: RefCell::default(),
            }),
        })
    }

    /// Milliseconds since the epoch before which a server asked for no more requests
    /// (`Retry-After` of a 429/503, PROTOCOL §9.5), or `undefined`: `status().retryAt`.
    #[wasm_bindgen(js_name = retryAt)]
    pub fn retry_at(&self) -> Option<f64> {
        let now = engine::Clock::now_ms(&WebClock);
        self.client.transport.retry_at(now).map(|at| at as f64)
    }

    /// The IndexedDB database this client uses.
    #[wasm_bindgen(getter, js_name = databaseName)]
    pub fn database_name(&self) -> String {
        self.client.store.database_name().to_string()
    }

    /// Pulls until drained (or `maxPages`); resolves with the `PullReport`.
    /// `progress`, if given, is called with `{pages, itemsApplied, bytesPulled}` after each
    /// committed page.
    pub fn pull(&self, options: JsValue, progress: Option<Function>) -> Promise {
        let options: PullOptions = if options.is_undefined() || options.is_null() {
            PullOptions::default()
        } else {
            match serde_wasm_bindgen::from_value(options) {
                Ok(o) => o,
                Err(e) => {
                    return Promise::reject(&sync_error(
                        ErrorCode::BadRequest,
                        false,
                        &e.to_string(),
                    ))
                }
            }
        };
        run(&self.client, move |c| async move {
            let mut config = c.config.clone();
            config.fresh = options.fresh;
            let mut on_progress = |p: &engine::PullProgress| {
                if let (Some(f), Ok(v)) = (&progress, to_js(p)) {
                    // A throwing progress callback must not stop the pull.
                    let _ = f.call1(&JsValue::UNDEFINED, &v);
                }
            };
            let mut kept = c.kept.take();
            let pulled = engine::pull_keeping(
                &c.store,
                &c.transport,
                &WebClock,
                &WebRandom,
                &config,
                &mut on_progress,
                &mut kept,
            )
            .await;
            c.keep(kept);
            pulled.map_err(pull_error)
        })
    }

    /// Every held dashboard.
    pub fn dashboards(&self) -> Promise {
        run(&self.client, |c| async move {
            Ok(rows(
                c.store.rows(Kind::Dashboard).await.map_err(store_error)?,
            ))
        })
    }

    /// Internal, not API: whether any dashboard is held (one `count()`, no record read); a
    /// new leader's cold-start test.
    #[wasm_bindgen(js_name = holdsDashboards, skip_typescript)]
    pub fn holds_dashboards(&self) -> Promise {
        run(&self.client, |c| async move {
            c.store
                .holds_any(Kind::Dashboard)
                .await
                .map_err(store_error)
        })
    }

    /// Widgets of one dashboard.
    pub fn widgets(&self, dashboard_id: String) -> Promise {
        run(&self.client, |c| async move {
            Ok(rows(
                c.store
                    .widgets_of(&dashboard_id)
                    .await
                    .map_err(store_error)?,
            ))
        })
    }

    /// One metric definition, or `undefined`.
    pub fn metric(&self, key: String) -> Promise {
        run(&self.client, |c| async move {
            let row = c
                .store
                .row(Kind::MetricDefinition, &key)
                .await
                .map_err(store_error)?;
            Ok(row.map(|r| r.row))
        })
    }

    /// Snapshots of a widget, newest first, at most `retention`.
    pub fn snapshots(&self, widget_id: String) -> Promise {
        run(&self.client, |c| async move {
            let held = engine::snapshots(&c.store, &widget_id, c.config.retention)
                .await
                .map_err(store_error)?;
            Ok(snapshot_rows(held))
        })
    }

    /// The newest snapshot of a widget, or `undefined`.
    #[wasm_bindgen(js_name = latestSnapshot)]
    pub fn latest_snapshot(&self, widget_id: String) -> Promise {
        run(&self.client, |c| async move {
            let newest = engine::latest_snapshot(&c.store, &widget_id)
                .await
                .map_err(store_error)?;
            Ok(newest.map(|s| s.row))
        })
    }

    /// **Internal, not API** (left out of the `.d.ts`): the `IDBDatabase` this core holds.
    /// The wrapper reads widgets and newest snapshots on it itself (`pkg/src/idb-reads.ts`)
    /// and hands the app the stored objects: through wasm each record cost a stringify, a
    /// copy, a serde parse and print and a `JSON.parse` only to pick `.row`. Rejects like
    /// every read (`storage_unavailable`) once the connection is closed or lost.
    #[wasm_bindgen(js_name = idbDatabase, skip_typescript)]
    pub fn idb_database(&self) -> Result<JsValue, JsValue> {
        self.client.store.database_handle().map_err(store_error)
    }

    /// Saved queries of this user, each with its pending local name applied (and
    /// `pendingName: true`) while a rename of it waits to be pushed.
    pub fn queries(&self) -> Promise {
        run(&self.client, |c| async move {
            Ok(rows(
                engine::queries_with_pending(&c.store)
                    .await
                    .map_err(store_error)?,
            ))
        })
    }

    /// Freshness of every curated table.
    pub fn projections(&self) -> Promise {
        run(&self.client, |c| async move {
            Ok(rows(
                c.store.rows(Kind::Projection).await.map_err(store_error)?,
            ))
        })
    }

    /// DQ alerts observed in the last 7 days, newest first.
    #[wasm_bindgen(js_name = openAlerts)]
    pub fn open_alerts(&self) -> Promise {
        run(&self.client, |c| async move {
            let now = engine::Clock::now_ms(&WebClock);
            Ok(rows(
                engine::open_alerts(&c.store, now)
                    .await
                    .map_err(store_error)?,
            ))
        })
    }

    /// `{asOf, lagMinutes, stale, staleWidgetIds}` of a held dashboard, or `undefined`.
    pub fn freshness(&self, dashboard_id: String) -> Promise {
        run(&self.client, |c| async move {
            let now = engine::Clock::now_ms(&WebClock);
            engine::freshness(&c.store, &dashboard_id, now)
                .await
                .map_err(store_error)
        })
    }

    /// Closes the database connection; later calls reject with `storage_unavailable`.
    pub fn close(&self) {
        self.client.store.close();
        // A closed client pulls no more: what the last pull kept is freed now, not when the
        // garbage collector gets to this object.
        self.client.kept.take();
    }

    /// Deletes one user's database (logout). Close every client of it first.
    #[wasm_bindgen(js_name = deleteDatabase)]
    pub async fn delete_database(
        tenant_id: String,
        user_id: String,
        device_id: String,
    ) -> Result<(), JsValue> {
        let identity = Identity::new(&tenant_id, &user_id, &device_id)
            .map_err(|e| sync_error(ErrorCode::BadRequest, false, &e.to_string()))?;
        IdbStore::delete_database(&identity)
            .await
            .map_err(store_error)
    }
}
