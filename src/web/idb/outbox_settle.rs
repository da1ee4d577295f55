//! Settling a push batch and a replayed command on IndexedDB, each in one strict
//! transaction (`idb/outbox_tx.rs`):
//! - a batch: what the settlement means is decided by the engine
//!   (`engine/store/outbox_plan.rs`, `plan_settlement`) on what this transaction read (the
//!   batch's ops, each applied query's row and queued ops); this file reads and writes;
//! - a command: dropped, and its conflict or dead letter recorded.
//!
//! Any refusal (unknown batch key, an op not in the batch) returns before a single write is
//! issued.

use crate::engine::{
    apply_rename, batch_in_flight, plan_settlement, raised_version_key, CommandSettlement,
    OpSettlement, OutboxOp, PushBatch, Recorded, SettlementPlan, StoreError, StoredRow,
};
use crate::protocol::Kind;
use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::outbox::{decode_ops, put_counter, put_op};
use crate::web::idb::outbox_decode::decode;
use crate::web::idb::outbox_records::{
    decode_counter, encode, next_counter, BatchRecord, ConflictRecord, DeadLetterRecord,
};
use crate::web::idb::outbox_tx::{seq_key, OutboxTx, OutboxWrite};
use crate::web::idb::records::{decode_row, encode_row};
use crate::web::idb::schema::{
    store_name, COMMANDS_STORE, CONFLICTS_STORE, DEAD_LETTERS_STORE, HELD_INDEX_STORE,
    IN_FLIGHT_BATCH_KEY, LAST_ORDER_KEY, META_STORE, OPS_BY_ENTITY, OUTBOX_META_STORE,
    OUTBOX_STORE, SETTLED_EPOCH_KEY,
};
use crate::web::idb::store::decode_count;
use wasm_bindgen::JsValue;

fn aborted(why: String) -> StoreError {
    StoreError::Aborted(why)
}

/// Every write of a settlement plan, encoded: op deletes and updates, the Query rows that
/// take an applied name, conflicts and dead letters with their order, the batch dropped and
/// the order counter.
/// `epoch`: the stored settle epoch (schema 6; `None` before), bumped when a held Query's
/// version is raised.
fn settlement_writes(
    plan: &SettlementPlan,
    rows: &mut [(String, Option<StoredRow>)],
    order_before: u64,
    epoch: Option<u64>,
) -> Result<Vec<OutboxWrite>, IdbError> {
    let mut writes = Vec::new();
    for seq in &plan.removed_ops {
        writes.push(OutboxWrite::Delete(OUTBOX_STORE, seq_key(*seq)));
    }
    for op in &plan.changed_ops {
        writes.push(put_op(op)?);
    }
    let mut raised = false;
    for update in &plan.row_updates {
        let held = rows.iter_mut().find(|(id, _)| *id == update.query_id);
        if let Some((_, Some(row))) = held {
            apply_rename(row, update.version, &update.name_i18n);
            writes.push(OutboxWrite::Put(
                store_name(Kind::Query),
                encode_row(row)?,
                Some(row.key.as_str().into()),
            ));
            raised = true;
            if epoch.is_some() {
                // The held index learns the raised version (`engine/store/held_index.rs`).
                writes.push(OutboxWrite::Put(
                    HELD_INDEX_STORE,
                    JsValue::from_f64(update.version as f64),
                    Some(raised_version_key(&update.query_id).into()),
                ));
            }
        }
    }
    if let (true, Some(epoch)) = (raised, epoch) {
        writes.push(OutboxWrite::Put(
            META_STORE,
            JsValue::from_f64((epoch + 1) as f64),
            Some(SETTLED_EPOCH_KEY.into()),
        ));
    }
    let mut last_order = order_before;
    for recorded in &plan.recorded {
        last_order = next_counter(last_order, LAST_ORDER_KEY)?;
        writes.push(match recorded {
            Recorded::Conflict(c) => OutboxWrite::Put(
                CONFLICTS_STORE,
                encode(&ConflictRecord::new(c, last_order))?,
                None,
            ),
            Recorded::DeadLetter(d) => OutboxWrite::Put(
                DEAD_LETTERS_STORE,
                encode(&DeadLetterRecord::new(d, last_order))?,
                None,
            ),
        });
    }
    writes.push(OutboxWrite::Delete(
        OUTBOX_META_STORE,
        IN_FLIGHT_BATCH_KEY.into(),
    ));
    if last_order != order_before {
        writes.push(put_counter(LAST_ORDER_KEY, last_order));
    }
    Ok(writes)
}

