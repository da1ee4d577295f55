//! What a push call did, for `status()`, events and the host app. Serialized camelCase so
//! the bindings hand it to JS as is.

#[cfg(feature = "ts")]
use crate::protocol::Kind;
use crate::protocol::KindSet;
use serde::Serialize;

/// The outcome of one successful `push` call.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    /// Batches answered and settled (the re-sent in-flight one included).
    pub batches: u64,
    /// Ops the server applied; their new versions are stored on the local rows.
    pub ops_applied: u64,
    /// Ops (409) and commands (412) that became conflicts.
    pub conflicts: u64,
    /// Ids of the conflicts this call created, for `conflict` events.
    pub new_conflicts: Vec<String>,
    /// Ops and commands refused for good, now in the dead letters.
    pub dead_letters: u64,
    /// Ops the server's answer did not settle (no result, or a transient per-op status);
    /// they wait for the next call.
    pub ops_unanswered: u64,
    /// Deferred commands the server accepted.
    pub commands_done: u64,
    /// Requests repeated after a failure (5xx, 408, network, bad body, 429, one 401).
    pub retries: u64,
    /// True when a batch stored in flight by an earlier call (or a page that died) was
    /// re-sent first, byte-identical.
    pub resent_in_flight: bool,
    pub duration_ms: u64,
    /// Kinds whose local reads changed: `Query` whenever an op left the queue (its pending
    /// name no longer overlays the row, or a new version and name were stored).
    #[cfg_attr(feature = "ts", ts(as = "Vec<Kind>"))]
    pub changed_kinds: KindSet,
}

/// Reported after every settled batch and every replayed command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushProgress {
    pub batches: u64,
    pub ops_applied: u64,
    pub conflicts: u64,
    pub dead_letters: u64,
    pub commands_done: u64,
}

impl PushReport {
    /// The counters a progress callback sees.
    pub fn progress(&self) -> PushProgress {
        PushProgress {
            batches: self.batches,
            ops_applied: self.ops_applied,
            conflicts: self.conflicts,
            dead_letters: self.dead_letters,
            commands_done: self.commands_done,
        }
    }
}
