//! Deterministic demo tenants, shared by `sync-server seed`, `serve --seed-demo` and
//! `POST /admin/tenants`.
//!
//! The first user of every tenant is `usr_alice` (manager, every property), the second
//! `usr_bob` (front desk, one property), then `usr_u3`, `usr_u4`… In `tnt_demo` the tokens
//! are `tok_alice`, `tok_bob`, `tok_u3`…; other tenants get tokens derived from (tenant,
//! user, seed), reported in the summary. Row contents are a function of the spec and the
//! anchor time (the clock floored to 5 minutes), so snapshots look recent.

pub mod build;
pub mod catalog;
pub mod rng;
pub mod spec;

pub use spec::TenantSpec;

use crate::epochs;
use crate::error::ApiError;
use crate::log;
use crate::users::{self, NewUser};
use rusqlite::{params, Connection};
use serde::Serialize;
use std::collections::BTreeMap;
use sync_core::protocol::Kind;

/// A created user as reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededUser {
    pub user_id: String,
    pub token: String,
    pub role: String,
}

/// What was created; the JSON answer of `POST /admin/tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    pub tenant_id: String,
    pub name: String,
    pub users: Vec<SeededUser>,
    /// Live rows per kind (alerts older than 7 days are stored but not counted).
    pub counts: BTreeMap<Kind, usize>,
    pub last_position: u64,
}

pub fn tenant_exists(conn: &Connection, tenant: &str) -> Result<bool, ApiError> {
    Ok(log::last_position(conn, tenant)?.is_some())
}

/// Creates a new tenant in one transaction; `409` if it exists.
pub fn create_tenant(
    conn: &mut Connection,
    spec: &TenantSpec,
    now_ms: i64,
) -> Result<TenantSummary, ApiError> {
    spec.validate()?;
    let tx = conn.transaction()?;
    if tenant_exists(&tx, &spec.tenant_id)? {
        return Err(ApiError::Conflict(format!(
            "tenant {} exists",
            spec.tenant_id
        )));
    }
    let summary = write_tenant(&tx, spec, now_ms)?;
    tx.commit()?;
    Ok(summary)
}

/// Replaces a tenant's data (or creates it). Positions continue from where the old log
/// ended and every user's epochs advance, so devices holding old cursors reset and refill.
pub fn reseed_tenant(
    conn: &mut Connection,
    spec: &TenantSpec,
    now_ms: i64,
) -> Result<TenantSummary, ApiError> {
    spec.validate()?;
    let tx = conn.transaction()?;
    let existed = tenant_exists(&tx, &spec.tenant_id)?;
    tx.execute(
        "DELETE FROM rows WHERE tenant_id = ?1",
        params![spec.tenant_id],
    )?;
    tx.execute(
        "DELETE FROM users WHERE tenant_id = ?1",
        params![spec.tenant_id],
    )?;
    // The write history belongs to the data it changed: a re-seeded tenant starts clean.
    for table in ["push_ops", "push_applications", "idempotent_answers"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE tenant_id = ?1"),
            params![spec.tenant_id],
        )?;
    }
    let summary = write_tenant(&tx, spec, now_ms)?;
    if existed {
        let ids: Vec<&str> = summary.users.iter().map(|u| u.user_id.as_str()).collect();
        epochs::bump_all(&tx, &spec.tenant_id, ids, &Kind::ALL)?;
    }
    tx.commit()?;
    Ok(summary)
}

fn write_tenant(
    conn: &Connection,
    spec: &TenantSpec,
    now_ms: i64,
) -> Result<TenantSummary, ApiError> {
    let anchor = now_ms - now_ms.rem_euclid(5 * 60_000);
    let data = build::build(spec, anchor);
    conn.execute(
        "INSERT INTO tenants (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        params![spec.tenant_id, data.name],
    )?;
    for u in &data.users {
        users::insert(
            conn,
            &spec.tenant_id,
            &NewUser {
                id: &u.id,
                token: &u.token,
                role: &u.role,
                display_name: &u.display_name,
                properties: u.properties.as_deref(),
            },
        )?;
    }
    log::insert_fresh(
        conn,
        &spec.tenant_id,
        data.rows.iter().map(|(k, r)| (*k, r)),
        now_ms,
    )?;
    let counts = live_counts(conn, &spec.tenant_id)?;
    let last_position = log::last_position(conn, &spec.tenant_id)?.unwrap_or(0);
    Ok(TenantSummary {
        tenant_id: spec.tenant_id.clone(),
        name: data.name,
        users: data
            .users
            .into_iter()
            .map(|u| SeededUser {
                user_id: u.id,
                token: u.token,
                role: u.role,
            })
            .collect(),
        counts,
        last_position,
    })
}

/// Live rows per kind of a tenant.
pub fn live_counts(conn: &Connection, tenant: &str) -> Result<BTreeMap<Kind, usize>, ApiError> {
    let mut counts: BTreeMap<Kind, usize> = Kind::ALL.into_iter().map(|k| (k, 0)).collect();
    let mut stmt = conn.prepare_cached(
        "SELECT kind, COUNT(*) FROM rows WHERE tenant_id = ?1 AND deleted = 0 GROUP BY kind",
    )?;
    let rows = stmt.query_map(params![tenant], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (kind, n) = row?;
        if let Ok(kind) = kind.parse::<Kind>() {
            counts.insert(kind, usize::try_from(n).unwrap_or(0));
        }
    }
    Ok(counts)
}
