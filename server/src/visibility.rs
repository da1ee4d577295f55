//! Who may see which row (PROTOCOL §2, seed 000 §1).
//!
//! - Dashboard: the owner; anyone it is shared with by user id or role; everyone for scope
//!   `tenant`; users of the dashboard's `role` for scope `role`; users who may see its
//!   `propertyId` for scope `property`.
//! - Widget: when its dashboard is visible. WidgetSnapshot: when its widget and that
//!   widget's dashboard are live and visible.
//! - MetricDefinition: every published metric of the tenant (catalog data, nothing
//!   private; it also means a metric never has to "appear" late for a user).
//! - Query: only the owner's. Projection: all. DqAlertOpen: all open ones of the tenant.
//!
//! Tombstones are judged by the row's last state, so a user is told about the deletion of
//! exactly the rows they could see and never learns another user's ids.

use crate::args;
use crate::error::ApiError;
use crate::sql::Sql;
use crate::users::UserRecord;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use sync_core::protocol::{Kind, Row};

/// The dashboard rule for one user.
pub fn dashboard_visible(row: &Row, user: &UserRecord) -> bool {
    let s = |field: &str| row.get(field).and_then(Value::as_str);
    if s("ownerId") == Some(user.id.as_str()) {
        return true;
    }
    let shared = row
        .get("sharedWith")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries.iter().any(|e| match (e.get("kind"), e.get("id")) {
                (Some(Value::String(k)), Some(Value::String(id))) => {
                    (k == "user" && *id == user.id) || (k == "role" && *id == user.role)
                }
                _ => false,
            })
        });
    if shared {
        return true;
    }
    match s("scope") {
        Some("tenant") => true,
        Some("role") => s("role") == Some(user.role.as_str()),
        Some("property") => s("propertyId").is_some_and(|p| user.sees_property(p)),
        _ => false,
    }
}

/// Everything needed to judge a log row for one user, computed once per request from the
/// current dashboards and widgets of the tenant (a few thousand rows at most).
#[derive(Debug, Default)]
pub struct Visibility {
    user_id: String,
    /// Dashboards the user may see, judged by their last state (deleted ones included).
    visible_dashboards: HashSet<String>,
    /// Dashboards that are not deleted.
    live_dashboards: HashSet<String>,
    /// Live widgets and their dashboard.
    live_widgets: HashMap<String, String>,
}

impl Visibility {
    pub fn load(conn: &dyn Sql, tenant: &str, user: &UserRecord) -> Result<Self, ApiError> {
        let mut v = Visibility {
            user_id: user.id.clone(),
            ..Visibility::default()
        };
        let dashboards = conn.query(
            "SELECT key, deleted, body FROM rows WHERE tenant_id = ?1 AND kind = 'Dashboard'",
            args![tenant],
        )?;
        for r in &dashboards {
            let key = r.string(0)?;
            let body: Row = serde_json::from_str(r.str(2)?)?;
            if !r.bool(1)? {
                v.live_dashboards.insert(key.clone());
            }
            if dashboard_visible(&body, user) {
                v.visible_dashboards.insert(key);
            }
        }
        let widgets = conn.query(
            "SELECT key, parent_id FROM rows
             WHERE tenant_id = ?1 AND kind = 'Widget' AND deleted = 0",
            args![tenant],
        )?;
        for w in &widgets {
            v.live_widgets
                .insert(w.string(0)?, w.opt_string(1)?.unwrap_or_default());
        }
        Ok(v)
    }

    /// Whether a log row of `kind` with these indexed columns may be served to the user.
    pub fn admits(
        &self,
        kind: Kind,
        key: &str,
        parent_id: Option<&str>,
        owner_id: Option<&str>,
    ) -> bool {
        match kind {
            Kind::Dashboard => self.visible_dashboards.contains(key),
            Kind::Widget => parent_id.is_some_and(|d| self.visible_dashboards.contains(d)),
            Kind::WidgetSnapshot => parent_id
                .and_then(|w| self.live_widgets.get(w))
                .is_some_and(|d| {
                    self.live_dashboards.contains(d) && self.visible_dashboards.contains(d)
                }),
            Kind::Query => owner_id == Some(self.user_id.as_str()),
            Kind::MetricDefinition | Kind::Projection | Kind::DqAlertOpen => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: &str, role: &str, props: Option<&[&str]>) -> UserRecord {
        let mut u = crate::users::tests_support::user(id, role);
        u.properties = props.map(|p| p.iter().map(|s| s.to_string()).collect());
        u
    }

    fn row(v: Value) -> Row {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn dashboard_rules() {
        let alice = user("usr_alice", "manager", None);
        let bob = user("usr_bob", "front_desk", Some(&["prp_kbl"]));
        let own = row(json!({"scope":"own","ownerId":"usr_alice","sharedWith":[]}));
        assert!(dashboard_visible(&own, &alice) && !dashboard_visible(&own, &bob));
        let shared = row(
            json!({"scope":"own","ownerId":"usr_alice","sharedWith":[{"kind":"role","id":"front_desk"}]}),
        );
        assert!(dashboard_visible(&shared, &bob));
        let prop = row(json!({"scope":"property","propertyId":"prp_hrt"}));
        assert!(dashboard_visible(&prop, &alice) && !dashboard_visible(&prop, &bob));
        let role = row(json!({"scope":"role","role":"front_desk"}));
        assert!(!dashboard_visible(&role, &alice) && dashboard_visible(&role, &bob));
        let embed = row(
            json!({"scope":"own","ownerId":"usr_x","sharedWith":[{"kind":"embed","id":"usr_bob"}]}),
        );
        assert!(!dashboard_visible(&embed, &bob));
    }
}
