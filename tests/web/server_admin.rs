//! A client of the reference server's admin API (`/admin/...`, on with `--admin`, loopback
//! only, with the admin token of [`admin_token`]), for browser tests that need to change
//! what the server serves: a tenant of their
//! own, row upserts and tombstones, snapshot appends, epoch bumps, revocation and injected
//! faults. Every call panics with the server's answer when it is refused, so a broken
//! fixture shows up as a clear test failure rather than as a confusing assertion later.

use super::support::{admin_token, fetch, server_url};
use serde_json::{json, Value};
use sync_core::protocol::identity::Identity;
use sync_core::protocol::Kind;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit};

/// Sends one admin request; returns the status and the JSON answer (`Null` if none).
async fn admin_call(method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let headers = Headers::new().unwrap();
    headers
        .set("Authorization", &format!("Bearer {}", admin_token()))
        .unwrap();
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").unwrap();
        init.set_body(&JsValue::from_str(&body.to_string()));
    }
    init.set_headers(&headers);
    let url = format!("{}{path}", server_url());
    let request = Request::new_with_str_and_init(&url, &init).unwrap();
    let response = fetch(&request).await.unwrap_or_else(|e| {
        panic!("{method} {url} failed (is the server running with --admin?): {e:?}")
    });
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap_or_default();
    (
        response.status(),
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// POSTs `body` to an admin path and returns the JSON answer; panics unless it is a 2xx.
pub async fn admin_post(path: &str, body: Value) -> Value {
    let (status, answer) = admin_call("POST", path, Some(&body)).await;
    assert!(
        (200..300).contains(&status),
        "POST {path} {body} → {status}: {answer}"
    );
    answer
}

/// GETs an admin path; panics unless it is a 2xx.
pub async fn admin_get(path: &str) -> Value {
    let (status, answer) = admin_call("GET", path, None).await;
    assert!(
        (200..300).contains(&status),
        "GET {path} → {status}: {answer}"
    );
    answer
}

/// A random suffix for ids no earlier test or run used.
fn unique_suffix() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}{random:x}", js_sys::Date::now() as u64)
}

/// The size of a tenant to create (`POST /admin/tenants`); one user, `usr_alice`, a manager
/// who sees every property.
#[derive(Debug, Clone, Copy)]
pub struct TenantSize {
    pub dashboards: usize,
    pub widgets_per_dashboard: usize,
    pub snapshots_per_widget: usize,
    pub alerts: usize,
    pub queries: usize,
}

impl TenantSize {
    /// A few rows of every kind: enough for behaviour tests, quick to pull.
    pub const SMALL: TenantSize = TenantSize {
        dashboards: 4,
        widgets_per_dashboard: 3,
        snapshots_per_widget: 2,
        alerts: 3,
        queries: 3,
    };
}

/// A tenant created for one test, with the identity and token of its user.
#[derive(Debug, Clone)]
pub struct TestTenant {
    pub identity: Identity,
    pub token: String,
}

impl TestTenant {
    /// Creates a fresh tenant (random `tnt_…` id) of `size`; the device id is fresh too.
    pub async fn create(prefix: &str, size: TenantSize) -> TestTenant {
        let suffix = unique_suffix();
        let tenant_id = format!("tnt_{prefix}{suffix}");
        let summary = admin_post(
            "/admin/tenants",
            json!({"tenantId": tenant_id, "users": 1, "dashboards": size.dashboards,
                   "widgetsPerDashboard": size.widgets_per_dashboard,
                   "snapshotsPerWidget": size.snapshots_per_widget,
                   "alerts": size.alerts, "queries": size.queries}),
        )
        .await;
        let user = &summary["users"][0];
        let user_id = user["userId"].as_str().expect("users[0].userId");
        let token = user["token"].as_str().expect("users[0].token").to_string();
        let identity = Identity::new(&tenant_id, user_id, &format!("dev_{suffix}")).unwrap();
        TestTenant { identity, token }
    }

