//! Requeueing and dropping dead letters on IndexedDB, with the semantics of the in-memory
//! reference (`engine/testing/memory_outbox.rs`): one strict transaction removes the dead letter and
//! appends the new op (re-based on the Query row read in that transaction) or command at the
//! next seq; an unknown id, or an op whose query is no longer held, writes nothing.

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
        let row = match requeue.query_id() {
            Some(query_id) => Some(tx.get(query_store, query_id.into())?),
            None => None,
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
        let held = row.transpose()?.flatten();
        let held = held.map(|row| decode_version(&row)).transpose()?;
        let Some(queued) = requeue.queued(held, seq) else {
            return Ok(RequeueOutcome::QueryNotHeld);
        };
        writes.push(match &queued {
            Pending::Op(op) => put_op(op)?,
            Pending::Command(command) => put_command_at(command, seq)?.1,
        });
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
