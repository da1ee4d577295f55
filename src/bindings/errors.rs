//! Every engine error becomes one JS `SyncError` here (API.md): a stable `code`, `retryable`,
//! the message, and `status` / `retryAfterMs` where the engine knows them. A leaf of the
//! bindings, so the pull side (`bindings.rs`) and the push side (`outbox.rs`) convert the
//! same way without importing each other.

use crate::engine::{EditError, ErrorCode, ErrorInfo, PullError, PushError, StoreError};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;

/// A JS `Error` named `SyncError` with a stable `code` and `retryable` (API.md).
pub(super) fn sync_error(code: ErrorCode, retryable: bool, message: &str) -> JsValue {
    sync_error_with(code.as_str(), retryable, message, &[])
}

/// A `SyncError` with extra numeric properties: `status` (the HTTP status behind it) and
/// `retryAfterMs` (how long the server asked to wait), which the wrapper acts on.
pub(super) fn sync_error_with(
    code: &str,
    retryable: bool,
    message: &str,
    extra: &[(&str, f64)],
) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("SyncError");
    // Setting plain data properties on a fresh Error cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    let _ = Reflect::set(&error, &"retryable".into(), &retryable.into());
    for (name, value) in extra {
        let _ = Reflect::set(&error, &(*name).into(), &(*value).into());
    }
    error.into()
}

pub(super) fn pull_error(e: PullError) -> JsValue {
    from_info(&ErrorInfo::from(&e))
}

pub(super) fn store_error(e: StoreError) -> JsValue {
    pull_error(PullError::Storage(e))
}

pub(super) fn push_error(e: PushError) -> JsValue {
    from_info(&ErrorInfo::from(&e))
}

/// The `SyncError` of a pull or push failure, with `status` and `retryAfterMs` when known.
fn from_info(info: &ErrorInfo) -> JsValue {
    let mut extra: Vec<(&str, f64)> = Vec::new();
    if let Some(ms) = info.retry_after_ms {
        extra.push(("retryAfterMs", ms as f64));
    }
    if let Some(status) = info.status {
        extra.push(("status", f64::from(status)));
    }
    sync_error_with(info.code, info.retryable, &info.message, &extra)
}

pub(super) fn edit_error(e: EditError) -> JsValue {
    sync_error(e.error_code(), e.retryable(), &e.to_string())
}

pub(super) fn bad_request(message: &str) -> JsValue {
    sync_error(ErrorCode::BadRequest, false, message)
}