    /// The same tenant and user on a device never used before (a cursor of its own).
    pub fn on_new_device(&self) -> TestTenant {
        let device = format!("dev_{}", unique_suffix());
        TestTenant {
            identity: Identity::new(self.tenant_id(), self.user_id(), &device).unwrap(),
            token: self.token.clone(),
        }
    }

    pub fn tenant_id(&self) -> &str {
        &self.identity.tenant_id
    }

    pub fn user_id(&self) -> &str {
        &self.identity.user_id
    }

    /// The server's current state of a versioned row: `{version, deleted, position, row}`.
    pub async fn server_row(&self, kind: Kind, key: &str) -> Value {
        admin_get(&format!(
            "/admin/rows?tenantId={}&kind={kind}&key={key}",
            self.tenant_id()
        ))
        .await
    }

    /// Upserts `row` (its key field names it); the server bumps the version. Returns
    /// `{version, position}`.
    pub async fn upsert(&self, kind: Kind, row: Value) -> Value {
        admin_post(
            "/admin/rows",
            json!({"tenantId": self.tenant_id(), "kind": kind, "op": "upsert", "row": row}),
        )
        .await
    }

    /// Tombstones a versioned row (a dashboard takes its widgets along, a widget its
    /// snapshots).
    pub async fn tombstone(&self, kind: Kind, id: &str) -> Value {
        admin_post(
            "/admin/rows",
            json!({"tenantId": self.tenant_id(), "kind": kind, "op": "tombstone", "id": id}),
        )
        .await
    }

    /// Appends a snapshot to `widget_id` with these `rows`. Without `params_hash` the
    /// widget's own is used; without `generated_at` the server picks a time later than the
    /// widget's newest snapshot. Returns `{position, generatedAt}`.
    pub async fn append_snapshot(
        &self,
        widget_id: &str,
        rows: Value,
        params_hash: Option<&str>,
    ) -> Value {
        let mut body = json!({"tenantId": self.tenant_id(), "widgetId": widget_id, "rows": rows});
        if let Some(hash) = params_hash {
            body["paramsHash"] = json!(hash);
        }
        admin_post("/admin/snapshots", body).await
    }

    /// Advances the user's snapshot epoch of `kind`: the next page starts with its reset.
    pub async fn bump_epoch(&self, kind: Kind) {
        admin_post(
            "/admin/epoch",
            json!({"tenantId": self.tenant_id(), "userId": self.user_id(), "kind": kind}),
        )
        .await;
    }

    /// Revokes the user's access: every pull answers 403, naming `kinds` when given.
    pub async fn revoke(&self, kinds: Option<&[Kind]>) {
        let mut body = json!({"tenantId": self.tenant_id(), "userId": self.user_id()});
        if let Some(kinds) = kinds {
            body["kinds"] = json!(kinds);
        }
        admin_post("/admin/revoke", body).await;
    }

    /// Restores access (the revoked kinds get a new epoch).
    pub async fn restore(&self) {
        admin_post(
            "/admin/restore",
            json!({"tenantId": self.tenant_id(), "userId": self.user_id()}),
        )
        .await;
    }

    /// Queues `count` copies of `fault` on this tenant's next pull responses.
    pub async fn inject_pull_faults(&self, fault: Value, count: usize) {
        admin_post(
            "/admin/faults",
            json!({"tenantId": self.tenant_id(), "target": "pull", "count": count,
                   "fault": fault}),
        )
        .await;
    }

    /// Drops every fault still queued for this tenant; returns how many there were.
    pub async fn clear_faults(&self) -> u64 {
        let path = format!("/admin/faults?tenantId={}", self.tenant_id());
        let (status, answer) = admin_call("DELETE", &path, None).await;
        assert!(
            (200..300).contains(&status),
            "DELETE {path} → {status}: {answer}"
        );
        answer["cleared"].as_u64().expect("cleared")
    }
}
