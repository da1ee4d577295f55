//! Who is pulling, kept in the database so that every server process sharing it sees the
//! same (stateless replicas): the `fresh=true` rate limit per device (wall-clock time,
//! because `Retry-After` is real seconds) and, per tenant, when devices last pulled and last
//! asked for fresh data (simulated time, because the snapshot generator runs on it).
//!
//! Bounded (PROTOCOL §9.10): `fresh_requests` loses every entry older than the window each
//! time one is admitted, and `tenant_activity` has at most one row per existing tenant. The
//! one thing held in memory, [`PullMarks`], only spares the database a write per pull; it
//! is capped too.

use crate::args;
use crate::error::ApiError;
use crate::sql::Sql;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use sync_core::protocol::identity::Identity;

/// One `fresh=true` per device per this window (PROTOCOL §3, reference server).
pub const FRESH_WINDOW: Duration = Duration::from_secs(30);
/// A tenant's last pull is written at most this often (simulated ms): the generator's
/// windows (5 minutes foreground, 24 hours online) do not need it finer.
pub const PULL_MARK_EVERY_MS: i64 = 60_000;
/// Most tenants whose last written pull time is remembered.
pub const MAX_TENANTS: usize = 10_000;

/// Admits one `fresh=true` for the device at wall-clock `wall_ms`, or says how many whole
/// seconds to wait. Also marks the tenant as asking for fresh data at simulated `now_ms`.
pub fn claim_fresh(
    conn: &dyn Sql,
    id: &Identity,
    wall_ms: i64,
    now_ms: i64,
) -> Result<Result<(), u64>, ApiError> {
    let window = FRESH_WINDOW.as_millis() as i64;
    let admitted = conn
        .query_opt(
            "INSERT INTO fresh_requests (tenant_id, user_id, device_id, at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, user_id, device_id) DO UPDATE SET at_ms = excluded.at_ms
               WHERE fresh_requests.at_ms <= ?4 - ?5
             RETURNING at_ms",
            args![id.tenant_id, id.user_id, id.device_id, wall_ms, window],
        )?
        .is_some();
    if !admitted {
        let at = conn
            .query_opt(
                "SELECT at_ms FROM fresh_requests WHERE tenant_id = ?1 AND user_id = ?2 AND device_id = ?3",
                args![id.tenant_id, id.user_id, id.device_id],
            )?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(wall_ms);
        let wait_ms = (at + window - wall_ms).clamp(1, window);
        return Ok(Err(((wait_ms + 999) / 1000) as u64));
    }
    conn.execute(
        "DELETE FROM fresh_requests WHERE at_ms <= ?1",
        args![wall_ms - window],
    )?;
    conn.execute(
        "INSERT INTO tenant_activity (tenant_id, last_pull_ms, last_fresh_ms) VALUES (?1, NULL, ?2)
         ON CONFLICT (tenant_id) DO UPDATE SET last_fresh_ms = excluded.last_fresh_ms",
        args![id.tenant_id, now_ms],
    )?;
    Ok(Ok(()))
}

/// Records a served pull of the tenant at simulated time `now_ms`.
pub fn record_pull(conn: &dyn Sql, tenant: &str, now_ms: i64) -> Result<(), ApiError> {
    conn.execute(
        "INSERT INTO tenant_activity (tenant_id, last_pull_ms, last_fresh_ms) VALUES (?1, ?2, NULL)
         ON CONFLICT (tenant_id) DO UPDATE SET last_pull_ms = excluded.last_pull_ms",
        args![tenant, now_ms],
    )?;
    Ok(())
}

/// Tenants with a pull within `window_ms` before `now_ms` (seed 000 §8: "online devices"),
/// in id order, with whether each is foregrounded: a pull or a `fresh=true` within
/// `foreground_ms`.
pub fn active_tenants(
    conn: &dyn Sql,
    now_ms: i64,
    window_ms: i64,
    foreground_ms: i64,
) -> Result<Vec<(String, bool)>, ApiError> {
    conn.query(
        "SELECT tenant_id, last_pull_ms, last_fresh_ms FROM tenant_activity
         WHERE last_pull_ms >= ?1 ORDER BY tenant_id",
        args![now_ms - window_ms],
    )?
    .iter()
    .map(|r| {
        let recent = |at: Option<i64>| at.is_some_and(|at| now_ms - at <= foreground_ms);
        Ok((r.string(0)?, recent(r.opt_i64(1)?) || recent(r.opt_i64(2)?)))
    })
    .collect()
}

