//! The server: shared state, the router, and `serve`.

use crate::activity::Activity;
use crate::admin::{self, AdminAccess};
use crate::authoring;
use crate::clock::SimClock;
use crate::cors;
use crate::db::Db;
use crate::error::json_response;
use crate::faults::FaultBook;
use crate::pull;
use crate::push;
use crate::users::hex;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;
use sync_core::protocol::cursor::{CursorCodec, CursorKey};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The key of `--insecure-dev-cursor-key` and of in-process tests. Never for production:
/// anyone can forge cursors signed with it.
pub const DEV_CURSOR_KEY: &str = "sync-server-dev-cursor-key-do-not-use-in-production";

/// The admin token of [`ServerOptions::for_tests`].
pub const TEST_ADMIN_TOKEN: &str = "sync-server-test-admin-token";

/// A cursor key from its secret; its id is the first 16 hex chars of SHA-256(secret).
pub fn cursor_key(secret: &str) -> CursorKey {
    let id = hex(&Sha256::digest(secret.as_bytes()));
    CursorKey::new(&id[..16], secret.as_bytes())
}

/// How to run.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Mount `/admin/*` behind this token and origin list; `None` = no admin API.
    pub admin: Option<AdminAccess>,
    pub codec: CursorCodec,
    /// Simulated time runs this many times faster than real time.
    pub time_scale: f64,
    /// Run the snapshot generator.
    pub generator: bool,
}

impl ServerOptions {
    /// Admin on (token [`TEST_ADMIN_TOKEN`]), generator off, dev key: what in-process
    /// tests want.
    pub fn for_tests() -> Self {
        ServerOptions {
            admin: Some(AdminAccess::new(TEST_ADMIN_TOKEN, Vec::new())),
            codec: CursorCodec::new(cursor_key(DEV_CURSOR_KEY), None),
            time_scale: 1.0,
            generator: false,
        }
    }
}

/// A request from `fresh=true` for the generator to look at a user's hot widgets now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wake {
    pub tenant_id: String,
    pub user_id: String,
}

/// Shared by every request and the generator.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub codec: Arc<CursorCodec>,
    pub clock: Arc<SimClock>,
    pub faults: Arc<FaultBook>,
    pub activity: Arc<Activity>,
    pub admin: Option<Arc<AdminAccess>>,
    wake: Option<mpsc::Sender<Wake>>,
}

/// Most `fresh=true` wake-ups waiting for the generator. When it is behind, further
/// wake-ups are dropped (the request is still answered; its snapshots come with the
/// generator's next regular pass) instead of queueing without bound.
pub const WAKE_QUEUE: usize = 1024;

impl AppState {
    /// The state, and the generator's wake-up receiver when the generator is enabled.
    pub fn new(db: Db, options: ServerOptions) -> (AppState, Option<mpsc::Receiver<Wake>>) {
        let (wake, rx) = if options.generator {
            let (tx, rx) = mpsc::channel(WAKE_QUEUE);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let state = AppState {
            db,
            codec: Arc::new(options.codec),
            clock: Arc::new(SimClock::new(options.time_scale)),
            faults: Arc::new(FaultBook::default()),
            activity: Arc::new(Activity::default()),
            admin: options.admin.map(Arc::new),
            wake,
        };
        (state, rx)
    }

    pub fn wake_generator(&self, tenant: &str, user: &str) {
        if let Some(tx) = &self.wake {
            // Full (the generator is behind) or closed (the server stops): no wake-up.
            let _ = tx.try_send(Wake {
                tenant_id: tenant.to_string(),
                user_id: user.to_string(),
            });
        }
    }
}

/// Every route, with CORS. Admin routes exist only when `state.admin` is set.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/internal/sync/pull", get(pull::pull))
        .route("/internal/sync/push", post(push::push))
        .merge(authoring::router());
    if let Some(access) = &state.admin {
        router = router.merge(admin::router(access.clone()));
    }
    router
        .fallback(|| async {
            json_response(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "not_found"}),
            )
        })
        .layer(cors::layer())
        .with_state(state)
}

/// Serves until Ctrl-C, printing `listening on http://HOST:PORT` once the socket is bound.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    wake: Option<mpsc::Receiver<Wake>>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if let Some(rx) = wake {
        tokio::spawn(crate::generator::run(state.clone(), rx));
    }
    println!("listening on http://{addr}");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
