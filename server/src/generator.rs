//! The snapshot generator (seed 000 §1.1 and §8), a background task.
//!
//! For every tenant with a device that pulled in the last 24 h (simulated time), each live
//! widget gets a snapshot per cadence bucket: hot widgets (freshness target ≤ 5 min) every
//! 5 minutes, cold ones every 15, heavy ones (p95 of `provenance.bytesScanned` over their
//! recent snapshots > 500 MB) every 60 and only while the tenant is foregrounded (a pull in
//! the last 5 minutes or a `fresh=true`). `fresh=true` also wakes it for that user's
//! visible hot widgets at once. Rows come from [`crate::snapshots`], so repeated results
//! are byte-identical. Snapshots are appended through the same path as admin snapshots;
//! the generator then keeps the newest [`HISTORY_KEEP`] per widget in the log.

use crate::activity;
use crate::error::ApiError;
use crate::log;
use crate::snapshots::{snapshot_row, WidgetInfo, HEAVY_BYTES};
use crate::sql::Sql;
use crate::state::{AppState, Wake};
use crate::timefmt::{DAY_MS, MINUTE_MS};
use crate::users;
use crate::visibility::Visibility;
use crate::{args, log::write_transaction};
use std::time::Duration;
use sync_core::protocol::{Kind, Row};
use tokio::sync::mpsc::Receiver;

/// Snapshots per widget the generator leaves in the log (devices keep their own newest N).
pub const HISTORY_KEEP: usize = 48;
const ONLINE_WINDOW_MS: i64 = DAY_MS;
const FOREGROUND_WINDOW_MS: i64 = 5 * MINUTE_MS;
/// Snapshots of a widget whose bytes decide whether it is heavy.
const P95_WINDOW: usize = 20;

/// The advisory lock of the periodic pass: with several server processes on one PostgreSQL
/// database, one of them generates at a time (`fresh=true` wake-ups run where they arrive:
/// the tenant's row lock keeps them from appending the same snapshot twice).
pub const GENERATOR_LOCK: i64 = 0x7379_6e63_6765_6e00;

/// Runs until the wake-up channel closes (when the server stops).
pub async fn run(state: AppState, mut wake: Receiver<Wake>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let result = tokio::select! {
            _ = tick.tick() => state
                .db
                .exclusively(GENERATOR_LOCK, || tick_once(&state))
                .await
                .map(Option::unwrap_or_default),
            w = wake.recv() => match w {
                Some(w) => wake_user(&state, w).await,
                None => return,
            },
        };
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(snapshots = n, "generator appended snapshots"),
            Err(e) => tracing::warn!(error = %e, "generator pass failed"),
        }
    }
}

/// One pass over every online tenant; returns how many snapshots were appended.
pub async fn tick_once(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now_ms();
    let tenants = state
        .db
        .call(move |conn| {
            activity::active_tenants(conn, now, ONLINE_WINDOW_MS, FOREGROUND_WINDOW_MS)
        })
        .await?;
    let mut total = 0;
    for (tenant, foreground) in tenants {
        total += state
            .db
            .call(move |conn| generate_due(conn, &tenant, now, foreground))
            .await?;
    }
    Ok(total)
}

async fn wake_user(state: &AppState, wake: Wake) -> Result<usize, ApiError> {
    let now = state.clock.now_ms();
    state
        .db
        .call(move |conn| generate_fresh(conn, &wake.tenant_id, &wake.user_id, now))
        .await
}

/// A live widget, its dashboard and the time of its newest snapshot.
struct LiveWidget {
    info: WidgetInfo,
    dashboard_id: String,
    newest_ms: Option<i64>,
}

