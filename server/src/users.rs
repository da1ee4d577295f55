//! Users of a tenant: role, the properties they may see, their token digest and whether
//! their access binding is revoked.
//!
//! Tokens are stored as SHA-256 digests, so the database never holds a usable bearer
//! token and comparing digests leaks nothing useful through timing.

use crate::args;
use crate::error::ApiError;
use crate::sql::{Sql, SqlRow};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use sync_core::protocol::Kind;

/// One user as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub role: String,
    pub display_name: String,
    /// Property ids this user may see; `None` means every property of the tenant.
    pub properties: Option<HashSet<String>>,
    pub revoked: bool,
    /// Kinds named by the revocation; `None` means all kinds.
    pub revoked_kinds: Option<Vec<Kind>>,
    token_sha256: String,
}

impl UserRecord {
    /// True when `token` is this user's bearer token.
    pub fn token_matches(&self, token: &str) -> bool {
        token_digest(token) == self.token_sha256
    }

    /// True when the user may see rows of `property_id`.
    pub fn sees_property(&self, property_id: &str) -> bool {
        self.properties
            .as_ref()
            .is_none_or(|set| set.contains(property_id))
    }
}

/// What creating a user needs.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub token: &'a str,
    pub role: &'a str,
    pub display_name: &'a str,
    pub properties: Option<&'a [String]>,
}

pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

const COLUMNS: &str = "id, role, display_name, properties, revoked, revoked_kinds, token_sha256";

fn from_row(r: &SqlRow) -> Result<UserRecord, ApiError> {
    Ok(UserRecord {
        id: r.string(0)?,
        role: r.string(1)?,
        display_name: r.string(2)?,
        properties: r.opt_str(3)?.map(serde_json::from_str).transpose()?,
        revoked: r.bool(4)?,
        revoked_kinds: r.opt_str(5)?.map(serde_json::from_str).transpose()?,
        token_sha256: r.string(6)?,
    })
}

pub fn load(conn: &dyn Sql, tenant: &str, user: &str) -> Result<Option<UserRecord>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2");
    conn.query_opt(&sql, args![tenant, user])?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every user of the tenant, in id order.
pub fn all(conn: &dyn Sql, tenant: &str) -> Result<Vec<UserRecord>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 ORDER BY id");
    conn.query(&sql, args![tenant])?
        .iter()
        .map(from_row)
        .collect()
}

pub fn insert(conn: &dyn Sql, tenant: &str, user: &NewUser<'_>) -> Result<(), ApiError> {
    let properties = user.properties.map(serde_json::to_string).transpose()?;
    conn.execute(
        "INSERT INTO users (tenant_id, id, token_sha256, role, display_name, properties)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            tenant,
            user.id,
            token_digest(user.token),
            user.role,
            user.display_name,
            properties
        ],
    )?;
    Ok(())
}

/// Revokes (`Some(kinds)`, where an empty list means all kinds) or restores (`None`) a
/// user's access. Returns the user as it was before, or `NotFound`.
pub fn set_revoked(
    conn: &dyn Sql,
    tenant: &str,
    user: &str,
    revoke: Option<&[Kind]>,
) -> Result<UserRecord, ApiError> {
    let before = load(conn, tenant, user)?
        .ok_or_else(|| ApiError::NotFound(format!("user {user} in {tenant}")))?;
    let (flag, kinds) = match revoke {
        None => (0, None),
        Some([]) => (1, None),
        Some(kinds) => (1, Some(serde_json::to_string(kinds)?)),
    };
    conn.execute(
        "UPDATE users SET revoked = ?3, revoked_kinds = ?4 WHERE tenant_id = ?1 AND id = ?2",
        args![tenant, user, flag, kinds],
    )?;
    Ok(before)
}

/// Changes a user's role and/or visible properties (`Some(None)` = every property).
/// Returns the user as it was before, or `NotFound`.
pub fn set_scope(
    conn: &dyn Sql,
    tenant: &str,
    user: &str,
    role: Option<&str>,
    properties: Option<Option<&[String]>>,
) -> Result<UserRecord, ApiError> {
    let before = load(conn, tenant, user)?
        .ok_or_else(|| ApiError::NotFound(format!("user {user} in {tenant}")))?;
    if let Some(role) = role {
        conn.execute(
            "UPDATE users SET role = ?3 WHERE tenant_id = ?1 AND id = ?2",
            args![tenant, user, role],
        )?;
    }
    if let Some(properties) = properties {
        let json = properties.map(serde_json::to_string).transpose()?;
        conn.execute(
            "UPDATE users SET properties = ?3 WHERE tenant_id = ?1 AND id = ?2",
            args![tenant, user, json],
        )?;
    }
    Ok(before)
}

#[cfg(test)]
pub mod tests_support {
    use super::*;

    /// A user with every property and no revocation, for unit tests.
    pub fn user(id: &str, role: &str) -> UserRecord {
        UserRecord {
            id: id.into(),
            role: role.into(),
            display_name: id.into(),
            properties: None,
            revoked: false,
            revoked_kinds: None,
            token_sha256: token_digest("t"),
        }
    }
}
