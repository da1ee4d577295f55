//! [`OutboxStore`] for [`MemoryStore`], keeping the trait's documented semantics exactly
//! (the IndexedDB store is held to the same ones): every write works on a copy of the rows
//! and the outbox and replaces them only when it succeeds, so a failed or refused write
//! changes nothing — the in-memory picture of one strict transaction.
//!
//! The outbox lives beside the replicated rows, not among them: `Store::wipe` (403, 410)
//! never touches ops, the in-flight batch, commands, conflicts or dead letters.

use crate::engine::store::error::StoreError;
use crate::engine::store::held_index::raised_version_key;
use crate::engine::store::outbox::{
    CommandSettlement, Conflict, DeadLetter, DeferredCommand, OpSettlement, OutboxOp, OutboxStore,
    PushBatch, RenameIntent, Requeue, Resolution,
};
use crate::engine::store::outbox::{DeadLetterRequeue, Pending, RequeueOutcome};
use crate::engine::store::outbox_plan::{
    apply_rename, batch_in_flight, plan_rename, plan_settlement, Recorded,
};
use crate::engine::testing::memory_store::{MemoryContents, MemoryStore};
use crate::engine::testing::outbox_contents::OutboxContents;
use crate::protocol::Kind;

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

impl OutboxStore for MemoryStore {
    async fn enqueue_rename(&self, intent: &RenameIntent) -> Result<Option<OutboxOp>, StoreError> {
        self.outbox_write(|c, o| {
            let held = c
                .rows
                .get(&(Kind::Query, intent.query_id.clone()))
                .map(|row| row.version);
            let same_query: Vec<OutboxOp> = o
                .ops
                .values()
                .filter(|op| op.entity_id == intent.query_id)
                .cloned()
                .collect();
            let Some(plan) = plan_rename(intent, held, &same_query, || Ok(o.next_seq()))? else {
                return Ok(None);
            };
            o.ops.insert(plan.op.seq, plan.op.clone());
            Ok(Some(plan.op))
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
            let batch = batch_in_flight(key, o.in_flight.take())?;
            let held = settled
                .iter()
                .filter_map(|s| match s {
                    OpSettlement::Applied { query_id, .. } => Some(query_id.clone()),
                    _ => None,
                })
                .map(|id| {
                    let version = c.rows.get(&(Kind::Query, id.clone())).map(|r| r.version);
                    (id, version)
                })
                .collect();
            let plan = plan_settlement(&batch, settled, o.ops.values().cloned().collect(), held)?;
            for seq in &plan.removed_ops {
                o.ops.remove(seq);
            }
            o.ops
                .extend(plan.changed_ops.into_iter().map(|op| (op.seq, op)));
            let mut raised = false;
            for update in &plan.row_updates {
                if let Some(row) = c.rows.get_mut(&(Kind::Query, update.query_id.clone())) {
                    apply_rename(row, update.version, &update.name_i18n);
                    raised = true;
                    self.held_index_records().insert(
                        raised_version_key(&update.query_id),
                        update.version.to_string(),
                    );
                }
            }
            if raised {
                c.meta.settled_epoch += 1;
            }
            for recorded in plan.recorded {
                match recorded {
                    Recorded::Conflict(conflict) => o.conflicts.push(conflict),
                    Recorded::DeadLetter(dead_letter) => o.dead_letters.push(dead_letter),
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
            match requeue.map(|r| r.queued(o.next_seq())) {
                None => {}
                Some(Pending::Op(op)) => {
                    o.ops.insert(op.seq, op);
                }
                Some(Pending::Command(command)) => {
                    o.commands.insert(command.seq, command);
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
            let held = requeue
                .query_id()
                .and_then(|id| c.rows.get(&(Kind::Query, id.to_string())))
                .map(|row| row.version);
            let Some(queued) = requeue.queued(held, o.last_seq + 1) else {
                return Ok(RequeueOutcome::QueryNotHeld);
            };
            o.last_seq += 1;
            match &queued {
                Pending::Op(op) => {
                    o.ops.insert(op.seq, op.clone());
                }
                Pending::Command(command) => {
                    o.commands.insert(command.seq, command.clone());
                }
            }
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
