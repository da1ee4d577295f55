//! Why storage failed, in a leaf of its own: the pull and push errors wrap it and the store
//! traits return it, so it depends on neither.

use crate::engine::error_code::ErrorCode;

/// A storage failure, typed so the boundary can map it to a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The device is out of space (IndexedDB `QuotaExceededError`).
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// The stored cursor moved since the page was fetched (another context applied a page).
    #[error("stored cursor changed since the page was fetched")]
    CursorMoved,
    /// The database could not be opened or its connection is gone.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A transaction aborted; nothing of it was written.
    #[error("transaction aborted: {0}")]
    Aborted(String),
    /// A stored record could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The JS code: a full disk is `quota_exceeded`, everything else `storage_unavailable`.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::QuotaExceeded => ErrorCode::QuotaExceeded,
            _ => ErrorCode::StorageUnavailable,
        }
    }

    /// A closed connection or an aborted transaction may pass; a full disk needs space and a
    /// corrupt record needs someone to act.
    pub fn retryable(&self) -> bool {
        !matches!(self, StoreError::QuotaExceeded | StoreError::Corrupt(_))
    }
}
