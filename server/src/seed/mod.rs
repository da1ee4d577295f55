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

use crate::args;
use crate::epochs;
use crate::error::ApiError;
use crate::log;
use crate::sql::{transaction, Sql, TxMode};
use crate::users::{self, NewUser};
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

pub fn tenant_exists(conn: &dyn Sql, tenant: &str) -> Result<bool, ApiError> {
    Ok(log::last_position(conn, tenant)?.is_some())
}

/// Creates a new tenant in one transaction; `409` if it exists.
pub fn create_tenant(
    conn: &dyn Sql,
    spec: &TenantSpec,
    now_ms: i64,
) -> Result<TenantSummary, ApiError> {
    spec.validate()?;
    transaction(conn, TxMode::Write, |tx| {
        if tenant_exists(tx, &spec.tenant_id)? {
            return Err(ApiError::Conflict(format!(
                "tenant {} exists",
                spec.tenant_id
            )));
        }
        write_tenant(tx, spec, now_ms)
    })
}

/// Replaces a tenant's data (or creates it). Positions continue from where the old log
/// ended and every user's epochs advance, so devices holding old cursors reset and refill.
pub fn reseed_tenant(
    conn: &dyn Sql,
    spec: &TenantSpec,
    now_ms: i64,
) -> Result<TenantSummary, ApiError> {
    spec.validate()?;
    transaction(conn, TxMode::Write, |tx| {
        // The tenant's row lock first, so no other writer interleaves with the reseed.
        let existed = log::lock_tenant(tx, &spec.tenant_id)?.is_some();
        // The write history belongs to the data it changed: a re-seeded tenant starts clean.
        for table in [
            "rows",
            "users",
            "push_ops",
            "push_applications",
            "idempotent_answers",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE tenant_id = ?1"),
                args![spec.tenant_id],
            )?;
        }
        let summary = write_tenant(tx, spec, now_ms)?;
        if existed {
            let ids: Vec<&str> = summary.users.iter().map(|u| u.user_id.as_str()).collect();
            epochs::bump_all(tx, &spec.tenant_id, ids, &Kind::ALL)?;
        }
        Ok(summary)
    })
}

fn write_tenant(conn: &dyn Sql, spec: &TenantSpec, now_ms: i64) -> Result<TenantSummary, ApiError> {
    let anchor = now_ms - now_ms.rem_euclid(5 * 60_000);
    let data = build::build(spec, anchor);
    conn.execute(
        "INSERT INTO tenants (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        args![spec.tenant_id, data.name],
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
pub fn live_counts(conn: &dyn Sql, tenant: &str) -> Result<BTreeMap<Kind, usize>, ApiError> {
    let mut counts: BTreeMap<Kind, usize> = Kind::ALL.into_iter().map(|k| (k, 0)).collect();
    let rows = conn.query(
        "SELECT kind, COUNT(*) FROM rows WHERE tenant_id = ?1 AND deleted = 0 GROUP BY kind",
        args![tenant],
    )?;
    for row in rows {
        if let Ok(kind) = row.str(0)?.parse::<Kind>() {
            counts.insert(kind, usize::try_from(row.u64(1)?).unwrap_or(usize::MAX));
        }
    }
    Ok(counts)
}
