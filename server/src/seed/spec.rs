//! How big a demo tenant to make ([`TenantSpec`], the body of `POST /admin/tenants`) and the
//! limits it is checked against. A leaf of `seed/`: the builder (`build.rs`) reads it and the
//! seeding entry points (`mod.rs`) take it.

use crate::error::ApiError;
use serde::Deserialize;
use sync_core::protocol::identity::Identity;

/// How big a tenant to make. The JSON form is the body of `POST /admin/tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TenantSpec {
    pub tenant_id: String,
    pub users: usize,
    pub dashboards: usize,
    pub widgets_per_dashboard: usize,
    pub snapshots_per_widget: usize,
    pub alerts: usize,
    pub queries: usize,
    pub seed: u64,
}

impl Default for TenantSpec {
    fn default() -> Self {
        TenantSpec {
            tenant_id: "tnt_demo".into(),
            users: 4,
            dashboards: 10,
            widgets_per_dashboard: 8,
            snapshots_per_widget: 12,
            alerts: 8,
            queries: 6,
            seed: 1,
        }
    }
}

/// Largest tenant the server builds in one request.
const MAX_ITEMS: usize = 1_000_000;

impl TenantSpec {
    pub fn validate(&self) -> Result<(), ApiError> {
        Identity::new(&self.tenant_id, "usr_check", "dev_check")
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if self.users == 0 || self.users > 1000 {
            return Err(ApiError::BadRequest(
                "users must be between 1 and 1000".into(),
            ));
        }
        let items = self
            .dashboards
            .saturating_mul(
                self.widgets_per_dashboard
                    .saturating_mul(self.snapshots_per_widget.saturating_add(1))
                    .saturating_add(1),
            )
            .saturating_add(self.alerts)
            .saturating_add(self.queries);
        if items > MAX_ITEMS {
            return Err(ApiError::BadRequest(format!(
                "at most {MAX_ITEMS} items per tenant"
            )));
        }
        Ok(())
    }
}
