//! The transaction every outbox write runs in: one readwrite [`WriteTransaction`] with
//! [`Durability::Strict`], so the promise of a rename resolves only once the edit is on disk.
//!
//! The pattern each write follows (ARCHITECTURE.md, "IndexedDB transactions"):
//! 1. open the transaction over every store the write may touch;
//! 2. issue the reads it needs (coalescing lookup, Query row, counters) as IndexedDB
//!    requests and await only those;
//! 3. decide in plain Rust — a refusal returns an error (or `Ok(None)`/`Ok(false)`) and the
//!    dropped transaction aborts with nothing issued;
//! 4. encode every record, then issue every write without awaiting;
//! 5. await one commit, which reports the browser's real outcome (a `QuotaExceededError`
//!    abort becomes [`StoreError::QuotaExceeded`](crate::engine::StoreError)).

use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::transaction::{Durability, WriteTransaction};
use idb::{Query, Transaction};
use std::future::IntoFuture;
use wasm_bindgen::JsValue;

/// One write of an outbox transaction, encoded before any is issued.
pub(super) enum OutboxWrite {
    Put(&'static str, JsValue, Option<JsValue>),
    Delete(&'static str, JsValue),
}

/// A strict readwrite transaction over outbox stores.
pub(super) struct OutboxTx {
    tx: WriteTransaction,
    /// Test hook: abort after this many writes (see
    /// `IdbStore::fail_next_outbox_write_after`).
    fail_after: Option<usize>,
}

impl OutboxTx {
    pub(super) fn begin(store: &Handle, stores: &[&str]) -> Result<OutboxTx, IdbError> {
        let tx = store.begin_write(stores, Durability::Strict)?;
        Ok(OutboxTx {
            tx,
            fail_after: store.outbox_fail_after.take(),
        })
    }

    /// Issues `get(key)` on `store` and returns its pending result.
    pub(super) fn get(
        &self,
        store: &str,
        key: JsValue,
    ) -> Result<impl std::future::Future<Output = Result<Option<JsValue>, IdbError>>, IdbError>
    {
        let request = self.tx.reader(store)?.get(Query::Key(key))?.into_future();
        Ok(async move {
            Ok(request
                .await
                .map_err(IdbError::from)?
                .filter(|v| !v.is_undefined()))
        })
    }

    /// Issues `index(index).getAll(key)` on `store` and returns its pending result.
    pub(super) fn get_all_by(
        &self,
        store: &str,
        index: &str,
        key: JsValue,
    ) -> Result<impl std::future::Future<Output = Result<Vec<JsValue>, IdbError>>, IdbError> {
        let request = self
            .tx
            .reader(store)?
            .index(index)?
            .get_all(Some(Query::Key(key)), None)?
            .into_future();
        Ok(async move { request.await.map_err(IdbError::from) })
    }

    /// Issues every write without awaiting, then commits and waits for the outcome.
    pub(super) async fn finish(mut self, writes: Vec<OutboxWrite>) -> Result<(), IdbError> {
        for write in writes {
            if self.fail_after == Some(self.tx.writes()) {
                break;
            }
            match write {
                OutboxWrite::Put(store, value, key) => self.tx.put(store, &value, key.as_ref())?,
                OutboxWrite::Delete(store, key) => self.tx.delete(store, &key)?,
            }
        }
        if self.fail_after.is_some() {
            self.tx.abort();
        }
        self.tx.commit().await
    }
}

/// A readonly transaction's store, for the outbox reads.
pub(super) fn read_store(
    store: &Handle,
    name: &str,
) -> Result<(Transaction, idb::ObjectStore), IdbError> {
    let tx = crate::web::idb::transaction::read_transaction(store.db()?, &[name])?;
    let object_store = tx.object_store(name)?;
    Ok((tx, object_store))
}

/// The IndexedDB key of a queue position.
pub(super) fn seq_key(seq: u64) -> JsValue {
    // Every stored seq passed `check_safe`, so the conversion is exact.
    JsValue::from_f64(seq as f64)
}
