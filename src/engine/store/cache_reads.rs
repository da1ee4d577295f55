//! Reads the JS API needs beyond single-row lookups, written once over [`Store`] so the
//! IndexedDB and in-memory stores answer them identically.

use crate::engine::sorting::sort_by_key;
use crate::engine::store::cache::{Store, StoreError, StoredSnapshot};

/// The newest held snapshot of a widget (what a dashboard renders until a fresh one lands).
pub async fn latest_snapshot<S: Store>(
    store: &S,
    widget_id: &str,
) -> Result<Option<StoredSnapshot>, StoreError> {
    store.latest_snapshot(widget_id).await
}

/// The newest held snapshot of each of `widget_ids`, in order (`None` where nothing is held):
/// first render reads every widget on screen in one go.
pub async fn latest_snapshots<S: Store>(
    store: &S,
    widget_ids: &[String],
) -> Result<Vec<Option<StoredSnapshot>>, StoreError> {
    store.latest_snapshots(widget_ids).await
}

/// A widget's held snapshots, newest first, at most `retention` of them (a store written
/// under a larger retention may hold more until the next append trims them).
pub async fn snapshots<S: Store>(
    store: &S,
    widget_id: &str,
    retention: usize,
) -> Result<Vec<StoredSnapshot>, StoreError> {
    let mut held = store.snapshots_of(widget_id).await?;
    held.truncate(retention);
    Ok(held)
}

/// How long an alert counts as open on the device (PROTOCOL §2: open alerts, last 7 days).
pub const OPEN_ALERT_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Held DQ alerts observed within the last 7 days, newest first. The server stops serving
/// older ones, but a device that was offline for a week still holds them; they are not shown.
pub async fn open_alerts<S: Store>(
    store: &S,
    now_ms: u64,
) -> Result<Vec<crate::engine::store::cache::StoredRow>, StoreError> {
    let cutoff = i64::try_from(now_ms).unwrap_or(i64::MAX) - OPEN_ALERT_WINDOW_MS;
    let mut alerts: Vec<(i64, crate::engine::store::cache::StoredRow)> = store
        .rows(crate::protocol::Kind::DqAlertOpen)
        .await?
        .into_iter()
        .filter_map(|a| {
            let observed = a
                .row
                .get("observedAt")
                .and_then(|v| v.as_str())
                .and_then(crate::engine::time::parse_rfc3339_ms)?;
            (observed >= cutoff).then_some((observed, a))
        })
        .collect();
    sort_by_key(&mut alerts, |a| std::cmp::Reverse(a.0));
    Ok(alerts.into_iter().map(|(_, a)| a).collect())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::engine::{ApplyPlan, MemoryStore, StoredRow};
    use crate::protocol::Kind;
    use futures::executor::block_on;
    use serde_json::json;

    fn alert(id: &str, observed_at: &str) -> StoredRow {
        let row =
            json!({"id": id, "checkKey": "k", "severity": "warning", "observedAt": observed_at});
        StoredRow {
            kind: Kind::DqAlertOpen,
            key: id.into(),
            version: 1,
            row: row.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn open_alerts_hides_alerts_older_than_seven_days() {
        let store = MemoryStore::new();
        let plan = ApplyPlan {
            row_puts: vec![
                alert("dqc_old", "2026-01-01T00:00:00Z"),
                alert("dqc_new", "2026-01-09T00:00:00Z"),
                alert("dqc_newer", "2026-01-09T12:00:00Z"),
            ],
            ..ApplyPlan::default()
        };
        block_on(store.commit_page(&plan, None, "c1")).unwrap();
        let now = crate::engine::time::parse_rfc3339_ms("2026-01-10T00:00:00Z").unwrap() as u64;
        let ids: Vec<String> = block_on(open_alerts(&store, now))
            .unwrap()
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(ids, ["dqc_newer", "dqc_new"]);
    }
}
