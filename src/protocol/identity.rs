//! The identity every request carries (PROTOCOL §1).

/// Header names of the identity triple.
pub const TENANT_HEADER: &str = "X-Tenant-Id";
pub const USER_HEADER: &str = "X-User-Id";
pub const DEVICE_HEADER: &str = "X-Device-Id";

/// Who is syncing: one (tenant, user, device). All local data of one (tenant, user) lives in
/// its own database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub tenant_id: String,
    pub user_id: String,
    pub device_id: String,
}

/// Why an identity is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must look like `{prefix}…` (letters, digits, `_` or `-`, at most 64 chars)")]
pub struct BadIdentity {
    pub field: &'static str,
    pub prefix: &'static str,
}

fn well_formed(value: &str, prefix: &str) -> bool {
    value.len() > prefix.len()
        && value.len() <= 64
        && value.starts_with(prefix)
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Identity {
    pub fn new(tenant_id: &str, user_id: &str, device_id: &str) -> Result<Self, BadIdentity> {
        for (field, prefix, value) in [
            ("tenantId", "tnt_", tenant_id),
            ("userId", "usr_", user_id),
            ("deviceId", "dev_", device_id),
        ] {
            if !well_formed(value, prefix) {
                return Err(BadIdentity { field, prefix });
            }
        }
        Ok(Identity {
            tenant_id: tenant_id.into(),
            user_id: user_id.into(),
            device_id: device_id.into(),
        })
    }

    /// The IndexedDB database name of this (tenant, user). Identities are restricted to
    /// `[A-Za-z0-9_-]`, so the name is unambiguous.
    pub fn database_name(&self) -> String {
        format!("sync-core:{}:{}", self.tenant_id, self.user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_prefixes() {
        assert!(Identity::new("tnt_demo", "usr_alice", "dev_1").is_ok());
        assert!(Identity::new("demo", "usr_alice", "dev_1").is_err());
        assert!(Identity::new("tnt_demo", "usr_a:b", "dev_1").is_err());
        assert!(Identity::new("tnt_", "usr_a", "dev_1").is_err());
    }
}
