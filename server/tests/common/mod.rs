//! In-process test harness: the real router over an in-memory database, called with
//! `tower::ServiceExt::oneshot` (no ports), with a loopback peer address like a local client.

#![allow(dead_code)]

mod write;
#[allow(unused_imports)]
pub use write::*;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use sync_server::{router, AppState, Db, ServerOptions, TEST_ADMIN_TOKEN};
use tower::ServiceExt;

pub const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 50_000);

pub struct TestServer {
    pub state: AppState,
    pub router: Router,
}

pub fn server() -> TestServer {
    server_with(test_db(), ServerOptions::for_tests())
}

/// The database a test runs on: a private in-memory SQLite database, or, when
/// `SYNC_TEST_DATABASE_URL` names a PostgreSQL server (`make test-server` starts a throwaway
/// cluster and runs the suite once per backend), a fresh database of its own on that server.
pub fn test_db() -> Db {
    match postgres_url() {
        Some(url) => Db::open_with_pool(&fresh_postgres_database(&url), 4).unwrap(),
        None => Db::open(":memory:").unwrap(),
    }
}

/// The PostgreSQL server of this run, if the suite runs on PostgreSQL.
pub fn postgres_url() -> Option<String> {
    std::env::var("SYNC_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Two handles on one fresh database, as two server processes would open it: two pools on
/// PostgreSQL, two connections to one file on SQLite. The file lives in `dir`.
pub fn replica_dbs(dir: &std::path::Path) -> (Db, Db) {
    let location = match postgres_url() {
        Some(url) => fresh_postgres_database(&url),
        None => dir.join("replicas.db").to_string_lossy().into_owned(),
    };
    (
        Db::open_with_pool(&location, 4).unwrap(),
        Db::open_with_pool(&location, 4).unwrap(),
    )
}

/// Creates a database of its own on the server of `url`; its URL.
pub fn fresh_postgres_database(url: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = Db::open_with_pool(url, 1).unwrap();
    admin
        .with(|c| c.execute_batch(&format!("CREATE DATABASE {name}")))
        .unwrap();
    let base = &url[..url.rfind('/').expect("a database URL ends in /<database>")];
    format!("{base}/{name}")
}

pub fn server_with(db: Db, options: ServerOptions) -> TestServer {
    let (state, _wake) = AppState::new(db, options);
    TestServer {
        router: router(state.clone()),
        state,
    }
}

/// A device of a seeded user.
#[derive(Debug, Clone)]
pub struct Device {
    pub tenant: String,
    pub user: String,
    pub device: String,
    pub token: String,
}

impl Device {
    pub fn new(tenant: &str, user: &str, device: &str, token: &str) -> Self {
        Device {
            tenant: tenant.into(),
            user: user.into(),
            device: device.into(),
            token: token.into(),
        }
    }

    pub fn other_device(&self, device: &str) -> Self {
        Device {
            device: device.into(),
            ..self.clone()
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn items(&self) -> Vec<Value> {
        self.json()["items"].as_array().cloned().unwrap_or_default()
    }
}

impl TestServer {
    pub async fn send(&self, mut req: Request<Body>, peer: Option<SocketAddr>) -> Reply {
        if let Some(peer) = peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// An admin request as a local tool sends it: loopback peer, the admin token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {TEST_ADMIN_TOKEN}"));
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap(), Some(LOOPBACK.into()))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.admin(Method::POST, path, Some(body)).await
    }

    /// Creates a tenant through the admin API and returns its summary.
    pub async fn tenant(&self, spec: Value) -> Value {
        let r = self.post("/admin/tenants", spec).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }

    /// A device of the tenant's `index`-th user (from a tenant summary).
    pub fn device(summary: &Value, index: usize, device: &str) -> Device {
        let u = &summary["users"][index];
        Device::new(
            summary["tenantId"].as_str().unwrap(),
            u["userId"].as_str().unwrap(),
            device,
            u["token"].as_str().unwrap(),
        )
    }

    pub async fn pull_query(&self, dev: &Device, query: &str) -> Reply {
        let req = Request::builder()
            .uri(format!("/internal/sync/pull{query}"))
            .header("X-Tenant-Id", &dev.tenant)
            .header("X-User-Id", &dev.user)
            .header("X-Device-Id", &dev.device)
            .header("Authorization", format!("Bearer {}", dev.token))
            .body(Body::empty())
            .unwrap();
        self.send(req, Some(LOOPBACK.into())).await
    }

    pub async fn pull(&self, dev: &Device, cursor: Option<&str>, page_size: usize) -> Reply {
        let mut q = format!("?pageSize={page_size}");
        if let Some(c) = cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        self.pull_query(dev, &q).await
    }

    /// Pulls until drained; returns every item in order, the page count and the cursor.
    pub async fn drain(
        &self,
        dev: &Device,
        cursor: Option<String>,
        page_size: usize,
    ) -> (Vec<Value>, usize, String) {
        let mut cursor = cursor;
        let mut items = Vec::new();
        for pages in 1..=100_000 {
            let r = self.pull(dev, cursor.as_deref(), page_size).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let page = r.json();
            let got = page["items"].as_array().cloned().unwrap_or_default();
            assert!(
                got.len() <= page_size,
                "page of {} items for pageSize {page_size}",
                got.len()
            );
            sync_core::protocol::parse_pull_page(&r.body)
                .expect("page parses with the client's parser");
            items.extend(got);
            cursor = Some(page["nextCursor"].as_str().unwrap().to_string());
            if page["drained"] == json!(true) {
                return (items, pages, cursor.unwrap_or_default());
            }
        }
        panic!("never drained");
    }
}

/// `(kind, key)` of an item (snapshots: `widgetId|generatedAt`).
pub fn item_key(item: &Value) -> (String, String) {
    let kind = item["kind"].as_str().unwrap_or_default().to_string();
    let row = &item["row"];
    let key = match kind.as_str() {
        "WidgetSnapshot" => format!(
            "{}|{}",
            row["widgetId"].as_str().unwrap_or_default(),
            row["generatedAt"].as_str().unwrap_or_default()
        ),
        "MetricDefinition" | "Projection" => row["key"]
            .as_str()
            .or(item["id"].as_str())
            .unwrap_or_default()
            .to_string(),
        _ => row["id"]
            .as_str()
            .or(item["id"].as_str())
            .unwrap_or_default()
            .to_string(),
    };
    (kind, key)
}

pub fn small_spec(tenant: &str) -> Value {
    json!({"tenantId": tenant, "users": 4, "dashboards": 10, "widgetsPerDashboard": 3,
           "snapshotsPerWidget": 2, "alerts": 6, "queries": 6, "seed": 7})
}
