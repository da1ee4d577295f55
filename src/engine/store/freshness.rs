//! "Data as of" and staleness of a dashboard (PROTOCOL §8), from local data only, so the
//! badge is right offline too.
//!
//! - `asOf`: the oldest `lastSuccessAt` among the Projections in the dashboard's `tables`
//!   (`None` when any of them is not held or has no parseable time: the oldest is then
//!   unknown, and claiming a newer one would overstate freshness);
//! - `lagMinutes`: the largest `lagMinutes` among those projections;
//! - a widget is stale when it has no snapshot, when its newest snapshot is older than its
//!   `freshness.alertAtMinutes`, or when the projections' lag exceeds that threshold;
//! - `stale`: some widget is stale.

use crate::engine::store::cache::{Store, StoreError, StoredRow};
use crate::engine::time::parse_rfc3339_ms;
use crate::protocol::{Kind, Row};
use serde::Serialize;

/// "Data as of" and staleness of one dashboard (PROTOCOL §8).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// The oldest `lastSuccessAt` of the dashboard's projections; null when one is not held.
    pub as_of: Option<String>,
    /// The largest `lagMinutes` of those projections.
    pub lag_minutes: Option<f64>,
    /// Some widget is stale.
    pub stale: bool,
    /// Stale widgets: no snapshot, a newest one older than their `freshness.alertAtMinutes`,
    /// or projections lagging more than that.
    pub stale_widget_ids: Vec<String>,
}

fn number(row: &Row, field: &str) -> Option<f64> {
    row.get(field)
        .and_then(|v| v.as_f64())
        .filter(|n| n.is_finite())
}

/// The projection keys a dashboard depends on.
pub fn dashboard_tables(dashboard: &Row) -> Vec<String> {
    dashboard
        .get("tables")
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Freshness from already-read data: the dashboard row, the held projections of its
/// tables (by key), its widgets, and each widget's newest `generatedAt` (absent = none).
/// Slices, not maps: a dashboard has a few tables and tens of widgets, and a map type of its
/// own would cost the wasm ≈ 5 KB each.
pub fn compute_freshness(
    dashboard: &Row,
    projections: &[(String, Row)],
    widgets: &[StoredRow],
    newest_snapshot: &[(String, String)],
    now_ms: u64,
) -> Freshness {
    let tables = dashboard_tables(dashboard);
    let mut oldest: Option<(i64, String)> = None;
    let mut as_of_known = !tables.is_empty();
    let mut lag: Option<f64> = None;
    for table in &tables {
        let projection = projections
            .iter()
            .find(|(key, _)| key == table)
            .map(|(_, p)| p);
        let success = projection
            .and_then(|p| p.get("lastSuccessAt"))
            .and_then(|v| v.as_str())
            .and_then(|s| parse_rfc3339_ms(s).map(|ms| (ms, s.to_string())));
        match success {
            Some(at) if oldest.as_ref().is_none_or(|o| at.0 < o.0) => oldest = Some(at),
            Some(_) => {}
            None => as_of_known = false,
        }
        if let Some(l) = projection.and_then(|p| number(p, "lagMinutes")) {
            lag = Some(lag.map_or(l, |m: f64| m.max(l)));
        }
    }
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let stale_widget_ids: Vec<String> = widgets
        .iter()
        .filter(|w| {
            let alert = w
                .row
                .get("freshness")
                .and_then(|f| f.as_object())
                .and_then(|f| number(f, "alertAtMinutes"));
            let Some((_, generated)) = newest_snapshot.iter().find(|(key, _)| *key == w.key) else {
                return true;
            };
            let Some(alert) = alert else {
                // No threshold: only a missing snapshot makes it stale.
                return false;
            };
            let age_minutes = match parse_rfc3339_ms(generated) {
                Some(ms) => now.saturating_sub(ms) as f64 / 60_000.0,
                None => return true,
            };
            age_minutes > alert || lag.is_some_and(|l| l > alert)
        })
        .map(|w| w.key.clone())
        .collect();
    Freshness {
        as_of: oldest.filter(|_| as_of_known).map(|(_, s)| s),
        lag_minutes: lag,
        stale: !stale_widget_ids.is_empty(),
        stale_widget_ids,
    }
}

/// Freshness of a held dashboard; `None` when the dashboard is not held.
pub async fn freshness<S: Store>(
    store: &S,
    dashboard_id: &str,
    now_ms: u64,
) -> Result<Option<Freshness>, StoreError> {
    let Some(dashboard) = store.row(Kind::Dashboard, dashboard_id).await? else {
        return Ok(None);
    };
    let mut projections = Vec::new();
    for table in dashboard_tables(&dashboard.row) {
        if let Some(p) = store.row(Kind::Projection, &table).await? {
            projections.push((table, p.row));
        }
    }
    let widgets = store.widgets_of(dashboard_id).await?;
    let mut newest = Vec::new();
    for w in &widgets {
        if let Some(s) = store.snapshots_of(&w.key).await?.into_iter().next() {
            newest.push((w.key.clone(), s.generated_at));
        }
    }
    Ok(Some(compute_freshness(
        &dashboard.row,
        &projections,
        &widgets,
        &newest,
        now_ms,
    )))
}
