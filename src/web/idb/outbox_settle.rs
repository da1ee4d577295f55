//! Settling a push batch and a replayed command on IndexedDB, each in one strict
//! transaction (`idb/outbox_tx.rs`), with the reference semantics of
//! `engine/testing/memory_outbox.rs`:
//! - a batch: every settlement applied in order (applied → op dropped, new version and name
//!   stored on the Query row unless pull already brought a newer one, waiting ops of that
//!   query made on the same version rebased; 409 → conflict; final refusal → dead letter),
//!   then the in-flight marks of unsettled ops of the batch cleared and the batch dropped;
//! - a command: dropped, and its conflict or dead letter recorded.
//!
//! All of it is decided on a working copy read inside the transaction, so any refusal
//! (unknown batch key, an op not in the batch) returns before a single write is issued.

use crate::engine::{CommandSettlement, OpSettlement, StoreError, StoredRow};
use crate::protocol::Kind;
use crate::web::idb::error::IdbError;
use crate::web::idb::outbox::{decode_ops, put_counter, put_op};
use crate::web::idb::outbox_decode::decode;
use crate::web::idb::outbox_records::{
    decode_counter, encode, next_counter, BatchRecord, ConflictRecord, DeadLetterRecord, OpRecord,
};
use crate::web::idb::outbox_tx::{seq_key, OutboxTx, OutboxWrite};
use crate::web::idb::records::{decode_row, encode_row};
use crate::web::idb::schema::{
    store_name, COMMANDS_STORE, CONFLICTS_STORE, DEAD_LETTERS_STORE, IN_FLIGHT_BATCH_KEY,
    LAST_ORDER_KEY, OPS_BY_ENTITY, OUTBOX_META_STORE, OUTBOX_STORE,
};
use crate::web::idb::store::IdbStore;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn aborted(why: String) -> StoreError {
    StoreError::Aborted(why)
}

/// What a settled batch changes, computed before any write is issued.
#[derive(Default)]
struct BatchChanges {
    /// Ops still queued that this settlement touched, by seq (batch ops and same-query ops).
    ops: BTreeMap<u64, OpRecord>,
    changed_ops: BTreeSet<u64>,
    removed_ops: BTreeSet<u64>,
    /// Query rows of applied ops (`None` when not held), and which of them changed.
    rows: BTreeMap<String, Option<StoredRow>>,
    changed_rows: BTreeSet<String>,
    conflicts: Vec<ConflictRecord>,
    dead_letters: Vec<DeadLetterRecord>,
    last_order: u64,
}

impl BatchChanges {
    fn settle(&mut self, batch: &BatchRecord, s: &OpSettlement) -> Result<(), StoreError> {
        let seq = s.seq();
        if !batch.op_seqs.contains(&seq) || !self.ops.contains_key(&seq) {
            return Err(aborted(format!("op {seq} is not in batch {}", batch.key)));
        }
        if let OpSettlement::Retry { new_op_id, .. } = s {
            if let Some(op) = self.ops.get_mut(&seq) {
                op.op_id = new_op_id.clone();
                self.changed_ops.insert(seq);
            }
            return Ok(());
        }
        self.ops.remove(&seq);
        self.removed_ops.insert(seq);
        self.changed_ops.remove(&seq);
        match s {
            OpSettlement::Applied {
                query_id,
                applied_on,
                new_version,
                name_i18n,
                ..
            } => {
                if let Some(Some(row)) = self.rows.get_mut(query_id) {
                    if row.version < *new_version {
                        row.version = *new_version;
                        row.row
                            .insert("name_i18n".into(), Value::Object(name_i18n.clone()));
                        self.changed_rows.insert(query_id.clone());
                    }
                }
                for op in self.ops.values_mut() {
                    if op.entity_id == *query_id
                        && !batch.op_seqs.contains(&op.seq)
                        && op.expected_version == *applied_on
                    {
                        op.expected_version = *new_version;
                        self.changed_ops.insert(op.seq);
                    }
                }
            }
            OpSettlement::Conflict { conflict, .. } => {
                self.last_order = next_counter(self.last_order, LAST_ORDER_KEY)?;
                self.conflicts
                    .push(ConflictRecord::new(conflict, self.last_order));
            }
            OpSettlement::DeadLetter { dead_letter, .. } => {
                self.last_order = next_counter(self.last_order, LAST_ORDER_KEY)?;
                self.dead_letters
                    .push(DeadLetterRecord::new(dead_letter, self.last_order));
            }
            OpSettlement::Retry { .. } => {}
        }
        Ok(())
    }

