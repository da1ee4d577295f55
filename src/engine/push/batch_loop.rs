//! The push loop (PROTOCOL §4, §5): the outbox drained in queue order, batch by batch, then
//! the deferred commands replayed in order.
//!
//! 1. Paused while access is revoked (a 403): typed `forbidden`, nothing sent.
//! 2. Crash recovery: a batch stored in flight by an earlier call — or by a page that died
//!    between storing and settling it — is re-sent first, byte-identical (same body, same
//!    `Idempotency-Key`), so the server answers it from its idempotency store and applies
//!    nothing twice.
//! 3. Then, repeatedly: the oldest ≤ `batch_size` ops, fixed into a [`PushBatch`] and
//!    stored (`begin_batch`, durable) BEFORE the request leaves, sent, and settled in one
//!    transaction (see `push/outcome.rs`). A batch whose answer left some ops unsettled
//!    ends the loop: those ops keep their place and go out first on the next call, so
//!    renames of one query are never reordered.
//! 4. Whole-request failures never dead-letter an op (PROTOCOL §9.3): 401 once retried then
//!    `unauthorized`; 403 sets the revoked flag and returns `forbidden`; 429/5xx/408/
//!    network/timeout/a body that is not JSON are retried with backoff up to
//!    `max_attempts`, then a typed retryable error; `too_many_ops` and 413 release the batch
//!    and go on with batches half as big; any other answer the contract does not name (a
//!    proxy's 404 page, 405, 415, a results list that is not one result per op) is
//!    `push_rejected` with its status. In every case but the split the batch stays stored
//!    and is re-sent as it was by the next call.
//! 5. Deferred commands (`push/command_replay.rs`).

use crate::engine::clock::{Clock, Random};
use crate::engine::net::transport::Transport;
use crate::engine::push::batch::{batch_request, build_batch, sent_ops};
use crate::engine::push::command_replay::replay_commands;
use crate::engine::push::config::PushConfig;
use crate::engine::push::context::PushContext;
use crate::engine::push::error::PushError;
use crate::engine::push::exchange::exchange;
use crate::engine::push::outcome::{read_batch_answer, BatchAnswer};
use crate::engine::push::report::{PushProgress, PushReport};
use crate::engine::store::cache::Store;
use crate::engine::store::outbox::{OpSettlement, OutboxStore, PushBatch};
use crate::protocol::Kind;

/// Whether the loop may take another batch after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    /// Some ops of the batch were left waiting; they go first next call.
    Stop,
    /// The server refused the batch as too large: go on with batches of at most this many.
    Split(usize),
}

/// Pushes queued renames, then replays deferred commands. `progress` is called after every
/// settled batch and every settled command.
pub async fn push<S, T, C, R>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    config: &PushConfig,
    progress: &mut dyn FnMut(&PushProgress),
) -> Result<PushReport, PushError>
where
    S: Store + OutboxStore,
    T: Transport,
    C: Clock,
    R: Random,
{
    config.validate()?;
    if store.meta().await?.access_revoked {
        return Err(PushError::Forbidden);
    }
    let started = clock.now_ms();
    let cx = PushContext {
        transport,
        clock,
        random,
        config,
    };
    let mut report = PushReport::default();
    let mut flow = Flow::Continue;
    // Halved after each `too_many_ops`/413 answer, for the rest of this call.
    let mut batch_size = config.batch_size;
    if let Some(batch) = store.in_flight_batch().await? {
        report.resent_in_flight = true;
        flow = send_batch(store, &cx, &batch, &mut report).await?;
        if let Flow::Split(size) = flow {
            batch_size = batch_size.min(size);
            flow = Flow::Continue;
        }
        progress(&report.progress());
    }
    while flow == Flow::Continue {
        // No batch is in flight here, so every queued op is waiting; an `in_flight` mark
        // without a stored batch cannot be honoured and is ignored rather than stranding
        // the op forever.
        let waiting: Vec<_> = store.outbox().await?.into_iter().take(batch_size).collect();
        if waiting.is_empty() {
            break;
        }
        let batch = build_batch(&waiting, clock.now_ms()).map_err(|e| PushError::BadRequest {
            status: 0,
            error: format!("could not serialize the batch: {e}"),
        })?;
        store.begin_batch(&batch).await?;
        if !batch_still_current(store, &waiting).await? {
            // Another context coalesced a newer name into one of these ops between our read
            // and `begin_batch`: sending the captured body would apply the older name and
            // then drop the op. Release and rebuild; ops now in flight can no longer change,
            // so the rebuilt batch is current.
            store.settle_batch(&batch.key, &[]).await?;
            continue;
        }
        flow = send_batch(store, &cx, &batch, &mut report).await?;
        if let Flow::Split(size) = flow {
            batch_size = size;
            flow = Flow::Continue;
        }
        progress(&report.progress());
    }
    replay_commands(store, &cx, &mut report, progress).await?;
    report.duration_ms = clock.now_ms().saturating_sub(started);
    Ok(report)
}

