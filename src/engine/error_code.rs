//! The stable error codes of the JS API (API.md), in one table: every engine error
//! ([`PullError`](crate::engine::PullError), [`PushError`](crate::engine::PushError),
//! [`EditError`](crate::engine::EditError), [`StoreError`](crate::engine::StoreError)) names
//! its code here, the bindings write it once, and the TypeScript union of the package
//! (`pkg/src/error-codes.ts`) is generated from this table: a test fails when they drift.

/// One stable code. The wire spelling is [`ErrorCode::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    Offline,
    Unauthorized,
    TokenTimeout,
    Forbidden,
    RateLimited,
    ServerError,
    BadResponse,
    CursorInvalid,
    QuotaExceeded,
    StorageUnavailable,
    BadRequest,
    PushRejected,
    NotEditable,
    InvalidName,
    BadCommand,
    NotFound,
}

impl ErrorCode {
    /// Every code, in the order of the generated TypeScript union.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::Offline,
        ErrorCode::Unauthorized,
        ErrorCode::TokenTimeout,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::ServerError,
        ErrorCode::BadResponse,
        ErrorCode::CursorInvalid,
        ErrorCode::QuotaExceeded,
        ErrorCode::StorageUnavailable,
        ErrorCode::BadRequest,
        ErrorCode::PushRejected,
        ErrorCode::NotEditable,
        ErrorCode::InvalidName,
        ErrorCode::BadCommand,
        ErrorCode::NotFound,
    ];

    /// The code as JS sees it in `SyncError.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Offline => "offline",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenTimeout => "token_timeout",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ServerError => "server_error",
            ErrorCode::BadResponse => "bad_response",
            ErrorCode::CursorInvalid => "cursor_invalid",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::PushRejected => "push_rejected",
            ErrorCode::NotEditable => "not_editable",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::BadCommand => "bad_command",
            ErrorCode::NotFound => "not_found",
        }
    }

    /// Whether a call that failed with this code may succeed later without anyone changing
    /// anything. The one exception is decided by the store: `storage_unavailable` for a
    /// record that is corrupt is not retryable ([`StoreError::retryable`](crate::engine::StoreError::retryable)).
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::Offline
                | ErrorCode::TokenTimeout
                | ErrorCode::RateLimited
                | ErrorCode::ServerError
                | ErrorCode::BadResponse
                | ErrorCode::CursorInvalid
                | ErrorCode::StorageUnavailable
                | ErrorCode::PushRejected
        )
    }

    /// The TypeScript module `pkg/src/error-codes.ts`, generated from [`ErrorCode::ALL`].
    pub fn typescript() -> String {
        let mut out = String::from(
            "// Generated from src/engine/error_code.rs by its test (UPDATE_GENERATED=1 cargo test -p sync-core\n\
             // error_code): do not edit. A test fails when this file and the Rust table differ.\n\n\
             /** The codes the wasm engine throws (API.md). */\n\
             export const ENGINE_ERROR_CODES = [\n",
        );
        for code in ErrorCode::ALL {
            out.push_str(&format!("  \"{}\",\n", code.as_str()));
        }
        out.push_str("] as const;\n\n/** One of [`ENGINE_ERROR_CODES`]. */\nexport type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    /// The package's TypeScript codes are this table: regenerate with UPDATE_GENERATED=1.
    #[test]
    fn the_typescript_codes_are_generated_from_this_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/src/error-codes.ts");
        let generated = ErrorCode::typescript();
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "pkg/src/error-codes.ts is not what src/engine/error_code.rs generates: run \
             UPDATE_GENERATED=1 cargo test -p sync-core error_code"
        );
    }
}
