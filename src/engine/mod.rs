//! Platform-free sync logic: no wasm-bindgen, web-sys, js-sys, idb or gloo here.
//!
//! Entry points: [`pull()`] (the pull loop), [`apply_page`]/[`plan_page`] (what happens to a
//! page), the reads [`freshness()`] and [`latest_snapshot`]. Storage, HTTP, time and
//! randomness come in through [`Store`], [`Transport`], [`Clock`] and [`Random`];
//! [`MemoryStore`], [`ScriptedTransport`] (+ [`ServerLog`]), [`ManualClock`] and
//! [`SeededRandom`] implement them for native tests.

pub mod apply_plan;
pub mod canonical;
pub mod clock;
pub mod config;
pub mod error;
pub mod freshness;
pub mod integrity;
pub mod manual_clock;
pub mod memory_store;
pub mod outbox_store;
pub mod privacy;
pub mod pull;
pub mod reads;
pub mod report;
pub mod retry;
pub mod scripted_transport;
pub mod seeded_random;
pub mod server_log;
pub mod snapshot_retention;
pub mod store;
pub mod time;
pub mod transport;

pub use apply_plan::{apply_page, plan_page, state_request, PagePlan, PageSummary};
pub use canonical::{canonical_json, rows_digest};
pub use clock::{Clock, Random};
pub use config::{PullConfig, MAX_PAGE_SIZE, MAX_SNAPSHOT_BYTES};
pub use error::PullError;
pub use freshness::{compute_freshness, freshness, Freshness};
pub use integrity::{check_integrity, IntegrityFinding, IntegrityScope};
pub use manual_clock::ManualClock;
pub use memory_store::{MemoryContents, MemoryStore};
pub use pull::pull;
pub use reads::{latest_snapshot, open_alerts, snapshots};
pub use report::{PullProgress, PullReport};
pub use retry::{retry_after_ms, Backoff, Jitter};
pub use scripted_transport::ScriptedTransport;
pub use seeded_random::SeededRandom;
pub use server_log::ServerLog;
pub use snapshot_retention::{generated_at_order, Retained, SnapshotRetention};
pub use store::{
    ApplyPlan, LocalState, SnapshotMeta, StateRequest, Store, StoreError, StoredRow,
    StoredSnapshot, SyncMeta,
};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
