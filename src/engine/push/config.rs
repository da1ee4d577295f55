//! What a push call may do: batch size and how hard it retries. Deserializable (camelCase,
//! every field optional) so the bindings can take it from the options object.

use crate::engine::net::retry::{Backoff, RetryPolicy};
use crate::engine::push::error::PushError;
use crate::protocol::push::MAX_PUSH_OPS;
use serde::Deserialize;

/// Settings of one push call.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PushConfig {
    /// Ops per request, `1..=50` (PROTOCOL §4, §6).
    pub batch_size: usize,
    /// Attempts per request for retryable failures (5xx, 408, network, timeout, bad body,
    /// 429). The batch stays stored after the last one, so nothing is lost by giving up.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// A `Retry-After` longer than this is not slept through: the call returns
    /// `rate_limited` with the wait instead.
    pub max_retry_after_wait_ms: u64,
    /// The device's user: server copies stored in conflicts are stripped for this user
    /// (PROTOCOL §7, §9.8) exactly as pulled rows are.
    pub user_id: String,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            batch_size: MAX_PUSH_OPS,
            max_attempts: 5,
            backoff: Backoff::default(),
            max_retry_after_wait_ms: 60_000,
            user_id: String::new(),
        }
    }
}

impl PushConfig {
    /// Refuses settings that would make the call meaningless; checked before anything is
    /// read or sent.
    pub fn validate(&self) -> Result<(), PushError> {
        let bad = |what: &str| {
            Err(PushError::BadRequest {
                status: 0,
                error: what.to_string(),
            })
        };
        if !(1..=MAX_PUSH_OPS).contains(&self.batch_size) {
            return bad("batchSize must be 1..=50");
        }
        if let Some(problem) = self.retry_policy().problem() {
            return bad(problem);
        }
        Ok(())
    }

    /// The retry rules of this config, for [`send_with_retries`](crate::engine::net::retry::send_with_retries).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            max_retry_after_wait_ms: self.max_retry_after_wait_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c = PushConfig::default();
        assert_eq!((c.batch_size, c.max_attempts), (50, 5));
        assert!(c.validate().is_ok());
        for batch_size in [0, 51] {
            let c = PushConfig {
                batch_size,
                ..PushConfig::default()
            };
            assert_eq!(c.validate().map_err(|e| e.code()), Err("bad_request"));
        }
        let c: PushConfig = serde_json::from_str(r#"{"batchSize":10}"#).unwrap();
        assert_eq!((c.batch_size, c.max_attempts), (10, 5));
    }
}
