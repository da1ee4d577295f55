//! [`OutboxStore`] on IndexedDB (schema v3 stores, see `idb/schema.rs`), with exactly the
//! semantics of the in-memory reference (`engine/testing/memory_outbox.rs`): coalescing into the
//! query's newest waiting op, one seq shared by ops and commands, the in-flight batch and
//! its marks set and cleared atomically, conflicts and dead letters kept oldest first.
//!
//! Every write is one strict-durability transaction following the pattern of
//! `idb/outbox_tx.rs`: reads only through IndexedDB requests inside it, a refusal writes
//! nothing, and `Ok` means the browser reported `complete`. Settling batches and commands
//! is in `idb/outbox_settle.rs`. `Store::wipe` (403, 410) never names these stores.

use crate::engine::sort_by_key;
use crate::engine::{
    plan_rename, Conflict, DeadLetter, DeferredCommand, OutboxOp, Pending, PushBatch, RenameIntent,
    RenamePlan, Requeue, Resolution, StoreError,
};
use crate::protocol::Kind;
use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::outbox_decode::decode;
use crate::web::idb::outbox_records::{
    decode_counter, encode, next_counter, BatchRecord, CommandRecord, ConflictRecord,
    DeadLetterRecord,
};
use crate::web::idb::outbox_tx::{read_store, seq_key, OutboxTx, OutboxWrite};
use crate::web::idb::records::decode_version;
use crate::web::idb::schema::{
    store_name, BY_ORDER, COMMANDS_STORE, CONFLICTS_STORE, DEAD_LETTERS_STORE, IN_FLIGHT_BATCH_KEY,
    LAST_SEQ_KEY, OPS_BY_ENTITY, OUTBOX_META_STORE, OUTBOX_STORE,
};
use idb::Query;
use wasm_bindgen::JsValue;

fn aborted(why: String) -> StoreError {
    StoreError::Aborted(why)
}

/// The write of `outbox_meta[key] = value`.
pub(super) fn put_counter(key: &'static str, value: u64) -> OutboxWrite {
    OutboxWrite::Put(
        OUTBOX_META_STORE,
        JsValue::from_f64(value as f64),
        Some(key.into()),
    )
}

/// The write of an op record.
pub(super) fn put_op(op: &OutboxOp) -> Result<OutboxWrite, IdbError> {
    Ok(OutboxWrite::Put(OUTBOX_STORE, encode(op)?, None))
}

/// `command` queued at `seq`, and the write that stores it.
pub(super) fn put_command_at(
    command: &DeferredCommand,
    seq: u64,
) -> Result<(DeferredCommand, OutboxWrite), IdbError> {
    let stored = DeferredCommand {
        seq,
        ..command.clone()
    };
    let write = OutboxWrite::Put(COMMANDS_STORE, encode(&CommandRecord::from(&stored))?, None);
    Ok((stored, write))
}

/// Decodes op records read from the outbox, in `seq` order.
pub(super) fn decode_ops(values: &[JsValue]) -> Result<Vec<OutboxOp>, IdbError> {
    let mut ops = values
        .iter()
        .map(|v| decode::<OutboxOp>(v, OUTBOX_STORE))
        .collect::<Result<Vec<_>, _>>()?;
    sort_by_key(&mut ops, |op| op.seq);
    Ok(ops)
}

impl Handle {
    pub(super) async fn write_rename(
        &self,
        intent: &RenameIntent,
    ) -> Result<Option<OutboxOp>, StoreError> {
        let query_store = store_name(Kind::Query);
        let tx = OutboxTx::begin(self, &[query_store, OUTBOX_STORE, OUTBOX_META_STORE])?;
        let row = tx.get(query_store, intent.query_id.as_str().into())?;
        let same_entity =
            tx.get_all_by(OUTBOX_STORE, OPS_BY_ENTITY, intent.query_id.as_str().into())?;
        let last_seq = tx.get(OUTBOX_META_STORE, LAST_SEQ_KEY.into())?;
        // Every issued read is awaited before anything can return early: a request left
        // pending would fire into the callbacks of its dropped future.
        let (row, same_entity, last_seq) = (row.await, same_entity.await, last_seq.await);
        let row = row?;
        let same_entity = decode_ops(&same_entity?)?;
        let last_seq = decode_counter(last_seq?, LAST_SEQ_KEY)?;
        let held = row.map(|row| decode_version(&row)).transpose()?;
        let same_query = same_entity;
        let plan = plan_rename(intent, held, &same_query, || {
            Ok(next_counter(last_seq, LAST_SEQ_KEY)?)
        })?;
        let Some(RenamePlan { op, new }) = plan else {
            // Dropping `tx` aborts it; nothing was issued.
            return Ok(None);
        };
        let mut writes = vec![put_op(&op)?];
        if new {
            writes.push(put_counter(LAST_SEQ_KEY, op.seq));
        }
        tx.finish(writes).await?;
        Ok(Some(op))
    }

