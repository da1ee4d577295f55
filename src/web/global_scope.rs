//! The few global functions the web layer needs, looked up on `globalThis` so the same code
//! runs in a window, a dedicated worker and an Electron renderer (no `window()` anywhere).

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A global function by name, e.g. `"setTimeout"`; `None` if the scope lacks it.
pub(crate) fn function(name: &str) -> Option<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

/// Schedules `callback` after `ms` milliseconds; returns the timer id for [`clear_timeout`].
pub(crate) fn set_timeout(callback: &Function, ms: u32) -> Result<JsValue, JsValue> {
    let set_timeout =
        function("setTimeout").ok_or_else(|| JsValue::from_str("setTimeout is not available"))?;
    set_timeout.call2(&js_sys::global(), callback, &JsValue::from(ms))
}

/// Cancels a timer started with [`set_timeout`]; a no-op if it already fired.
pub(crate) fn clear_timeout(id: &JsValue) {
    if let Some(clear) = function("clearTimeout") {
        // Clearing can only fail if the scope is being torn down; nothing to do then.
        let _ = clear.call1(&js_sys::global(), id);
    }
}

/// Resolves after `ms` milliseconds on the event loop. If timers are unavailable it resolves
/// at once rather than hanging forever.
pub(crate) async fn sleep_ms(ms: u32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        if set_timeout(&resolve, ms).is_err() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    // The promise only ever resolves.
    let _ = JsFuture::from(promise).await;
}
