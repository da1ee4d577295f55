//! Per (user, kind) snapshot epochs. When the epoch a cursor carries for a kind is behind
//! the current one, the next page starts with `{"kind":K,"op":"reset"}` and that kind is
//! served again from the beginning of the log. The server bumps an epoch whenever a user
//! must lose rows it cannot be told about with a tombstone (a dashboard they no longer
//! see, a reseed) or must receive rows whose log positions are already behind them.

use crate::args;
use crate::error::ApiError;
use crate::sql::Sql;
use std::collections::BTreeMap;
use sync_core::protocol::Kind;

/// The current epoch of every kind for this user (0 when never bumped).
pub fn current(conn: &dyn Sql, tenant: &str, user: &str) -> Result<BTreeMap<Kind, u64>, ApiError> {
    let mut out: BTreeMap<Kind, u64> = Kind::ALL.into_iter().map(|k| (k, 0)).collect();
    let rows = conn.query(
        "SELECT kind, epoch FROM epochs WHERE tenant_id = ?1 AND user_id = ?2",
        args![tenant, user],
    )?;
    for row in rows {
        if let Ok(kind) = row.str(0)?.parse::<Kind>() {
            out.insert(kind, row.u64(1)?);
        }
    }
    Ok(out)
}

/// Advances one epoch and returns its new value.
pub fn bump(conn: &dyn Sql, tenant: &str, user: &str, kind: Kind) -> Result<u64, ApiError> {
    conn.query_one(
        "INSERT INTO epochs (tenant_id, user_id, kind, epoch) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (tenant_id, user_id, kind) DO UPDATE SET epoch = epochs.epoch + 1
         RETURNING epoch",
        args![tenant, user, kind.as_str()],
    )?
    .u64(0)
}

/// Advances each of `kinds` for each of `users`.
pub fn bump_all<'a>(
    conn: &dyn Sql,
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