    /// Every write, encoded: op deletes and updates, rows, conflicts, dead letters, the
    /// batch dropped and the order counter.
    fn writes(&self, order_before: u64) -> Result<Vec<OutboxWrite>, IdbError> {
        let mut writes = Vec::new();
        for seq in &self.removed_ops {
            writes.push(OutboxWrite::Delete(OUTBOX_STORE, seq_key(*seq)));
        }
        for seq in &self.changed_ops {
            if let Some(op) = self.ops.get(seq) {
                writes.push(put_op(op)?);
            }
        }
        for id in &self.changed_rows {
            if let Some(Some(row)) = self.rows.get(id) {
                writes.push(OutboxWrite::Put(
                    store_name(Kind::Query),
                    encode_row(row)?,
                    None,
                ));
            }
        }
        for c in &self.conflicts {
            writes.push(OutboxWrite::Put(CONFLICTS_STORE, encode(c)?, None));
        }
        for d in &self.dead_letters {
            writes.push(OutboxWrite::Put(DEAD_LETTERS_STORE, encode(d)?, None));
        }
        writes.push(OutboxWrite::Delete(
            OUTBOX_META_STORE,
            IN_FLIGHT_BATCH_KEY.into(),
        ));
        if self.last_order != order_before {
            writes.push(put_counter(LAST_ORDER_KEY, self.last_order));
        }
        Ok(writes)
    }
}

impl IdbStore {
    pub(super) async fn write_settle_batch(
        &self,
        key: &str,
        settled: &[OpSettlement],
    ) -> Result<(), StoreError> {
        let query_store = store_name(Kind::Query);
        let tx = OutboxTx::begin(
            self,
            &[
                query_store,
                OUTBOX_STORE,
                OUTBOX_META_STORE,
                CONFLICTS_STORE,
                DEAD_LETTERS_STORE,
            ],
        )?;
        let batch = tx.get(OUTBOX_META_STORE, IN_FLIGHT_BATCH_KEY.into())?;
        let last_order = tx.get(OUTBOX_META_STORE, LAST_ORDER_KEY.into())?;
        let (batch, last_order) = (batch.await, last_order.await);
        let batch: BatchRecord = match batch? {
            Some(value) => decode(&value, IN_FLIGHT_BATCH_KEY)?,
            None => return Err(aborted(format!("no batch {key} in flight"))),
        };
        if batch.key != key {
            return Err(aborted(format!("no batch {key} in flight")));
        }
        let last_order = decode_counter(last_order?, LAST_ORDER_KEY)?;

        // Second round of reads, now that the batch is known: its ops, and for every
        // applied query its row and every queued op (the rebase candidates).
        let applied: BTreeSet<&str> = settled
            .iter()
            .filter_map(|s| match s {
                OpSettlement::Applied { query_id, .. } => Some(query_id.as_str()),
                _ => None,
            })
            .collect();
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
        let mut changes = BatchChanges {
            last_order,
            ..BatchChanges::default()
        };
        // All awaited before any is looked at (see `write_rename`).
        let mut op_values = Vec::with_capacity(op_gets.len());
        for get in op_gets {
            op_values.push(get.await);
        }
        let mut query_values = Vec::with_capacity(query_reads.len());
        for (id, row, ops) in query_reads {
            query_values.push((id, row.await, ops.await));
        }
        for value in op_values {
            if let Some(value) = value? {
                let op: OpRecord = decode(&value, OUTBOX_STORE)?;
                changes.ops.insert(op.seq, op);
            }
        }
        for (id, row, ops) in query_values {
            let row = row?.map(|v| decode_row(Kind::Query, &v)).transpose()?;
            changes.rows.insert(id.to_string(), row);
            for op in decode_ops(&ops?)? {
                changes.ops.entry(op.seq).or_insert(op);
            }
        }

        for s in settled {
            changes.settle(&batch, s)?;
        }
        for seq in &batch.op_seqs {
            if let Some(op) = changes.ops.get_mut(seq) {
                if op.in_flight {
                    op.in_flight = false;
                    changes.changed_ops.insert(*seq);
                }
            }
        }
        let writes = changes.writes(last_order)?;
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