/// When this process last wrote each tenant's pull time, so that a busy tenant costs one
/// write per [`PULL_MARK_EVERY_MS`] instead of one per pull.
#[derive(Debug)]
pub struct PullMarks {
    written: Mutex<HashMap<String, i64>>,
    max_tenants: usize,
}

impl Default for PullMarks {
    fn default() -> Self {
        PullMarks::with_cap(MAX_TENANTS)
    }
}

impl PullMarks {
    pub fn with_cap(max_tenants: usize) -> PullMarks {
        PullMarks {
            written: Mutex::default(),
            max_tenants: max_tenants.max(1),
        }
    }

    /// Whether a pull at `now_ms` should be written (and remembers it as written). Time
    /// moving backwards (a reset simulated clock) writes again.
    pub fn due(&self, tenant: &str, now_ms: i64) -> bool {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = written.get(tenant) {
            if (0..PULL_MARK_EVERY_MS).contains(&(now_ms - at)) {
                return false;
            }
        }
        if !written.contains_key(tenant) && written.len() >= self.max_tenants {
            // Forgetting a tenant only costs it one early write.
            if let Some(oldest) = written
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(t, _)| t.clone())
            {
                written.remove(&oldest);
            }
        }
        written.insert(tenant.to_string(), now_ms);
        true
    }

    pub fn len(&self) -> usize {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::apply(&conn).unwrap();
        conn
    }

    #[test]
    fn fresh_is_limited_per_device() {
        let conn = db();
        let dev1 = Identity::new("tnt_a", "usr_a", "dev_1").unwrap();
        let dev2 = Identity::new("tnt_a", "usr_a", "dev_2").unwrap();
        assert_eq!(claim_fresh(&conn, &dev1, 1_000, 7).unwrap(), Ok(()));
        let wait = claim_fresh(&conn, &dev1, 1_000, 7).unwrap().unwrap_err();
        assert_eq!(wait, 30);
        assert_eq!(claim_fresh(&conn, &dev1, 21_500, 7).unwrap(), Err(10));
        assert_eq!(claim_fresh(&conn, &dev2, 1_000, 7).unwrap(), Ok(()));
        assert_eq!(claim_fresh(&conn, &dev1, 31_000, 7).unwrap(), Ok(()));
        record_pull(&conn, "tnt_b", 1000).unwrap();
        // tnt_a asked for fresh data but has not pulled: not online.
        assert_eq!(
            active_tenants(&conn, 2000, 5000, 100).unwrap(),
            vec![("tnt_b".to_string(), false)]
        );
        record_pull(&conn, "tnt_a", 1990).unwrap();
        assert_eq!(
            active_tenants(&conn, 2000, 5000, 100).unwrap(),
            vec![("tnt_a".to_string(), true), ("tnt_b".to_string(), false)]
        );
        assert!(active_tenants(&conn, 10_000, 5000, 100).unwrap().is_empty());
    }

    #[test]
    fn expired_fresh_entries_are_dropped() {
        let conn = db();
        for d in 0..10 {
            let id = Identity::new("tnt_a", "usr_a", &format!("dev_{d}")).unwrap();
            assert_eq!(claim_fresh(&conn, &id, d * 1000, 0).unwrap(), Ok(()));
        }
        let late = Identity::new("tnt_a", "usr_a", "dev_late").unwrap();
        assert_eq!(claim_fresh(&conn, &late, 100_000, 0).unwrap(), Ok(()));
        let conn: &dyn Sql = &conn;
        let left = conn
            .query_one("SELECT COUNT(*) FROM fresh_requests", &[])
            .unwrap()
            .u64(0)
            .unwrap();
        assert_eq!(left, 1, "only the entry still inside its window is kept");
    }

    #[test]
    fn pull_marks_are_throttled_and_capped() {
        let marks = PullMarks::with_cap(2);
        assert!(marks.due("tnt_a", 0));
        assert!(!marks.due("tnt_a", PULL_MARK_EVERY_MS - 1));
        assert!(marks.due("tnt_a", PULL_MARK_EVERY_MS));
        assert!(marks.due("tnt_a", 5), "a clock moved back writes again");
        for t in 0..5 {
            assert!(marks.due(&format!("tnt_{t}"), 10 + t));
        }
        assert_eq!(marks.len(), 2);
    }
}
