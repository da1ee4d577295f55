//! What a push call may do: batch size and how hard it retries. The bindings fill it from the
//! options of `SyncClient.open`.

use crate::engine::net::retry::RetryPolicy;
use crate::engine::push::error::PushError;
use crate::protocol::push::MAX_PUSH_OPS;

/// Settings of one push call.
#[derive(Debug, Clone, PartialEq)]
pub struct PushConfig {
    /// Ops per request, `1..=50` (PROTOCOL §4, §6).
    pub batch_size: usize,
    /// Attempts per request for retryable failures (5xx, 408, network, timeout, bad body,
    /// 429), and the longest `Retry-After` slept through. The batch stays stored after the
    /// last attempt, so nothing is lost by giving up.
    pub retry: RetryPolicy,
    /// The device's user: server copies stored in conflicts are stripped for this user
    /// (PROTOCOL §7, §9.8) exactly as pulled rows are.
    pub user_id: String,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            batch_size: MAX_PUSH_OPS,
            retry: RetryPolicy::default(),
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
        let c = PushConfig::default();
        assert_eq!((c.batch_size, c.retry.max_attempts), (50, 5));
        assert!(c.validate().is_ok());
        for batch_size in [0, 51] {
            let c = PushConfig {
                batch_size,
                ..PushConfig::default()
            };
            assert_eq!(c.validate().map_err(|e| e.code()), Err("bad_request"));
        }
    }
}
