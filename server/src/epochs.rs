//! Per (user, kind) snapshot epochs. When the epoch a cursor carries for a kind is behind
//! the current one, the next page starts with `{"kind":K,"op":"reset"}` and that kind is
//! served again from the beginning of the log. The server bumps an epoch whenever a user
//! must lose rows it cannot be told about with a tombstone (a dashboard they no longer
//! see, a reseed) or must receive rows whose log positions are already behind them.

use crate::error::ApiError;
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use sync_core::protocol::Kind;

/// The current epoch of every kind for this user (0 when never bumped).
pub fn current(
    conn: &Connection,
    tenant: &str,
    user: &str,
) -> Result<BTreeMap<Kind, u64>, ApiError> {
    let mut out: BTreeMap<Kind, u64> = Kind::ALL.into_iter().map(|k| (k, 0)).collect();
    let mut stmt = conn
        .prepare_cached("SELECT kind, epoch FROM epochs WHERE tenant_id = ?1 AND user_id = ?2")?;
    let rows = stmt.query_map(params![tenant, user], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (kind, epoch) = row?;
        if let Ok(kind) = kind.parse::<Kind>() {
            out.insert(kind, u64::try_from(epoch).unwrap_or(0));
        }
    }
    Ok(out)
}

/// Advances one epoch and returns its new value.
pub fn bump(conn: &Connection, tenant: &str, user: &str, kind: Kind) -> Result<u64, ApiError> {
    let epoch: i64 = conn.query_row(
        "INSERT INTO epochs (tenant_id, user_id, kind, epoch) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (tenant_id, user_id, kind) DO UPDATE SET epoch = epoch + 1
         RETURNING epoch",
        params![tenant, user, kind.as_str()],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(epoch).unwrap_or(0))
}

/// Advances each of `kinds` for each of `users`.
pub fn bump_all<'a>(
    conn: &Connection,
    tenant: &str,
    users: impl IntoIterator<Item = &'a str>,
    kinds: &[Kind],
) -> Result<(), ApiError> {
    for user in users {
        for &kind in kinds {
            bump(conn, tenant, user, kind)?;
        }
    }
    Ok(())
}