fn live_widgets(conn: &dyn Sql, tenant: &str) -> Result<Vec<LiveWidget>, ApiError> {
    let rows = conn.query(
        "SELECT w.parent_id, w.body,
                (SELECT MAX(s.ts_ms) FROM rows s WHERE s.tenant_id = w.tenant_id
                   AND s.kind = 'WidgetSnapshot' AND s.parent_id = w.key)
         FROM rows w WHERE w.tenant_id = ?1 AND w.kind = 'Widget' AND w.deleted = 0",
        args![tenant],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let body: Row = serde_json::from_str(r.str(1)?)?;
        if let Some(info) = WidgetInfo::from_row(&body) {
            out.push(LiveWidget {
                info,
                dashboard_id: r.opt_string(0)?.unwrap_or_default(),
                newest_ms: r.opt_i64(2)?,
            });
        }
    }
    Ok(out)
}

/// p95 of the widget's recent `bytesScanned`; the cost model when it has no history.
fn is_heavy(
    conn: &dyn Sql,
    tenant: &str,
    info: &WidgetInfo,
    now_ms: i64,
) -> Result<bool, ApiError> {
    let mut bytes = conn
        .query(
            "SELECT bytes_scanned FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot'
               AND parent_id = ?2 AND bytes_scanned IS NOT NULL ORDER BY ts_ms DESC LIMIT ?3",
            args![tenant, info.id, P95_WINDOW],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect::<Result<Vec<_>, _>>()?;
    if bytes.is_empty() {
        return Ok(info.estimated_bytes(now_ms / (60 * MINUTE_MS)) > HEAVY_BYTES);
    }
    bytes.sort_unstable();
    let rank = (bytes.len() * 95).div_ceil(100).max(1) - 1;
    Ok(bytes[rank] > HEAVY_BYTES)
}

fn append(conn: &dyn Sql, tenant: &str, info: &WidgetInfo, at_ms: i64) -> Result<(), ApiError> {
    log::append_snapshot(conn, tenant, &snapshot_row(info, at_ms))?;
    log::prune_snapshots(conn, tenant, &info.id, HISTORY_KEEP)?;
    Ok(())
}

/// Appends the snapshots that are due at `now_ms` for one tenant.
pub fn generate_due(
    conn: &dyn Sql,
    tenant: &str,
    now_ms: i64,
    foreground: bool,
) -> Result<usize, ApiError> {
    write_transaction(conn, tenant, |tx| {
        let mut appended = 0;
        for w in live_widgets(tx, tenant)? {
            let bucket = |cadence: i64| now_ms - now_ms.rem_euclid(cadence);
            // The heavy (hourly) bucket never starts after the light one, so a widget that is
            // not due on its light cadence is not due at all: skip the p95 query.
            if w.newest_ms
                .is_some_and(|n| bucket(w.info.cadence_ms(false)) <= n)
            {
                continue;
            }
            let heavy = is_heavy(tx, tenant, &w.info, now_ms)?;
            if heavy && !foreground {
                continue;
            }
            let at = bucket(w.info.cadence_ms(heavy));
            if w.newest_ms.is_some_and(|n| at <= n) {
                continue;
            }
            append(tx, tenant, &w.info, at)?;
            appended += 1;
        }
        Ok(appended)
    })
}

/// `fresh=true`: a snapshot now for each hot widget the user can see.
pub fn generate_fresh(
    conn: &dyn Sql,
    tenant: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<usize, ApiError> {
    write_transaction(conn, tenant, |tx| {
        let Some(user) = users::load(tx, tenant, user_id)? else {
            return Ok(0);
        };
        let visibility = Visibility::load(tx, tenant, &user)?;
        let at = now_ms - now_ms.rem_euclid(1000);
        let mut appended = 0;
        for w in live_widgets(tx, tenant)? {
            let visible = visibility.admits(Kind::Widget, &w.info.id, Some(&w.dashboard_id), None);
            if w.info.is_hot() && visible && w.newest_ms.is_none_or(|n| n < at) {
                append(tx, tenant, &w.info, at)?;
                appended += 1;
            }
        }
        Ok(appended)
    })
}
