//! What a pull call did, for `status()`, events and the host app. Serialized camelCase so
//! the bindings hand it to JS as is.

use crate::engine::pull::apply_plan::PageSummary;
use crate::engine::pull::integrity::IntegrityFinding;
use crate::protocol::{Kind, KindCounts, KindSet};
use serde::Serialize;

/// The outcome of one successful `pull` call.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullReport {
    /// Pages committed by this call.
    pub pages: u64,
    /// Items that changed local state, per kind (resets are in `resets`).
    #[cfg_attr(feature = "ts", ts(as = "std::collections::BTreeMap<Kind, u64>"))]
    pub applied: KindCounts,
    /// Upserts not newer than the local version, and snapshots already held or identical
    /// to the newest held one: all skipped without a write.
    pub duplicates_skipped: u64,
    /// Snapshots dropped by retention.
    pub snapshots_trimmed: u64,
    /// Widgets whose snapshots were dropped for exceeding the size budget
    /// (`snapshot_too_large`).
    pub snapshots_too_large: Vec<String>,
    /// Bytes of response bodies received, including refused and retried ones.
    pub bytes_pulled: u64,
    /// Kinds reset by the server, in the order the resets arrived.
    pub resets: Vec<Kind>,
    /// Requests repeated after a failure (5xx, network, bad body, 429, one 401).
    pub retries: u64,
    /// Cold restarts after the server refused the cursor (410).
    pub cold_restarts: u64,
    /// Rows removed because a full replacement (a pull begun without a cursor, PROTOCOL
    /// §9.1) did not send them again.
    pub rows_swept: u64,
    /// Snapshots removed because their widget is no longer held (after a replacement or a
    /// Widget reset).
    pub snapshots_swept: u64,
    /// Orphaned references found after the pull drained.
    pub integrity: Vec<IntegrityFinding>,
    pub duration_ms: u64,
    /// Kinds whose local rows changed, for `changed` events.
    #[cfg_attr(feature = "ts", ts(as = "Vec<Kind>"))]
    pub changed_kinds: KindSet,
    /// False when the call stopped at `maxPages` before the server said `drained`.
    pub drained: bool,
}

impl PullReport {
    /// Adds one committed page.
    pub fn record_page(&mut self, summary: &PageSummary) {
        self.pages += 1;
        for (kind, n) in summary.applied.iter() {
            self.applied.add(kind, n);
        }
        self.duplicates_skipped += summary.duplicates_skipped;
        self.snapshots_trimmed += summary.snapshots_trimmed;
        for w in &summary.snapshots_too_large {
            if !self.snapshots_too_large.contains(w) {
                self.snapshots_too_large.push(w.clone());
            }
        }
        self.resets.extend(summary.resets.iter().copied());
        self.changed_kinds.extend(summary.changed.iter());
        self.rows_swept += summary.swept.rows.len() as u64;
        self.snapshots_swept += summary.swept.snapshots.len() as u64;
    }

    /// Items that changed local state, all kinds together (resets included).
    pub fn items_applied(&self) -> u64 {
        self.applied.total() + self.resets.len() as u64
    }
}

/// Reported after every committed page, e.g. for a cold-start progress bar.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullProgress {
    pub pages: u64,
    pub items_applied: u64,
    pub bytes_pulled: u64,
}
