//! [`OutboxStore`] for [`MemoryStore`], keeping the trait's documented semantics exactly
//! (the IndexedDB store is held to the same ones): every write works on a copy of the rows
//! and the outbox and replaces them only when it succeeds, so a failed or refused write
//! changes nothing — the in-memory picture of one strict transaction.
//!
//! The outbox lives beside the replicated rows, not among them: `Store::wipe` (403, 410)
//! never touches ops, the in-flight batch, commands, conflicts or dead letters.

use crate::engine::push::dead_letters::requeued_op;
use crate::engine::store::error::StoreError;
use crate::engine::store::outbox::{
    CommandSettlement, Conflict, DeadLetter, DeferredCommand, OpSettlement, OutboxOp, OutboxStore,
    PushBatch, RenameIntent, Requeue, Resolution,
};
use crate::engine::store::outbox::{DeadLetterRequeue, Pending, RequeueOutcome};
use crate::engine::testing::memory_store::{MemoryContents, MemoryStore};
use crate::engine::testing::outbox_contents::OutboxContents;
use crate::protocol::Kind;
use serde_json::Value;

fn aborted(why: String) -> StoreError {
    StoreError::Aborted(why)
}

impl MemoryStore {
    /// A copy of the outbox side.
    pub fn outbox_contents(&self) -> OutboxContents {
        self.outbox.borrow().clone()
    }

    /// The next outbox write (any `OutboxStore` method that writes) fails with `error` and
    /// writes nothing: what a full disk (`QuotaExceeded`) or a closed connection looks like.
    pub fn fail_next_outbox_write(&self, error: StoreError) {
        *self.fail_next_outbox_write.borrow_mut() = Some(error);
    }

    /// One transaction over the rows and the outbox: `change` works on copies that replace
    /// the stored ones only if it returns `Ok`.
    fn outbox_write<T>(
        &self,
        change: impl FnOnce(&mut MemoryContents, &mut OutboxContents) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(error) = self.fail_next_outbox_write.borrow_mut().take() {
            return Err(error);
        }
        let mut contents = self.contents.borrow().clone();
        let mut outbox = self.outbox.borrow().clone();
        let value = change(&mut contents, &mut outbox)?;
        *self.contents.borrow_mut() = contents;
        *self.outbox.borrow_mut() = outbox;
        Ok(value)
    }
}

/// Stores an applied op's result on the local row, unless pull already brought a newer
/// version, and rebases waiting ops of the query made on the same version.
fn apply_applied(
    c: &mut MemoryContents,
    o: &mut OutboxContents,
    batch: &PushBatch,
    query_id: &str,
    applied_on: u64,
    new_version: u64,
    name_i18n: &serde_json::Map<String, Value>,
) {
    if let Some(row) = c.rows.get_mut(&(Kind::Query, query_id.to_string())) {
        if row.version < new_version {
            row.version = new_version;
            row.row
                .insert("name_i18n".into(), Value::Object(name_i18n.clone()));
        }
    }
    for op in o.ops.values_mut() {
        if op.entity_id == query_id
            && !batch.op_seqs.contains(&op.seq)
            && op.expected_version == applied_on
        {
            op.expected_version = new_version;
        }
    }
}

impl OutboxStore for MemoryStore {
    async fn enqueue_rename(&self, intent: &RenameIntent) -> Result<Option<OutboxOp>, StoreError> {
        self.outbox_write(|c, o| {
            let Some(row) = c.rows.get(&(Kind::Query, intent.query_id.clone())) else {
                return Ok(None);
            };
            let waiting = o.ops.values_mut().rev().find(|op| {
                op.kind == Kind::Query
                    && op.entity_id == intent.query_id
                    && !op.in_flight
                    && !op.sent
            });
            if let Some(op) = waiting {
                op.name_i18n = intent.name_i18n.clone();
                op.updated_at_ms = intent.now_ms;
                return Ok(Some(op.clone()));
            }
            let op = OutboxOp {
                seq: o.next_seq(),
                op_id: intent.new_op_id.clone(),
                kind: Kind::Query,
                entity_id: intent.query_id.clone(),
                expected_version: row.version,
                name_i18n: intent.name_i18n.clone(),
                created_at_ms: intent.now_ms,
                updated_at_ms: intent.now_ms,
                in_flight: false,
                sent: false,
            };
            o.ops.insert(op.seq, op.clone());
            Ok(Some(op))
        })
    }

    async fn outbox(&self) -> Result<Vec<OutboxOp>, StoreError> {
        Ok(self.outbox.borrow().ops.values().cloned().collect())
    }

    async fn in_flight_batch(&self) -> Result<Option<PushBatch>, StoreError> {
        Ok(self.outbox.borrow().in_flight.clone())
    }

    async fn begin_batch(&self, batch: &PushBatch) -> Result<(), StoreError> {
        self.outbox_write(|_, o| {
            if let Some(current) = &o.in_flight {
                return Err(aborted(format!(
                    "batch {} is already in flight",
                    current.key
                )));
            }
            for seq in &batch.op_seqs {
                let op = o
                    .ops
                    .get_mut(seq)
                    .ok_or_else(|| aborted(format!("op {seq} is not queued")))?;
                op.in_flight = true;
                op.sent = true;
            }
            o.in_flight = Some(batch.clone());
            Ok(())
        })
    }

