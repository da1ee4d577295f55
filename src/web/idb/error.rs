//! Typed IndexedDB failures (in the style of `indexed_db_futures`): the DOM reports errors as
//! `DOMException`s told apart only by their `name`, and the engine must react differently to
//! a full disk, a dead connection and an aborted transaction. Everything the IndexedDB layer
//! returns goes through [`IdbError`] once, then into [`StoreError`] at the trait boundary.

use crate::engine::StoreError;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

/// An IndexedDB failure, classified by the DOM exception name that caused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdbError {
    /// `QuotaExceededError`: the origin is out of storage space.
    #[error("QuotaExceededError: {0}")]
    QuotaExceeded(String),
    /// `TransactionInactiveError`: a request was issued on a transaction that had already
    /// auto-committed, typically because something other than an IndexedDB request was
    /// awaited inside it.
    #[error("TransactionInactiveError: {0}")]
    TransactionInactive(String),
    /// `AbortError`, or a transaction that aborted without an error (an explicit `abort()`).
    #[error("AbortError: {0}")]
    Aborted(String),
    /// `ConstraintError`: a write broke a uniqueness constraint; the transaction aborts.
    #[error("ConstraintError: {0}")]
    Constraint(String),
    /// `DataError` / `DataCloneError`: a key or value IndexedDB cannot store.
    #[error("{name}: {message}")]
    Data { name: String, message: String },
    /// `InvalidStateError`: usually the connection was closed under us.
    #[error("InvalidStateError: {0}")]
    InvalidState(String),
    /// `NotFoundError`: an object store or index the schema should have is missing.
    #[error("NotFoundError: {0}")]
    NotFound(String),
    /// `VersionError`: the database on disk is newer than this code knows.
    #[error("VersionError: {0}")]
    VersionTooNew(String),
    /// The connection was closed, by us or because another context wants to upgrade.
    #[error("the database connection is closed ({0})")]
    Closed(String),
    /// IndexedDB is missing, refused to open, or failed in an unspecified way.
    #[error("IndexedDB unavailable: {0}")]
    Unavailable(String),
    /// The upgrade handler could not migrate the schema.
    #[error("schema upgrade failed: {0}")]
    Upgrade(String),
    /// A value could not be converted to a JS object before a write.
    #[error("could not encode a record: {0}")]
    Encode(String),
    /// A stored record does not have the shape this code wrote.
    #[error("could not decode a stored record: {0}")]
    Decode(String),
    /// Any other exception, with its name.
    #[error("{name}: {message}")]
    Other { name: String, message: String },
}

impl IdbError {
    /// Classifies a `DOMException` by its name.
    pub fn from_dom(exception: &DomException) -> IdbError {
        Self::from_name(&exception.name(), exception.message())
    }

    /// Classifies an exception given its `name` and `message`.
    pub fn from_name(name: &str, message: String) -> IdbError {
        match name {
            "QuotaExceededError" => IdbError::QuotaExceeded(message),
            "TransactionInactiveError" => IdbError::TransactionInactive(message),
            "AbortError" => IdbError::Aborted(message),
            "ConstraintError" => IdbError::Constraint(message),
            "DataError" | "DataCloneError" => IdbError::Data {
                name: name.to_string(),
                message,
            },
            "InvalidStateError" => IdbError::InvalidState(message),
            "NotFoundError" => IdbError::NotFound(message),
            "VersionError" => IdbError::VersionTooNew(message),
            "UnknownError" => IdbError::Unavailable(format!("UnknownError: {message}")),
            // `guarded` in idb/batch.js: a stored value a JS reader could not handle.
            "StoredValueError" => IdbError::Decode(message),
            _ => IdbError::Other {
                name: name.to_string(),
                message,
            },
        }
    }

    /// Classifies whatever a web-sys call threw: a `DOMException`, an `Error`, or anything.
    pub fn from_js(value: &JsValue) -> IdbError {
        if let Some(exception) = value.dyn_ref::<DomException>() {
            return Self::from_dom(exception);
        }
        if let Some(error) = value.dyn_ref::<js_sys::Error>() {
            return Self::from_name(&String::from(error.name()), error.message().into());
        }
        IdbError::Other {
            name: "unknown".into(),
            message: value.as_string().unwrap_or_else(|| format!("{value:?}")),
        }
    }

    /// What a transaction's `abort` event carries: its `error`, or `null` for `abort()`.
    pub(crate) fn from_abort(error: &JsValue) -> IdbError {
        if error.is_null() || error.is_undefined() {
            IdbError::Aborted("the transaction was aborted".into())
        } else {
            Self::from_js(error)
        }
    }
}

impl From<idb::Error> for IdbError {
    fn from(error: idb::Error) -> Self {
        use idb::Error as E;
        let payload = match &error {
            E::DomException(exception) => return IdbError::from_dom(exception),
            E::AddFailed(v)
            | E::ClearFailed(v)
            | E::CountFailed(v)
            | E::DeleteFailed(v)
            | E::GetAllFailed(v)
            | E::GetAllKeysFailed(v)
            | E::GetFailed(v)
            | E::GetKeyFailed(v)
            | E::IndexCreateFailed(v)
            | E::IndexNotFound(v)
            | E::IndexedDbDeleteFailed(v)
            | E::IndexedDbOpenFailed(v)
            | E::KeyRangeCreateFailed(v)
            | E::ObjectStoreCreateFailed(v)
            | E::ObjectStoreNotFound(v)
            | E::OpenCursorFailed(v)
            | E::RequestErrorNotFound(v)
            | E::RequestResultNotFound(v)
            | E::TransactionAbortError(v)
            | E::TransactionCommitError(v)
            | E::TransactionOpenFailed(v)
            | E::UpdateFailed(v) => v,
            E::IndexedDbNotFound(_) => {
                return IdbError::Unavailable("indexedDB is not available in this context".into())
            }
            other => {
                return IdbError::Other {
                    name: "idb".into(),
                    message: other.to_string(),
                }
            }
        };
        IdbError::from_js(payload)
    }
}

impl From<serde_wasm_bindgen::Error> for IdbError {
    fn from(error: serde_wasm_bindgen::Error) -> Self {
        IdbError::Decode(error.to_string())
    }
}

impl From<IdbError> for StoreError {
    fn from(error: IdbError) -> Self {
        match error {
            IdbError::QuotaExceeded(_) => StoreError::QuotaExceeded,
            IdbError::TransactionInactive(_)
            | IdbError::Aborted(_)
            | IdbError::Constraint(_)
            | IdbError::Data { .. }
            | IdbError::Encode(_)
            | IdbError::Other { .. } => StoreError::Aborted(error.to_string()),
            IdbError::InvalidState(_)
            | IdbError::NotFound(_)
            | IdbError::VersionTooNew(_)
            | IdbError::Closed(_)
            | IdbError::Unavailable(_)
            | IdbError::Upgrade(_) => StoreError::Unavailable(error.to_string()),
            IdbError::Decode(_) => StoreError::Corrupt(error.to_string()),
        }
    }
}
