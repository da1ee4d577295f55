//! Durable local edits as the engine sees them: the outbox of rename ops, the push batch in
//! flight, deferred authoring commands, conflicts and dead letters.
//!
//! Every method that changes any of these is ONE transaction with strict durability and
//! returns only after it committed: an edit and its outbox entry land together or not at all
//! (seed 003's transactional outbox). Implementations: `MemoryStore` (native tests) and the
//! IndexedDB store in `web/`.

use crate::engine::net::transport::Method;
use crate::engine::store::error::StoreError;
use crate::protocol::Kind;
use serde::Serialize;
use serde_json::{Map, Value};

/// A queued rename of a saved query (the only edit a device may make).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxOp {
    /// Queue order, assigned by the store, strictly increasing.
    pub seq: u64,
    pub op_id: String,
    pub kind: Kind,
    /// The query's id.
    pub entity_id: String,
    /// The server version this edit was made on.
    pub expected_version: u64,
    /// Same field name as on rows and in push patches (not camelCased).
    #[serde(rename = "name_i18n")]
    #[cfg_attr(feature = "ts", ts(type = "I18n"))]
    pub name_i18n: Map<String, Value>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// True while the op belongs to the stored in-flight batch; such an op is never
    /// coalesced into and never rebuilt into another batch.
    pub in_flight: bool,
    /// True once the op has been in a request (set with `in_flight` and never cleared):
    /// its op id and patch never change again, a later rename is a new op (PROTOCOL §9.4).
    pub sent: bool,
}

/// What a rename asks the store to do; the store coalesces inside its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RenameIntent {
    pub query_id: String,
    pub name_i18n: Map<String, Value>,
    /// Used only if no op of this query waits (not in flight) to be coalesced into.
    pub new_op_id: String,
    pub now_ms: u64,
}

/// A push request fixed before it is sent, so a retry (even after a crash) is byte-identical.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushBatch {
    /// `Idempotency-Key`: hex SHA-256 of the op ids joined by ",".
    pub key: String,
    /// `seq` of the ops it carries, in order.
    pub op_seqs: Vec<u64>,
    /// The exact JSON body sent.
    pub body: String,
    pub created_at_ms: u64,
}

/// Where a conflict came from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ConflictSource {
    /// A rename op answered 409.
    #[serde(rename_all = "camelCase")]
    Op { op_id: String },
    /// A deferred command answered 412.
    #[serde(rename_all = "camelCase")]
    Command { command: DeferredCommand },
}

/// How the user settled a conflict.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Resolution {
    /// Re-send the local edit on top of the server's version.
    KeepLocal,
    /// Drop the local edit.
    AcceptServer,
}

/// A local edit the server refused because the entity changed meanwhile. Immutable once
/// resolved (kept for audit, no longer listed as open).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub id: String,
    pub kind: Kind,
    pub entity_id: String,
    /// The local edit (`{"name_i18n":…}` or the command body).
    pub local: Value,
    /// The server's current state (`{"version":…, …}`).
    pub server: Value,
    pub source: ConflictSource,
    pub created_at_ms: u64,
    pub resolution: Option<Resolution>,
    pub resolved_at_ms: Option<u64>,
}

/// An op or command that failed for good, with the reason.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: String,
    /// `"op"` or `"command"`.
    #[cfg_attr(feature = "ts", ts(type = "\"op\" | \"command\""))]
    pub source: String,
    pub kind: Kind,
    pub entity_id: String,
    /// HTTP status of the refusal (0 when refused locally).
    pub status: u16,
    /// The server's `error` string, or a local reason.
    pub reason: String,
    /// The op or command as it was queued.
    pub payload: Value,
    pub failed_at_ms: u64,
}

/// A queued online-only authoring request (PROTOCOL §5), replayed in order.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredCommand {
    /// Queue order, assigned by the store.
    pub seq: u64,
    /// Also sent as `Idempotency-Key`, so a replay after a lost response is not applied twice.
    pub command_id: String,
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    /// `If-Match` value: the version the user edited.
    pub if_match: Option<String>,
    pub created_at_ms: u64,
}

/// What happened to one op of a settled batch.
#[derive(Debug, Clone, PartialEq)]
pub enum OpSettlement {
    /// The server applied it: drop the op, store `new_version` and the name on the local
    /// Query row, and rebase waiting (not in-flight) ops of the same query whose
    /// `expected_version == applied_on` to `new_version`.
    Applied {
        seq: u64,
        query_id: String,
        applied_on: u64,
        new_version: u64,
        name_i18n: Map<String, Value>,
    },
    /// 409: drop the op, record the conflict.
    Conflict { seq: u64, conflict: Conflict },
    /// Final refusal: drop the op, record the dead letter.
    DeadLetter { seq: u64, dead_letter: DeadLetter },
    /// A transient per-op status (408, 429, 5xx): the server did not apply it. The op keeps
    /// its place and patch and takes `new_op_id`, so the batch that resends it has a new
    /// `Idempotency-Key` and the server's stored answer is not replayed (PROTOCOL §9.4).
    Retry { seq: u64, new_op_id: String },
}

