//! Why a local write (rename, command, conflict resolution) was refused. One enum for the
//! local-write entry points; the bindings map it to a JS `SyncError` through
//! [`EditError::code`] and [`EditError::retryable`]. Whatever the variant, nothing was
//! written.

use crate::engine::error_code::ErrorCode;
use crate::engine::store::error::StoreError;

/// A refused local write. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    /// Only `Query.name_i18n` may be edited on the device (PROTOCOL §4).
    #[error("not editable: {0}")]
    NotEditable(String),
    /// The new `name_i18n` breaks a rule (empty default, non-string value, too large).
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// A deferred command with a method, route (PROTOCOL §5, §9.7), `If-Match` or body the
    /// engine refuses.
    #[error("bad command: {0}")]
    BadCommand(String),
    /// The query or the open conflict is not held locally.
    #[error("not found: {0}")]
    NotFound(String),
    /// Local storage failed; the transaction wrote nothing.
    #[error("storage: {0}")]
    Storage(StoreError),
}

impl EditError {
    /// The stable code the JS `SyncError` carries.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The code in the one table of codes ([`ErrorCode`]).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            EditError::NotEditable(_) => ErrorCode::NotEditable,
            EditError::InvalidName(_) => ErrorCode::InvalidName,
            EditError::BadCommand(_) => ErrorCode::BadCommand,
            EditError::NotFound(_) => ErrorCode::NotFound,
            EditError::Storage(e) => e.code(),
        }
    }

    /// Whether the same call may succeed later without anyone changing anything: only a
    /// storage hiccup (closed connection, aborted transaction). A full disk needs space.
    pub fn retryable(&self) -> bool {
        match self {
            EditError::Storage(e) => e.retryable(),
            other => other.error_code().retryable(),
        }
    }
}

impl From<StoreError> for EditError {
    fn from(e: StoreError) -> Self {
        EditError::Storage(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let cases = [
            (EditError::NotEditable("x".into()), "not_editable", false),
            (EditError::InvalidName("x".into()), "invalid_name", false),
            (EditError::BadCommand("x".into()), "bad_command", false),
            (EditError::NotFound("x".into()), "not_found", false),
            (StoreError::QuotaExceeded.into(), "quota_exceeded", false),
            (
                StoreError::Unavailable("closed".into()).into(),
                "storage_unavailable",
                true,
            ),
        ];
        for (e, code, retryable) in cases {
            assert_eq!((e.code(), e.retryable()), (code, retryable), "{e}");
        }
    }
}
