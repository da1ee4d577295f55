//! **Test-only, not API.** A deliberate Rust panic, so the package's tests can prove that a
//! wasm trap never reaches the app as a bare `RuntimeError: unreachable` but as a `SyncError`
//! with code `internal`, and that the wrapper then closes every client of the poisoned module
//! (see `pkg/src/traps.ts`). The name is prefixed and undocumented so no app calls it by
//! accident; it takes no user data and touches no storage.

use super::{spawn, SyncCore};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The panic itself, outside of any borrow of the client.
fn trap(mode: &str) -> Result<JsValue, JsValue> {
    panic!("sync-core test panic ({mode})")
}

#[wasm_bindgen]
impl SyncCore {
    /// Panics during the call (`mode` `"sync"`) or inside the returned promise's future after
    /// one await (`"async"`, the way a bug in the engine would surface).
    #[wasm_bindgen(js_name = __sync_core_test_panic)]
    pub fn test_panic(&self, mode: String) -> Promise {
        if mode == "sync" {
            let _ = trap("sync");
        }
        spawn(Box::pin(async move {
            JsFuture::from(Promise::resolve(&JsValue::NULL)).await?;
            trap(&mode)
        }))
    }
}
