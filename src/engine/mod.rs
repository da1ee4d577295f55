//! Platform-free sync logic: no wasm-bindgen, web-sys, js-sys, idb or gloo here.
//!
//! Entry points: [`pull()`] (the pull loop), [`apply_page`]/[`plan_page`] (what happens to a
//! page), the reads [`freshness()`] and [`latest_snapshot`]; on the push side
//! [`rename_query`]/[`edit`], [`enqueue_command`], [`push()`], [`resolve_conflict`],
//! [`requeue_dead_letter`]/[`drop_dead_letter`], [`sync()`] and the reads [`queries_with_pending`], [`pending()`], [`open_conflicts`],
//! [`dead_letters()`]. Storage, HTTP, time and
//! randomness come in through [`Store`], [`Transport`], [`Clock`] and [`Random`];
//! the test doubles of `testing/` ([`MemoryStore`], [`ScriptedTransport`] with [`ServerLog`] and
//! [`PushServer`], [`ManualClock`], [`SeededRandom`]) implement them for native tests; they exist
//! only under `cfg(test)` or the `testing` feature, which the integration tests turn on.
//!
//! Folders by concept: `pull/` (a page fetched, decoded, planned, committed), `push/` (edits
//! sent and settled), `store/` (the storage traits and the reads over them), `net/` (transport,
//! retry), `testing/` (the doubles); shared leaves at the top (`canonical`, `es_number`, `ids`,
//! `clock`, `time`, `error_code`, `error_info`, `sync`). Every module is private: this file is the one path to each item.

mod canonical;
mod clock;
mod error_code;
mod error_info;
mod es_number;
mod ids;
mod net;
mod pull;
mod push;
mod sorting;
mod store;
mod sync;
#[cfg(any(test, feature = "testing"))]
mod testing;
mod time;

pub use canonical::{canonical_json, rows_digest, text_digest};
pub use clock::{Clock, Random};
pub use error_code::ErrorCode;
pub use error_info::ErrorInfo;
pub use sorting::{sort_by, sort_by_key, sort_dedup};
pub use sync::{sync, sync_keeping, SyncError, SyncReport};

pub use pull::apply_plan::{
    apply_page, apply_page_cached, metas_of, plan_items, plan_metas, plan_page, state_request,
    IndexPlan, PagePlan, PageSummary,
};
pub use pull::config::{PullConfig, MAX_PAGE_SIZE, MAX_SNAPSHOT_BYTES};
pub use pull::decoded_page::{decode_json_page, DecodedPage};
pub use pull::error::PullError;
pub use pull::fetch::pull_path;
pub use pull::integrity::{
    check_integrity, check_integrity_with, IntegrityFinding, IntegrityReads, IntegrityScope,
    StoreReads, WidgetRef,
};
pub use pull::item_meta::{item_meta, metas_request, ItemMeta};
pub use pull::page_loop::{pull, pull_keeping};
pub use pull::privacy::strip_item;
pub use pull::replacement::{decode_mark, encode_mark, plan_sweep, ReplacementStep, Swept};
pub use pull::report::{PullProgress, PullReport};
pub use pull::snapshot_retention::{generated_at_order, Retained, SnapshotRetention};
pub use pull::state_cache::StateCache;

pub use push::batch::{batch_request, build_batch};
pub use push::batch_loop::push;
pub use push::command_replay::{read_command_answer, CommandAnswer};
pub use push::commands::{enqueue_command, if_match_header, COMMAND_PATH_PREFIX};
pub use push::config::PushConfig;
pub use push::conflicts::{parse_resolution, resolve_conflict, Resolved};
pub use push::dead_letters::{drop_dead_letter, requeue_dead_letter};
pub use push::edit_error::EditError;
pub use push::error::PushError;
pub use push::exchange::Refusal;
pub use push::outcome::{read_batch_answer, BatchAnswer};
pub use push::rename::{edit, rename_query, validate_name, MAX_NAME_BYTES};
pub use push::report::{PushProgress, PushReport};

pub use store::cache::{
    ApplyPlan, HeldIndex, HeldPart, HeldScan, LocalState, SnapshotMeta, StateRequest, Store,
    StoreError, StoredRow, StoredSnapshot, SyncMeta,
};
pub use store::cache_reads::{latest_snapshot, latest_snapshots, open_alerts, snapshots};
pub use store::freshness::{compute_freshness, freshness, Freshness};
pub use store::held_index::{raised_version_id, raised_version_key};
pub use store::outbox::{
    CommandSettlement, Conflict, ConflictSource, DeadLetter, DeadLetterRequeue, DeferredCommand,
    OpSettlement, OutboxOp, OutboxStore, Pending, PushBatch, RenameIntent, Requeue, RequeueOutcome,
    Resolution,
};
pub use store::outbox_plan::{
    apply_rename, batch_in_flight, plan_rename, plan_settlement, Recorded, RenamePlan, RowUpdate,
    SettlementPlan,
};
pub use store::outbox_reads::{
    dead_letters, open_conflicts, outbox_counts, pending, queries_with_pending, OutboxCounts,
    PENDING_NAME_FIELD,
};

pub use net::retry::{retry_after_ms, Backoff, Jitter, RetryPolicy};
pub use net::retry_gate::GatedTransport;
pub use net::transport::{
    check_path, HttpRequest, HttpResponse, Method, Transport, TransportError,
};

#[cfg(any(test, feature = "testing"))]
pub use testing::{
    manual_clock::ManualClock,
    memory_store::{MemoryContents, MemoryStore},
    outbox_contents::OutboxContents,
    push_server::{Fault, NameChange, PushServer, ServerEntity},
    scripted_transport::ScriptedTransport,
    seeded_random::SeededRandom,
    server_log::ServerLog,
};
