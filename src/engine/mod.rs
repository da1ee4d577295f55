//! Platform-free sync logic: no wasm-bindgen, web-sys, js-sys, idb or gloo here.
//!
//! Entry points: [`pull()`] (the pull loop), [`apply_page`]/[`plan_page`] (what happens to a
//! page), the reads [`freshness()`] and [`latest_snapshot`]; on the push side
//! [`rename_query`]/[`edit`], [`enqueue_command`], [`push()`], [`resolve_conflict`],
//! [`requeue_dead_letter`]/[`drop_dead_letter`], [`sync()`] and the reads [`queries_with_pending`], [`pending()`], [`open_conflicts`],
//! [`dead_letters()`]. Storage, HTTP, time and
//! randomness come in through [`Store`], [`Transport`], [`Clock`] and [`Random`];
//! [`MemoryStore`], [`ScriptedTransport`] (+ [`ServerLog`], [`PushServer`]), [`ManualClock`] and
//! [`SeededRandom`] implement them for native tests.

pub mod apply_plan;
pub mod cached_reads;
pub mod canonical;
pub mod clock;
pub mod command_replay;
pub mod commands;
pub mod config;
pub mod conflicts;
pub mod dead_letters;
pub mod decoded_page;
pub mod edit_error;
pub mod error;
pub mod es_number;
pub mod freshness;
pub mod ids;
pub mod integrity;
pub mod item_meta;
pub mod local_reads;
pub mod manual_clock;
pub mod memory_outbox;
pub mod memory_store;
pub mod outbox_store;
pub mod overlap;
pub mod planner;
pub mod privacy;
pub mod pull;
pub mod pull_fetch;
mod pull_run;
pub mod push;
pub mod push_batch;
pub mod push_config;
pub mod push_error;
pub mod push_exchange;
pub mod push_outcome;
pub mod push_report;
pub mod push_server;
pub mod push_server_authoring;
pub mod read_ahead;
pub mod reads;
pub mod rename;
pub mod replacement;
pub mod report;
pub mod retry;
pub mod retry_gate;
pub mod scripted_transport;
pub mod seeded_random;
pub mod server_log;
pub mod snapshot_retention;
pub mod state_cache;
pub mod store;
pub mod sync;
pub mod time;
pub mod transport;

pub use apply_plan::{
    apply_page, apply_page_cached, metas_of, plan_items, plan_metas, plan_page, state_request,
    IndexPlan, PagePlan, PageSummary,
};
pub use canonical::{canonical_json, rows_digest};
pub use clock::{Clock, Random};
pub use commands::{enqueue_command, if_match_header, COMMAND_PATH_PREFIX};
pub use config::{PullConfig, MAX_PAGE_SIZE, MAX_SNAPSHOT_BYTES};
pub use conflicts::{parse_resolution, resolve_conflict, Resolved};
pub use dead_letters::{drop_dead_letter, requeue_dead_letter, DeadLetterRequeue, RequeueOutcome};
pub use decoded_page::{decode_json_page, DecodedPage};
pub use edit_error::EditError;
pub use error::PullError;
pub use freshness::{compute_freshness, freshness, Freshness};
pub use integrity::{
    check_integrity, check_integrity_with, IntegrityFinding, IntegrityReads, IntegrityScope,
    StoreReads, WidgetRef,
};
pub use item_meta::{item_meta, metas_request, ItemMeta};
pub use local_reads::{
    dead_letters, open_conflicts, outbox_counts, pending, queries_with_pending, OutboxCounts,
    Pending, PENDING_NAME_FIELD,
};
pub use manual_clock::ManualClock;
pub use memory_outbox::OutboxContents;
pub use memory_store::{MemoryContents, MemoryStore};
pub use outbox_store::{
    CommandSettlement, Conflict, ConflictSource, DeadLetter, DeferredCommand, OpSettlement,
    OutboxOp, OutboxStore, PushBatch, RenameIntent, Requeue, Resolution,
};
pub use pull::pull;
pub use push::push;
pub use push_config::PushConfig;
pub use push_error::PushError;
pub use push_report::{PushProgress, PushReport};
pub use push_server::{Fault, NameChange, PushServer, ServerEntity};
pub use reads::{latest_snapshot, latest_snapshots, open_alerts, snapshots};
pub use rename::{edit, rename_query, validate_name, MAX_NAME_BYTES};
pub use replacement::{plan_sweep, ReplacementStep, Swept};
pub use report::{PullProgress, PullReport};
pub use retry::{retry_after_ms, Backoff, Jitter};
pub use retry_gate::GatedTransport;
pub use scripted_transport::ScriptedTransport;
pub use seeded_random::SeededRandom;
pub use server_log::ServerLog;
pub use snapshot_retention::{generated_at_order, Retained, SnapshotRetention};
pub use state_cache::StateCache;
pub use store::{
    ApplyPlan, LocalState, SnapshotMeta, StateRequest, Store, StoreError, StoredRow,
    StoredSnapshot, SyncMeta,
};
pub use sync::{sync, SyncError, SyncReport};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
