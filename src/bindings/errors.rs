//! Every engine error becomes one JS `SyncError` here (API.md): a stable `code`, `retryable`,
//! the message, and `status` / `retryAfterMs` where the engine knows them. A leaf of the
//! bindings, so the pull side (`bindings.rs`) and the push side (`outbox.rs`) convert the
//! same way without importing each other.

use crate::engine::{EditError, ErrorCode, PullError, PushError, StoreError};
use js_sys::Reflect;
use serde::Serialize;
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
    let extra: &[(&str, f64)] = match &e {
        PullError::RateLimited { retry_after_ms } => &[("retryAfterMs", *retry_after_ms as f64)],
        PullError::ServerError { status, .. } | PullError::BadRequest { status, .. } => {
            &[("status", *status as f64)]
        }
        _ => &[],
    };
    sync_error_with(e.code(), e.retryable(), &e.to_string(), extra)
}

pub(super) fn store_error(e: StoreError) -> JsValue {
    pull_error(PullError::Storage(e))
}

pub(super) fn push_error(e: PushError) -> JsValue {
    let info = ErrorInfo::of_push(&e);
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

/// A failure reported inside a resolved result rather than as a rejection; `status` and
/// `retryAfterMs` as on a thrown `SyncError`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ErrorInfo {
    code: &'static str,
    retryable: bool,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
}

impl ErrorInfo {
    pub(super) fn of_push(e: &PushError) -> Self {
        let (status, retry_after_ms) = match e {
            PushError::RateLimited { retry_after_ms } => (None, Some(*retry_after_ms)),
            PushError::ServerError { status, .. }
            | PushError::BadRequest { status, .. }
            | PushError::Rejected { status, .. } => (Some(*status), None),
            _ => (None, None),
        };
        ErrorInfo {
            code: e.code(),
            retryable: e.retryable(),
            message: e.to_string(),
            status,
            retry_after_ms,
        }
    }
}