    async fn settle_batch(&self, key: &str, settled: &[OpSettlement]) -> Result<(), StoreError> {
        self.outbox_write(|c, o| {
            let batch = match o.in_flight.take() {
                Some(b) if b.key == key => b,
                _ => return Err(aborted(format!("no batch {key} in flight"))),
            };
            for s in settled {
                let seq = s.seq();
                if !batch.op_seqs.contains(&seq) || !o.ops.contains_key(&seq) {
                    return Err(aborted(format!("op {seq} is not in batch {key}")));
                }
                if let OpSettlement::Retry { new_op_id, .. } = s {
                    if let Some(op) = o.ops.get_mut(&seq) {
                        op.op_id = new_op_id.clone();
                    }
                    continue;
                }
                o.ops.remove(&seq);
                match s {
                    OpSettlement::Applied {
                        query_id,
                        applied_on,
                        new_version,
                        name_i18n,
                        ..
                    } => {
                        apply_applied(c, o, &batch, query_id, *applied_on, *new_version, name_i18n)
                    }
                    OpSettlement::Conflict { conflict, .. } => o.conflicts.push(conflict.clone()),
                    OpSettlement::DeadLetter { dead_letter, .. } => {
                        o.dead_letters.push(dead_letter.clone())
                    }
                    OpSettlement::Retry { .. } => {}
                }
            }
            for seq in &batch.op_seqs {
                if let Some(op) = o.ops.get_mut(seq) {
                    op.in_flight = false;
                }
            }
            Ok(())
        })
    }

    async fn enqueue_command(
        &self,
        command: &DeferredCommand,
    ) -> Result<DeferredCommand, StoreError> {
        self.outbox_write(|_, o| {
            let stored = DeferredCommand {
                seq: o.next_seq(),
                ..command.clone()
            };
            o.commands.insert(stored.seq, stored.clone());
            Ok(stored)
        })
    }

    async fn commands(&self) -> Result<Vec<DeferredCommand>, StoreError> {
        Ok(self.outbox.borrow().commands.values().cloned().collect())
    }

    async fn settle_command(
        &self,
        seq: u64,
        outcome: &CommandSettlement,
    ) -> Result<(), StoreError> {
        self.outbox_write(|_, o| {
            if o.commands.remove(&seq).is_none() {
                return Err(aborted(format!("command {seq} is not queued")));
            }
            match outcome {
                CommandSettlement::Done => {}
                CommandSettlement::Conflict(c) => o.conflicts.push(c.clone()),
                CommandSettlement::DeadLetter(d) => o.dead_letters.push(d.clone()),
            }
            Ok(())
        })
    }

    async fn all_conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        Ok(self.outbox.borrow().conflicts.clone())
    }

    async fn resolve_conflict(
        &self,
        id: &str,
        resolution: Resolution,
        now_ms: u64,
        requeue: Option<&Requeue>,
    ) -> Result<bool, StoreError> {
        self.outbox_write(|_, o| {
            let Some(conflict) = o
                .conflicts
                .iter_mut()
                .find(|c| c.id == id && c.resolution.is_none())
            else {
                return Ok(false);
            };
            conflict.resolution = Some(resolution);
            conflict.resolved_at_ms = Some(now_ms);
            match requeue {
                None => {}
                Some(Requeue::Op {
                    op_id,
                    query_id,
                    expected_version,
                    name_i18n,
                    now_ms,
                }) => {
                    let op = OutboxOp {
                        seq: o.next_seq(),
                        op_id: op_id.clone(),
                        kind: Kind::Query,
                        entity_id: query_id.clone(),
                        expected_version: *expected_version,
                        name_i18n: name_i18n.clone(),
                        created_at_ms: *now_ms,
                        updated_at_ms: *now_ms,
                        in_flight: false,
                        sent: false,
                    };
                    o.ops.insert(op.seq, op);
                }
                Some(Requeue::Command(command)) => {
                    let stored = DeferredCommand {
                        seq: o.next_seq(),
                        ..command.clone()
                    };
                    o.commands.insert(stored.seq, stored);
                }
            }
            Ok(true)
        })
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self.outbox.borrow().dead_letters.clone())
    }

    async fn requeue_dead_letter(
        &self,
        id: &str,
        requeue: &DeadLetterRequeue,
    ) -> Result<RequeueOutcome, StoreError> {
        self.outbox_write(|c, o| {
            let Some(at) = o.dead_letters.iter().position(|d| d.id == id) else {
                return Ok(RequeueOutcome::UnknownDeadLetter);
            };
            let queued = match requeue {
                DeadLetterRequeue::Op {
                    op_id,
                    query_id,
                    name_i18n,
                    now_ms,
                } => {
                    let Some(row) = c.rows.get(&(Kind::Query, query_id.clone())) else {
                        return Ok(RequeueOutcome::QueryNotHeld);
                    };
                    let op = requeued_op(
                        op_id,
                        query_id,
                        name_i18n,
                        *now_ms,
                        o.next_seq(),
                        row.version,
                    );
                    o.ops.insert(op.seq, op.clone());
                    Pending::Op(op)
                }
                DeadLetterRequeue::Command(command) => {
                    let stored = DeferredCommand {
                        seq: o.next_seq(),
                        ..command.clone()
                    };
                    o.commands.insert(stored.seq, stored.clone());
                    Pending::Command(stored)
                }
            };
            o.dead_letters.remove(at);
            Ok(RequeueOutcome::Queued(queued))
        })
    }

    async fn drop_dead_letter(&self, id: &str) -> Result<bool, StoreError> {
        self.outbox_write(|_, o| {
            let before = o.dead_letters.len();
            o.dead_letters.retain(|d| d.id != id);
            Ok(o.dead_letters.len() != before)
        })
    }
}
