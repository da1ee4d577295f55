//! Helpers for browser tests that must run in a window and in a dedicated worker alike.
//!
//! Everything goes through `js_sys::global()`, never `web_sys::window()`: a worker has no
//! window, and a test that assumes one would only ever pass in half of its contexts.

use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Headers, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransaction, Request,
    RequestInit, Response, Window, WorkerGlobalScope,
};

/// Base URL of the reference server, fixed at compile time. `make test-browser` starts the
/// server and exports `SYNC_SERVER_URL`; the fallback is the port it uses by default.
pub fn server_url() -> &'static str {
    option_env!("SYNC_SERVER_URL").unwrap_or("http://127.0.0.1:18787")
}

/// The reference server's admin token, fixed at compile time like [`server_url`]:
/// `make test-browser` starts the server with `SYNC_ADMIN_TOKEN` and exports it.
pub fn admin_token() -> &'static str {
    option_env!("SYNC_ADMIN_TOKEN").unwrap_or("sync-core-browser-tests-admin-token")
}

/// The global scope a test runs in.
enum Scope {
    Window(Window),
    Worker(WorkerGlobalScope),
}

fn scope() -> Result<Scope, JsValue> {
    let global = js_sys::global();
    if let Some(worker) = global.dyn_ref::<WorkerGlobalScope>() {
        return Ok(Scope::Worker(worker.clone()));
    }
    if let Some(window) = global.dyn_ref::<Window>() {
        return Ok(Scope::Window(window.clone()));
    }
    Err(JsValue::from_str(
        "global scope is neither a Window nor a WorkerGlobalScope",
    ))
}

/// A name no other test (or earlier run) uses, so tests never see each other's data.
pub fn fresh_db_name(prefix: &str) -> String {
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!("{prefix}-{}-{random:x}", js_sys::Date::now() as u64)
}

/// `fetch` from whichever global scope the test runs in.
pub async fn fetch(request: &Request) -> Result<Response, JsValue> {
    let promise = match scope()? {
        Scope::Window(w) => w.fetch_with_request(request),
        Scope::Worker(w) => w.fetch_with_request(request),
    };
    JsFuture::from(promise).await?.dyn_into::<Response>()
}

/// A GET with the given headers; returns the status and the body text.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Result<(u16, String), JsValue> {
    let header_map = Headers::new()?;
    for (name, value) in headers {
        header_map.set(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&header_map);
    let request = Request::new_with_str_and_init(url, &init)?;
    let response = fetch(&request).await?;
    let text = JsFuture::from(response.text()?).await?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// The IndexedDB factory of the current global scope.
pub fn idb_factory() -> Result<IdbFactory, JsValue> {
    let factory = match scope()? {
        Scope::Window(w) => w.indexed_db()?,
        Scope::Worker(w) => w.indexed_db()?,
    };
    factory.ok_or_else(|| JsValue::from_str("IndexedDB is not available in this context"))
}

/// Resolves with `request.result` on success, rejects with `request.error` on failure.
pub async fn request_done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let on_success = {
            let request = request.clone();
            Closure::once_into_js(move |_event: JsValue| {
                let result = request.result().unwrap_or(JsValue::UNDEFINED);
                let _ = resolve.call1(&JsValue::UNDEFINED, &result);
            })
        };
        let on_error = {
            let request = request.clone();
            Closure::once_into_js(move |_event: JsValue| {
                let error = match request.error() {
                    Ok(Some(e)) => JsValue::from(e),
                    _ => JsValue::from_str("IndexedDB request failed"),
                };
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            })
        };
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// Resolves when the transaction commits; rejects if it aborts or fails.
pub async fn transaction_done(tx: &IdbTransaction) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let on_complete = Closure::once_into_js(move |_event: JsValue| {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
        let on_fail = {
            let tx = tx.clone();
            let reject = reject.clone();
            move |_event: JsValue| {
                let error = match tx.error() {
                    Some(e) => JsValue::from(e),
                    None => JsValue::from_str("IndexedDB transaction aborted"),
                };
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
        };
        let on_abort = Closure::once_into_js(on_fail.clone());
        let on_error = Closure::once_into_js(on_fail);
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onabort(Some(on_abort.unchecked_ref()));
        tx.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ())
}

/// Opens (creating) database `name` at version 1 with the given object stores.
pub async fn open_db(name: &str, stores: &[&str]) -> Result<IdbDatabase, JsValue> {
    let open: IdbOpenDbRequest = idb_factory()?.open_with_u32(name, 1)?;
    let on_upgrade = {
        let open = open.clone();
        let stores: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
        Closure::once_into_js(move |_event: JsValue| {
            // Errors here abort the version change, which rejects the open below.
            if let Ok(result) = open.result() {
                let db: IdbDatabase = result.unchecked_into();
                for store in &stores {
                    let _ = db.create_object_store(store);
                }
            }
        })
    };
    open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db = request_done(&open).await?;
    db.dyn_into::<IdbDatabase>()
}

/// Deletes database `name`. Close every connection to it first, or the delete blocks.
pub async fn delete_db(name: &str) -> Result<(), JsValue> {
    let request = idb_factory()?.delete_database(name)?;
    request_done(&request).await.map(|_| ())
}

/// xorshift64*: a deterministic generator for tests over generated input, so a failure
/// names its seed.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