impl OpSettlement {
    /// The `seq` of the op settled.
    pub fn seq(&self) -> u64 {
        match self {
            OpSettlement::Applied { seq, .. }
            | OpSettlement::Conflict { seq, .. }
            | OpSettlement::DeadLetter { seq, .. }
            | OpSettlement::Retry { seq, .. } => *seq,
        }
    }
}

/// What happened to one replayed command.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandSettlement {
    Done,
    Conflict(Conflict),
    DeadLetter(DeadLetter),
}

/// Outbox persistence. All writes are one strict-durability transaction each.
#[allow(async_fn_in_trait)]
pub trait OutboxStore {
    /// Coalesces into the waiting, never-sent op of the same query (keeping its op id and
    /// `expected_version`, replacing the name) or appends a new op whose `expected_version`
    /// is the local Query row's version, read in the same transaction. Returns the op as
    /// stored, or `Ok(None)` (writing nothing) when no Query row with that id is held.
    async fn enqueue_rename(&self, intent: &RenameIntent) -> Result<Option<OutboxOp>, StoreError>;
    /// Every queued op, in `seq` order.
    async fn outbox(&self) -> Result<Vec<OutboxOp>, StoreError>;
    /// The batch fixed before sending and not yet settled (survives a crash).
    async fn in_flight_batch(&self) -> Result<Option<PushBatch>, StoreError>;
    /// Stores `batch` and marks its ops in flight and sent, atomically. Fails if a batch is already
    /// in flight.
    async fn begin_batch(&self, batch: &PushBatch) -> Result<(), StoreError>;
    /// Applies every settlement, clears the in-flight batch and the in-flight mark of ops of
    /// the batch still queued (retried or released: they wait for the next batch),
    /// atomically. With no settlements this releases the batch.
    async fn settle_batch(&self, key: &str, settled: &[OpSettlement]) -> Result<(), StoreError>;

    /// Appends a command; `seq` is assigned by the store. Returns it as stored.
    async fn enqueue_command(
        &self,
        command: &DeferredCommand,
    ) -> Result<DeferredCommand, StoreError>;
    /// Every queued command, in `seq` order.
    async fn commands(&self) -> Result<Vec<DeferredCommand>, StoreError>;
    /// Removes the command `seq` and records what became of it, atomically.
    async fn settle_command(&self, seq: u64, outcome: &CommandSettlement)
        -> Result<(), StoreError>;

    /// Every conflict, open and resolved, oldest first.
    async fn all_conflicts(&self) -> Result<Vec<Conflict>, StoreError>;
    /// Marks the open conflict `id` resolved and, for keep-local, enqueues the re-sent edit,
    /// atomically. Returns `false` (writing nothing) when `id` is unknown or already resolved.
    async fn resolve_conflict(
        &self,
        id: &str,
        resolution: Resolution,
        now_ms: u64,
        requeue: Option<&Requeue>,
    ) -> Result<bool, StoreError>;
    /// Every dead letter, oldest first.
    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError>;
    /// Removes the dead letter `id` and appends `requeue` at the end of the queue (next
    /// seq), atomically. A requeued op's `expected_version` is the local Query row's
    /// version, read in the same transaction. Writes nothing when `id` is unknown or (op)
    /// the query is no longer held, and says which.
    async fn requeue_dead_letter(
        &self,
        id: &str,
        requeue: &DeadLetterRequeue,
    ) -> Result<RequeueOutcome, StoreError>;
    /// Removes the dead letter `id`; `false` (writing nothing) when it is unknown.
    async fn drop_dead_letter(&self, id: &str) -> Result<bool, StoreError>;
}

/// The edit re-queued by a keep-local resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Requeue {
    /// A new rename op on top of the server's version (seq assigned by the store).
    Op {
        op_id: String,
        query_id: String,
        expected_version: u64,
        name_i18n: Map<String, Value>,
        now_ms: u64,
    },
    /// The command again, with `If-Match` set to the server's version.
    Command(DeferredCommand),
}

/// One queued local write, tagged for JS (`{"type":"op",…}` / `{"type":"command",…}`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[cfg_attr(feature = "ts", ts(rename = "PendingItem"))]
pub enum Pending {
    Op(OutboxOp),
    Command(DeferredCommand),
}

/// What a requeue puts at the end of the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum DeadLetterRequeue {
    /// A new rename op; its `expected_version` is the held Query row's version, read by the
    /// store in the requeue's transaction.
    Op {
        op_id: String,
        query_id: String,
        name_i18n: Map<String, Value>,
        now_ms: u64,
    },
    /// The command again under a new id (its `seq` is assigned by the store).
    Command(DeferredCommand),
}

/// What the store did with a requeue.
#[derive(Debug, Clone, PartialEq)]
pub enum RequeueOutcome {
    /// Queued (as stored) and the dead letter removed.
    Queued(Pending),
    /// No dead letter with that id (nothing written).
    UnknownDeadLetter,
    /// An op whose query is no longer held locally (nothing written; the dead letter stays).
    QueryNotHeld,
}