/// True when every op captured in a just-begun batch is still stored exactly as captured
/// (same op id, name and expected version).
async fn batch_still_current<S: OutboxStore>(
    store: &S,
    captured: &[crate::engine::store::outbox::OutboxOp],
) -> Result<bool, PushError> {
    let stored = store.outbox().await?;
    Ok(captured.iter().all(|c| {
        stored.iter().any(|s| {
            s.seq == c.seq
                && s.op_id == c.op_id
                && s.name_i18n == c.name_i18n
                && s.expected_version == c.expected_version
        })
    }))
}

/// Sends the stored `batch` and settles it.
async fn send_batch<S, T, C, R>(
    store: &S,
    cx: &PushContext<'_, T, C, R>,
    batch: &PushBatch,
    report: &mut PushReport,
) -> Result<Flow, PushError>
where
    S: Store + OutboxStore,
    T: Transport,
    C: Clock,
    R: Random,
{
    let Some(sent) = sent_ops(batch) else {
        // A stored batch that cannot be read back cannot be matched with any answer.
        // Releasing it puts its ops back in the queue; they are rebuilt into a new batch
        // (with the same key if the same ops), so nothing is lost.
        store.settle_batch(&batch.key, &[]).await?;
        return Ok(Flow::Continue);
    };
    let request = batch_request(batch);
    let answer = exchange(
        cx.transport,
        cx.clock,
        cx.random,
        cx.config,
        &request,
        &mut report.retries,
        |response| {
            read_batch_answer(
                response,
                &sent,
                cx.clock.now_ms(),
                cx.random,
                &cx.config.user_id,
            )
        },
    )
    .await?;
    let settled = match answer {
        BatchAnswer::Settled(settled) => settled,
        // The batch stays stored: the next call sends it again as it was.
        BatchAnswer::Refused(refusal) => return Err(refusal.end_call(store).await),
        BatchAnswer::Split => {
            // Released (its ops keep their place, marked sent) and rebuilt smaller.
            store.settle_batch(&batch.key, &[]).await?;
            report.retries += 1;
            return Ok(Flow::Split((sent.len() / 2).max(1)));
        }
    };
    store.settle_batch(&batch.key, &settled.settlements).await?;
    report.batches += 1;
    report.ops_unanswered += settled.retried.len() as u64;
    for s in &settled.settlements {
        match s {
            OpSettlement::Applied { .. } => report.ops_applied += 1,
            OpSettlement::Conflict { conflict, .. } => {
                report.conflicts += 1;
                report.new_conflicts.push(conflict.id.clone());
            }
            OpSettlement::DeadLetter { .. } => report.dead_letters += 1,
            OpSettlement::Retry { .. } => {}
        }
    }
    if settled.settlements.len() > settled.retried.len() {
        report.changed_kinds.insert(Kind::Query);
    }
    Ok(if settled.retried.is_empty() {
        Flow::Continue
    } else {
        Flow::Stop
    })
}
