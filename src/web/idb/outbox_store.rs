//! [`OutboxStore`] for [`IdbStore`]: every method one strict transaction, done by the parts
//! (`outbox.rs`: renames, batches, commands, resolutions, reads; `outbox_settle.rs`: settling;
//! `outbox_dead.rs`: dead letters) on the store's [`Handle`](crate::web::idb::handle::Handle).

use crate::engine::{
    CommandSettlement, Conflict, DeadLetter, DeadLetterRequeue, DeferredCommand, OpSettlement,
    OutboxOp, OutboxStore, PushBatch, RenameIntent, Requeue, RequeueOutcome, Resolution,
    StoreError,
};
use crate::web::idb::store::IdbStore;

impl OutboxStore for IdbStore {
    async fn enqueue_rename(&self, intent: &RenameIntent) -> Result<Option<OutboxOp>, StoreError> {
        self.handle.write_rename(intent).await
    }

    async fn outbox(&self) -> Result<Vec<OutboxOp>, StoreError> {
        Ok(self.handle.read_outbox().await?)
    }

    async fn in_flight_batch(&self) -> Result<Option<PushBatch>, StoreError> {
        Ok(self.handle.read_in_flight_batch().await?)
    }

    async fn begin_batch(&self, batch: &PushBatch) -> Result<(), StoreError> {
        self.handle.write_begin_batch(batch).await
    }

    async fn settle_batch(&self, key: &str, settled: &[OpSettlement]) -> Result<(), StoreError> {
        self.handle.write_settle_batch(key, settled).await
    }

    async fn enqueue_command(
        &self,
        command: &DeferredCommand,
    ) -> Result<DeferredCommand, StoreError> {
        self.handle.write_command(command).await
    }

    async fn commands(&self) -> Result<Vec<DeferredCommand>, StoreError> {
        Ok(self.handle.read_commands().await?)
    }

    async fn settle_command(
        &self,
        seq: u64,
        outcome: &CommandSettlement,
    ) -> Result<(), StoreError> {
        self.handle.write_settle_command(seq, outcome).await
    }

    async fn all_conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        Ok(self.handle.read_conflicts().await?)
    }

    async fn resolve_conflict(
        &self,
        id: &str,
        resolution: Resolution,
        now_ms: u64,
        requeue: Option<&Requeue>,
    ) -> Result<bool, StoreError> {
        self.handle
            .write_resolution(id, resolution, now_ms, requeue)
            .await
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self.handle.read_dead_letters().await?)
    }

    async fn requeue_dead_letter(
        &self,
        id: &str,
        requeue: &DeadLetterRequeue,
    ) -> Result<RequeueOutcome, StoreError> {
        self.handle.write_requeue_dead_letter(id, requeue).await
    }

    async fn drop_dead_letter(&self, id: &str) -> Result<bool, StoreError> {
        self.handle.write_drop_dead_letter(id).await
    }
}
