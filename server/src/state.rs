//! What every request handler and the generator share ([`AppState`]), how the server is
//! configured ([`ServerOptions`]) and the keys of development and tests. A leaf the routes
//! import; the router (`routes/mod.rs`) and `serve` (`app.rs`) build on it.

use crate::activity::PullMarks;
use crate::clock::SimClock;
use crate::db::Db;
use crate::faults::FaultBook;
use crate::routes::admin::AdminAccess;
use crate::users::hex;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use sync_core::protocol::cursor::{CursorCodec, CursorKey};
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
    pub pull_marks: Arc<PullMarks>,
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
            pull_marks: Arc::new(PullMarks::default()),
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