impl Handle {
    pub(super) async fn write_settle_batch(
        &self,
        key: &str,
        settled: &[OpSettlement],
    ) -> Result<(), StoreError> {
        let query_store = store_name(Kind::Query);
        let held_index = self.has_held_index()?;
        let mut stores = vec![
            query_store,
            OUTBOX_STORE,
            OUTBOX_META_STORE,
            CONFLICTS_STORE,
            DEAD_LETTERS_STORE,
        ];
        if held_index {
            // Schema 6: the raised versions and the settle epoch (`SyncMeta::settled_epoch`).
            stores.extend([HELD_INDEX_STORE, META_STORE]);
        }
        let tx = OutboxTx::begin(self, &stores)?;
        let batch = tx.get(OUTBOX_META_STORE, IN_FLIGHT_BATCH_KEY.into())?;
        let last_order = tx.get(OUTBOX_META_STORE, LAST_ORDER_KEY.into())?;
        let epoch = if held_index {
            Some(tx.get(META_STORE, SETTLED_EPOCH_KEY.into())?)
        } else {
            None
        };
        let (batch, last_order) = (batch.await, last_order.await);
        let epoch = match epoch {
            Some(read) => Some(decode_count(read.await?, SETTLED_EPOCH_KEY)?),
            None => None,
        };
        let batch = batch?
            .map(|value| decode::<BatchRecord>(&value, IN_FLIGHT_BATCH_KEY))
            .transpose()?
            .map(PushBatch::from);
        let batch = batch_in_flight(key, batch)?;
        let last_order = decode_counter(last_order?, LAST_ORDER_KEY)?;

        // Second round of reads, now that the batch is known: its ops, and for every
        // applied query its row and every queued op (the rebase candidates).
        // The few queries of one batch: vectors, not map types of their own in the wasm.
        let mut applied: Vec<&str> = Vec::new();
        for s in settled {
            if let OpSettlement::Applied { query_id, .. } = s {
                if !applied.contains(&query_id.as_str()) {
                    applied.push(query_id);
                }
            }
        }
        let mut op_gets = Vec::with_capacity(batch.op_seqs.len());
        for seq in &batch.op_seqs {
            op_gets.push(tx.get(OUTBOX_STORE, seq_key(*seq))?);
        }
        let mut query_reads = Vec::with_capacity(applied.len());
        for id in &applied {
            let row = tx.get(query_store, (*id).into())?;
            let ops = tx.get_all_by(OUTBOX_STORE, OPS_BY_ENTITY, (*id).into())?;
            query_reads.push((*id, row, ops));
        }
        // All awaited before any is looked at (see `write_rename`).
        let mut op_values = Vec::with_capacity(op_gets.len());
        for get in op_gets {
            op_values.push(get.await);
        }
        let mut query_values = Vec::with_capacity(query_reads.len());
        for (id, row, ops) in query_reads {
            query_values.push((id, row.await, ops.await));
        }
        let mut ops = Vec::new();
        for value in op_values {
            if let Some(value) = value? {
                let op: OutboxOp = decode(&value, OUTBOX_STORE)?;
                ops.push(op);
            }
        }
        let mut rows = Vec::with_capacity(query_values.len());
        for (id, row, queued) in query_values {
            let row = row?.map(|v| decode_row(Kind::Query, &v)).transpose()?;
            rows.push((id.to_string(), row));
            for op in decode_ops(&queued?)? {
                if !ops.iter().any(|held| held.seq == op.seq) {
                    ops.push(op);
                }
            }
        }
        let held = rows
            .iter()
            .map(|(id, row)| (id.clone(), row.as_ref().map(|r| r.version)))
            .collect();
        let plan = plan_settlement(&batch, settled, ops, held)?;
        let writes = settlement_writes(&plan, &mut rows, last_order, epoch)?;
        Ok(tx.finish(writes).await?)
    }

    pub(super) async fn write_settle_command(
        &self,
        seq: u64,
        outcome: &CommandSettlement,
    ) -> Result<(), StoreError> {
        let tx = OutboxTx::begin(
            self,
            &[
                COMMANDS_STORE,
                OUTBOX_META_STORE,
                CONFLICTS_STORE,
                DEAD_LETTERS_STORE,
            ],
        )?;
        let command = tx.get(COMMANDS_STORE, seq_key(seq))?;
        let last_order = tx.get(OUTBOX_META_STORE, LAST_ORDER_KEY.into())?;
        let (command, last_order) = (command.await, last_order.await);
        if command?.is_none() {
            return Err(aborted(format!("command {seq} is not queued")));
        }
        let last_order = decode_counter(last_order?, LAST_ORDER_KEY)?;
        let mut writes = vec![OutboxWrite::Delete(COMMANDS_STORE, seq_key(seq))];
        let recorded = match outcome {
            CommandSettlement::Done => None,
            CommandSettlement::Conflict(c) => {
                let order = next_counter(last_order, LAST_ORDER_KEY)?;
                let record = encode(&ConflictRecord::new(c, order))?;
                Some((CONFLICTS_STORE, record, order))
            }
            CommandSettlement::DeadLetter(d) => {
                let order = next_counter(last_order, LAST_ORDER_KEY)?;
                let record = encode(&DeadLetterRecord::new(d, order))?;
                Some((DEAD_LETTERS_STORE, record, order))
            }
        };
        if let Some((store, record, order)) = recorded {
            writes.push(OutboxWrite::Put(store, record, None));
            writes.push(put_counter(LAST_ORDER_KEY, order));
        }
        Ok(tx.finish(writes).await?)
    }
}