    pub(super) async fn write_begin_batch(&self, batch: &PushBatch) -> Result<(), StoreError> {
        let tx = OutboxTx::begin(self, &[OUTBOX_STORE, OUTBOX_META_STORE])?;
        let current = tx.get(OUTBOX_META_STORE, IN_FLIGHT_BATCH_KEY.into())?;
        let mut gets = Vec::with_capacity(batch.op_seqs.len());
        for seq in &batch.op_seqs {
            gets.push((*seq, tx.get(OUTBOX_STORE, seq_key(*seq))?));
        }
        let current = current.await;
        let mut ops = Vec::with_capacity(gets.len());
        for (seq, get) in gets {
            ops.push((seq, get.await));
        }
        if let Some(current) = current? {
            let current: BatchRecord = decode(&current, IN_FLIGHT_BATCH_KEY)?;
            return Err(aborted(format!(
                "batch {} is already in flight",
                current.key
            )));
        }
        let mut writes = Vec::with_capacity(ops.len() + 1);
        for (seq, value) in ops {
            let value = value?.ok_or_else(|| aborted(format!("op {seq} is not queued")))?;
            let mut op: OutboxOp = decode(&value, OUTBOX_STORE)?;
            op.in_flight = true;
            op.sent = true;
            writes.push(put_op(&op)?);
        }
        writes.push(OutboxWrite::Put(
            OUTBOX_META_STORE,
            encode(&BatchRecord::from(batch))?,
            Some(IN_FLIGHT_BATCH_KEY.into()),
        ));
        Ok(tx.finish(writes).await?)
    }

    pub(super) async fn write_command(
        &self,
        command: &DeferredCommand,
    ) -> Result<DeferredCommand, StoreError> {
        let tx = OutboxTx::begin(self, &[COMMANDS_STORE, OUTBOX_META_STORE])?;
        let last_seq = tx.get(OUTBOX_META_STORE, LAST_SEQ_KEY.into())?;
        let seq = next_counter(decode_counter(last_seq.await?, LAST_SEQ_KEY)?, LAST_SEQ_KEY)?;
        let (stored, put) = put_command_at(command, seq)?;
        let writes = vec![put, put_counter(LAST_SEQ_KEY, seq)];
        tx.finish(writes).await?;
        Ok(stored)
    }

    pub(super) async fn write_resolution(
        &self,
        id: &str,
        resolution: Resolution,
        now_ms: u64,
        requeue: Option<&Requeue>,
    ) -> Result<bool, StoreError> {
        let tx = OutboxTx::begin(
            self,
            &[
                CONFLICTS_STORE,
                OUTBOX_STORE,
                COMMANDS_STORE,
                OUTBOX_META_STORE,
            ],
        )?;
        let conflict = tx.get(CONFLICTS_STORE, id.into())?;
        let last_seq = tx.get(OUTBOX_META_STORE, LAST_SEQ_KEY.into())?;
        let (conflict, last_seq) = (conflict.await, last_seq.await);
        let conflict = conflict?;
        let last_seq = decode_counter(last_seq?, LAST_SEQ_KEY)?;
        let Some(conflict) = conflict else {
            return Ok(false);
        };
        let mut conflict: ConflictRecord = decode(&conflict, CONFLICTS_STORE)?;
        if conflict.resolution.is_some() {
            return Ok(false);
        }
        conflict.resolve(resolution, now_ms);
        let mut writes = vec![OutboxWrite::Put(CONFLICTS_STORE, encode(&conflict)?, None)];
        if let Some(requeue) = requeue {
            let seq = next_counter(last_seq, LAST_SEQ_KEY)?;
            writes.push(match requeue.queued(seq) {
                Pending::Op(op) => put_op(&op)?,
                Pending::Command(command) => put_command_at(&command, seq)?.1,
            });
            writes.push(put_counter(LAST_SEQ_KEY, seq));
        }
        tx.finish(writes).await?;
        Ok(true)
    }

    pub(super) async fn read_outbox(&self) -> Result<Vec<OutboxOp>, IdbError> {
        let (_tx, store) = read_store(self, OUTBOX_STORE)?;
        let values = store.get_all(None, None)?.await?;
        decode_ops(&values)
    }

    pub(super) async fn read_in_flight_batch(&self) -> Result<Option<PushBatch>, IdbError> {
        let (_tx, store) = read_store(self, OUTBOX_META_STORE)?;
        let value = store.get(Query::Key(IN_FLIGHT_BATCH_KEY.into()))?.await?;
        value
            .filter(|v| !v.is_undefined())
            .map(|v| decode::<BatchRecord>(&v, IN_FLIGHT_BATCH_KEY).map(Into::into))
            .transpose()
    }

    pub(super) async fn read_commands(&self) -> Result<Vec<DeferredCommand>, IdbError> {
        let (_tx, store) = read_store(self, COMMANDS_STORE)?;
        let values = store.get_all(None, None)?.await?;
        let mut commands = values
            .iter()
            .map(|v| decode::<CommandRecord>(v, COMMANDS_STORE)?.try_into())
            .collect::<Result<Vec<DeferredCommand>, IdbError>>()?;
        sort_by_key(&mut commands, |c| c.seq);
        Ok(commands)
    }

    /// Every record of `name` (conflicts or dead letters) in recording order.
    pub(super) async fn read_by_order(&self, name: &str) -> Result<Vec<JsValue>, IdbError> {
        let (_tx, store) = read_store(self, name)?;
        Ok(store.index(BY_ORDER)?.get_all(None, None)?.await?)
    }

    pub(super) async fn read_conflicts(&self) -> Result<Vec<Conflict>, IdbError> {
        self.read_by_order(CONFLICTS_STORE)
            .await?
            .iter()
            .map(|v| decode::<ConflictRecord>(v, CONFLICTS_STORE)?.try_into())
            .collect()
    }

    pub(super) async fn read_dead_letters(&self) -> Result<Vec<DeadLetter>, IdbError> {
        self.read_by_order(DEAD_LETTERS_STORE)
            .await?
            .iter()
            .map(|v| Ok(decode::<DeadLetterRecord>(v, DEAD_LETTERS_STORE)?.into()))
            .collect()
    }
}
