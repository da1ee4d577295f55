//! Asking the host's `getToken` for a bearer token, bounded in time (PROTOCOL §9.9).
//!
//! The callback is the host app's code: it may refresh a session over the network, wait for
//! a login dialog, or simply never settle. Awaited bare, one such promise would hang the whole
//! sync loop (and with it every queued edit) forever. So its promise is raced against a timer;
//! when the timer wins the request fails as [`TransportError::TokenTimeout`], which the engine
//! reports as a retryable `token_timeout`. A synchronous throw or a rejection stays
//! [`TransportError::Token`] (`unauthorized`), as before. The token is never stored.

use crate::engine::TransportError;
use crate::web::global_scope::{clear_timeout, set_timeout};
use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Default time the host's token callback may take.
pub const DEFAULT_TOKEN_TIMEOUT_MS: u32 = 10_000;

/// Calls `get_token` and waits at most `timeout_ms` for its value. `Ok(None)`: send no
/// `Authorization` (the callback gave `null`/`undefined`/`""`).
pub(super) async fn bounded_token(
    get_token: &Function,
    timeout_ms: u32,
) -> Result<Option<String>, TransportError> {
    let returned = get_token
        .call0(&JsValue::UNDEFINED)
        .map_err(|e| TransportError::Token(describe(&e)))?;
    // A fresh object only this call knows: the timer resolves the race with it.
    let timed_out: JsValue = Object::new().into();
    let mut timer = None;
    let deadline = Promise::new(&mut |resolve, _reject| {
        let fire: Function = resolve
            .bind1(&JsValue::UNDEFINED, &timed_out)
            .unchecked_into();
        timer = set_timeout(&fire, timeout_ms).ok();
    });
    if timer.is_none() {
        // No timers in this scope: fall back to waiting for the host rather than failing.
        return token_value(JsFuture::from(Promise::resolve(&returned)).await);
    }
    let race = Promise::race(&Array::of2(&Promise::resolve(&returned), &deadline));
    let outcome = JsFuture::from(race).await;
    if let Some(timer) = &timer {
        clear_timeout(timer);
    }
    match outcome {
        Ok(value) if value == timed_out => Err(TransportError::TokenTimeout),
        other => token_value(other),
    }
}

fn token_value(settled: Result<JsValue, JsValue>) -> Result<Option<String>, TransportError> {
    let value = settled.map_err(|e| TransportError::Token(describe(&e)))?;
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    match value.as_string() {
        Some(token) if token.is_empty() => Ok(None),
        Some(token) => Ok(Some(token)),
        None => Err(TransportError::Token(
            "getToken resolved to something other than a string".into(),
        )),
    }
}

/// A readable message for whatever JS threw or rejected with.
pub(super) fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        );
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
