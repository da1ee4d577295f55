//! What a pull call may do: page size, how far it goes, how hard it retries, how much it
//! keeps. The bindings fill it from the options of `SyncClient.open`.

use crate::engine::net::retry::RetryPolicy;
use crate::engine::pull::error::PullError;

/// The largest `pageSize` the server accepts (PROTOCOL §3); larger values are refused here
/// rather than silently clamped, so a misconfiguration is seen.
pub const MAX_PAGE_SIZE: u32 = 2000;
/// The serialized size over which a snapshot is dropped (PROTOCOL §6).
pub const MAX_SNAPSHOT_BYTES: usize = 64 * 1024;

/// Settings of one pull call.
#[derive(Debug, Clone, PartialEq)]
pub struct PullConfig {
    /// Items per page, `1..=2000`.
    pub page_size: u32,
    /// Pages fetched per call at most (including pages another tab applied first); a call
    /// that stops here reports `drained: false` and the next call continues.
    pub max_pages: u32,
    /// Snapshots kept per widget, at least 1.
    pub retention: usize,
    /// Attempts per page for retryable failures (5xx, network, timeout, bad body, 429), and
    /// the longest `Retry-After` slept through.
    pub retry: RetryPolicy,
    /// Snapshots serialized larger than this are dropped and reported.
    pub max_snapshot_bytes: usize,
    /// Ask the server to wake the snapshot generator (explicit foreground request only).
    pub fresh: bool,
    /// The device's user: `Query.sql_template` is kept only on that user's own queries.
    pub user_id: String,
}

impl Default for PullConfig {
    fn default() -> Self {
        PullConfig {
            page_size: 500,
            max_pages: 1000,
            retention: 12,
            retry: RetryPolicy::default(),
            max_snapshot_bytes: MAX_SNAPSHOT_BYTES,
            fresh: false,
            user_id: String::new(),
        }
    }
}

impl PullConfig {
    /// Defaults for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        PullConfig {
            user_id: user_id.into(),
            ..PullConfig::default()
        }
    }

    /// Refuses settings that would make the call meaningless; checked before any request.
    pub fn validate(&self) -> Result<(), PullError> {
        let bad = |what: &str| {
            Err(PullError::BadRequest {
                status: 0,
                error: what.to_string(),
            })
        };
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return bad("bad_page_size");
        }
        if self.max_pages == 0 {
            return bad("maxPages must be at least 1");
        }
        if self.retention == 0 {
            return bad("retention must be at least 1");
        }
        if let Some(problem) = self.retry.problem() {
            return bad(problem);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c = PullConfig::new("usr_a");
        assert_eq!(
            (c.page_size, c.retention, c.max_snapshot_bytes),
            (500, 12, 65_536)
        );
        assert!(c.validate().is_ok());
        for page_size in [0, 2001] {
            let c = PullConfig {
                page_size,
                ..PullConfig::default()
            };
            assert_eq!(c.validate().map_err(|e| e.code()), Err("bad_request"));
        }
        let c = PullConfig {
            retention: 0,
            ..PullConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
