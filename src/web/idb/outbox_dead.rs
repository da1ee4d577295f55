//! Requeueing and dropping dead letters on IndexedDB, with the semantics of the in-memory
//! reference (`engine/testing/memory_outbox.rs`): one strict transaction removes the dead letter and
//! appends the new op (re-based on the Query row read in that transaction) or command at the
//! next seq; an unknown id, or an op whose query is no longer held, writes nothing.

use crate::engine::fresh_op;
use crate::engine::{DeadLetterRequeue, Pending, RequeueOutcome, StoreError};
use crate::protocol::Kind;
use crate::web::idb::handle::Handle;
use crate::web::idb::outbox::{put_command_at, put_counter, put_op};
use crate::web::idb::outbox_records::{decode_counter, next_counter};
use crate::web::idb::outbox_tx::{OutboxTx, OutboxWrite};
use crate::web::idb::records::decode_version;
use crate::web::idb::schema::{
    store_name, COMMANDS_STORE, DEAD_LETTERS_STORE, LAST_SEQ_KEY, OUTBOX_META_STORE, OUTBOX_STORE,
};
use wasm_bindgen::JsValue;

impl Handle {
    pub(super) async fn write_requeue_dead_letter(
        &self,
        id: &str,
        requeue: &DeadLetterRequeue,
    ) -> Result<RequeueOutcome, StoreError> {
        let query_store = store_name(Kind::Query);
        let tx = OutboxTx::begin(
            self,
            &[
                DEAD_LETTERS_STORE,
                query_store,
                OUTBOX_STORE,
                COMMANDS_STORE,
                OUTBOX_META_STORE,
            ],
        )?;
        let dead = tx.get(DEAD_LETTERS_STORE, id.into())?;
        let row = match requeue {
            DeadLetterRequeue::Op { query_id, .. } => {
                Some(tx.get(query_store, query_id.as_str().into())?)
            }
            DeadLetterRequeue::Command(_) => None,
        };
        let last_seq = tx.get(OUTBOX_META_STORE, LAST_SEQ_KEY.into())?;
        // Every issued read is awaited before anything can return early.
        let dead = dead.await;
        let row = match row {
            Some(get) => Some(get.await),
            None => None,
        };
        let last_seq = last_seq.await;
        if dead?.is_none() {
            return Ok(RequeueOutcome::UnknownDeadLetter);
        }
        let seq = next_counter(decode_counter(last_seq?, LAST_SEQ_KEY)?, LAST_SEQ_KEY)?;
        let mut writes = vec![
            OutboxWrite::Delete(DEAD_LETTERS_STORE, JsValue::from_str(id)),
            put_counter(LAST_SEQ_KEY, seq),
        ];
        let queued = match requeue {
            DeadLetterRequeue::Op {
                op_id,
                query_id,
                name_i18n,
                now_ms,
            } => {
                let Some(row) = row.transpose()?.flatten() else {
                    return Ok(RequeueOutcome::QueryNotHeld);
                };
                let op = fresh_op(
                    op_id,
                    query_id,
                    name_i18n,
                    *now_ms,
                    seq,
                    decode_version(&row)?,
                );
                writes.push(put_op(&op)?);
                Pending::Op(op)
            }
            DeadLetterRequeue::Command(command) => {
                let (stored, put) = put_command_at(command, seq)?;
                writes.push(put);
                Pending::Command(stored)
            }
        };
        tx.finish(writes).await?;
        Ok(RequeueOutcome::Queued(queued))
    }

    pub(super) async fn write_drop_dead_letter(&self, id: &str) -> Result<bool, StoreError> {
        let tx = OutboxTx::begin(self, &[DEAD_LETTERS_STORE])?;
        let dead = tx.get(DEAD_LETTERS_STORE, id.into())?.await?;
        if dead.is_none() {
            return Ok(false);
        }
        let writes = vec![OutboxWrite::Delete(
            DEAD_LETTERS_STORE,
            JsValue::from_str(id),
        )];
        tx.finish(writes).await?;
        Ok(true)
    }
}
