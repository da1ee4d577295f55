//! A rename made by another context while `push()` is between reading the outbox and
//! storing its batch must not be lost: the captured batch would carry the older name, the
//! server would apply it, and settling would drop the op that now holds the newer one.

use crate::support::push::*;
use std::cell::Cell;
use sync_core::engine::*;

/// Delegates to a `MemoryStore` and, once, renames a query just before `begin_batch` runs,
/// as a follower tab writing to the shared outbox at that moment would.
struct RacingStore {
    inner: MemoryStore,
    clock: ManualClock,
    random: SeededRandom,
    race: Cell<Option<(&'static str, &'static str)>>,
}

impl Store for RacingStore {
    type Payload = <MemoryStore as Store>::Payload;
    forward_store_writes!(inner);
    forward_store_reads!(inner);
}

impl OutboxStore for RacingStore {
    async fn enqueue_rename(&self, intent: &RenameIntent) -> Result<Option<OutboxOp>, StoreError> {
        self.inner.enqueue_rename(intent).await
    }
    async fn outbox(&self) -> Result<Vec<OutboxOp>, StoreError> {
        self.inner.outbox().await
    }
    async fn in_flight_batch(&self) -> Result<Option<PushBatch>, StoreError> {
        self.inner.in_flight_batch().await
    }
    async fn begin_batch(&self, batch: &PushBatch) -> Result<(), StoreError> {
        if let Some((id, new_name)) = self.race.take() {
            rename_query(&self.inner, &self.clock, &self.random, id, &name(new_name))
                .await
                .map_err(|e| StoreError::Aborted(e.to_string()))?;
        }
        self.inner.begin_batch(batch).await
    }
    async fn settle_batch(&self, key: &str, settled: &[OpSettlement]) -> Result<(), StoreError> {
        self.inner.settle_batch(key, settled).await
    }
    async fn enqueue_command(
        &self,
        command: &DeferredCommand,
    ) -> Result<DeferredCommand, StoreError> {
        self.inner.enqueue_command(command).await
    }
    async fn commands(&self) -> Result<Vec<DeferredCommand>, StoreError> {
        self.inner.commands().await
    }
    async fn settle_command(
        &self,
        seq: u64,
        outcome: &CommandSettlement,
    ) -> Result<(), StoreError> {
        self.inner.settle_command(seq, outcome).await
    }
    async fn all_conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        self.inner.all_conflicts().await
    }
    async fn resolve_conflict(
        &self,
        id: &str,
        resolution: Resolution,
        now_ms: u64,
        requeue: Option<&Requeue>,
    ) -> Result<bool, StoreError> {
        self.inner
            .resolve_conflict(id, resolution, now_ms, requeue)
            .await
    }
    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.inner.dead_letters().await
    }
    async fn requeue_dead_letter(
        &self,
        id: &str,
        requeue: &DeadLetterRequeue,
    ) -> Result<RequeueOutcome, StoreError> {
        self.inner.requeue_dead_letter(id, requeue).await
    }
    async fn drop_dead_letter(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.drop_dead_letter(id).await
    }
}

#[test]
fn a_rename_coalesced_while_the_batch_is_being_fixed_is_not_lost() {
    let harness = PushHarness::with_server(1);
    let id = query_id(0);
    let store = RacingStore {
        inner: MemoryStore::with_contents(harness.store.contents()),
        clock: ManualClock::new(T0),
        random: SeededRandom::new(99),
        race: Cell::new(Some(("qry_000", "B (latest)"))),
    };
    block_on(rename_query(
        &store,
        &harness.clock,
        &harness.random,
        &id,
        &name("A"),
    ))
    .unwrap();
    let report = block_on(push(
        &store,
        &harness.transport,
        &harness.clock,
        &harness.random,
        &PushConfig::default(),
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(report.ops_applied, 1);
    let server = harness.server().query(&id).unwrap();
    assert_eq!(server.row["name_i18n"]["default"], "B (latest)");
    assert!(block_on(store.outbox()).unwrap().is_empty());
}
