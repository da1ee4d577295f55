//! Helpers for the write side: push requests, authoring commands, admin reads.

use super::{Device, Reply, TestServer, LOOPBACK};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use sync_core::protocol::push::idempotency_key;

/// One rename op.
pub fn op(op_id: &str, query_id: &str, expected_version: u64, name: &str) -> Value {
    json!({"opId": op_id, "kind": "Query", "id": query_id, "expectedVersion": expected_version,
           "patch": {"name_i18n": {"default": name}}})
}

/// The `Idempotency-Key` of a batch: SHA-256 of its op ids.
pub fn key_of(ops: &[Value]) -> String {
    idempotency_key(ops.iter().map(|o| o["opId"].as_str().unwrap_or_default()))
}

impl TestServer {
    /// A request from `dev` with its identity and token, plus `headers`.
    pub async fn call(
        &self,
        dev: &Device,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("X-Tenant-Id", &dev.tenant)
            .header("X-User-Id", &dev.user)
            .header("X-Device-Id", &dev.device)
            .header("Authorization", format!("Bearer {}", dev.token));
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let body = body.map_or_else(Body::empty, Body::from);
        self.send(req.body(body).unwrap(), Some(LOOPBACK.into()))
            .await
    }

    /// `POST /internal/sync/push` with an explicit key (or none) and raw body.
    pub async fn push_raw(&self, dev: &Device, key: Option<&str>, body: &str) -> Reply {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.call(
            dev,
            Method::POST,
            "/internal/sync/push",
            Some(body.to_string()),
            &headers,
        )
        .await
    }

    /// A push of `ops` with the right key.
    pub async fn push(&self, dev: &Device, ops: &[Value]) -> Reply {
        let body = json!({ "ops": ops }).to_string();
        self.push_raw(dev, Some(&key_of(ops)), &body).await
    }

    /// A push that must answer 200; returns its results.
    pub async fn push_ok(&self, dev: &Device, ops: &[Value]) -> Vec<Value> {
        let r = self.push(dev, ops).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["results"].as_array().cloned().unwrap()
    }

    /// An authoring command.
    pub async fn command(
        &self,
        dev: &Device,
        method: Method,
        path: &str,
        body: Value,
        if_match: Option<&str>,
        key: Option<&str>,
    ) -> Reply {
        let mut headers = Vec::new();
        if let Some(v) = if_match {
            headers.push(("If-Match", v));
        }
        if let Some(k) = key {
            headers.push(("Idempotency-Key", k));
        }
        self.call(dev, method, path, Some(body.to_string()), &headers)
            .await
    }

    /// The server's row (`GET /admin/rows`): `{version, deleted, position, row}`.
    pub async fn row(&self, tenant: &str, kind: &str, key: &str) -> Value {
        let r = self
            .admin(
                Method::GET,
                &format!("/admin/rows?tenantId={tenant}&kind={kind}&key={key}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }

    pub async fn push_log(&self, tenant: &str) -> Value {
        let r = self
            .admin(
                Method::GET,
                &format!("/admin/push-log?tenantId={tenant}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }

    /// Times `op_id` was applied, from the push log.
    pub async fn applied(&self, tenant: &str, op_id: &str) -> u64 {
        let log = self.push_log(tenant).await;
        log["ops"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["opId"] == op_id)
            .map(|o| o["applied"].as_u64().unwrap())
            .sum()
    }

    pub async fn inject(&self, tenant: &str, target: &str, fault: Value) {
        let r = self
            .post(
                "/admin/faults",
                json!({"tenantId": tenant, "target": target, "count": 1, "fault": fault}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }

    /// The live rows of `kind` a cold start of `dev` receives.
    pub async fn pulled_rows(&self, dev: &Device, kind: &str) -> Vec<Value> {
        let (items, _, _) = self.drain(dev, None, 2000).await;
        items
            .into_iter()
            .filter(|i| i["kind"] == kind && i["op"] == "upsert")
            .collect()
    }

    /// Ids of the saved queries `dev`'s user owns, in pull order.
    pub async fn query_ids(&self, dev: &Device) -> Vec<String> {
        self.pulled_rows(dev, "Query")
            .await
            .iter()
            .map(|i| i["row"]["id"].as_str().unwrap().to_string())
            .collect()
    }
}

// Authoring helpers.

pub const DASHBOARDS: &str = "/api/v1/analytics/dashboards";

pub async fn first_key(s: &TestServer, dev: &Device, kind: &str) -> String {
    s.pulled_rows(dev, kind).await[0]["row"]["key"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Creates a dashboard as `dev` and returns the answer body.
pub async fn create(s: &TestServer, dev: &Device, body: Value) -> Value {
    let r = s
        .command(dev, Method::POST, DASHBOARDS, body, None, None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

pub async fn put(
    s: &TestServer,
    dev: &Device,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> Reply {
    s.command(
        dev,
        Method::PUT,
        &format!("{DASHBOARDS}/{id}"),
        body,
        if_match,
        None,
    )
    .await
}

pub fn upserts_of<'a>(items: &'a [Value], kind: &str, id: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|i| i["kind"] == kind && i["op"] == "upsert" && i["row"]["id"] == id)
        .collect()
}
