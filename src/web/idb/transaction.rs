//! Readwrite transactions that are safe to use from async Rust.
//!
//! IndexedDB auto-commits a transaction as soon as it has no pending request at the end of a
//! task, so awaiting anything but its own requests (fetch, a timer, `crypto.subtle`) commits
//! whatever was written so far and makes every later request throw
//! `TransactionInactiveError`. [`WriteTransaction`] is built so that the right use is the
//! easy one:
//! - writes are *issued* (`put`, `delete`, `clear` return at once), never awaited one by one;
//! - [`WriteTransaction::commit`] is the single await and reports the real outcome: the
//!   `complete` event, or the `abort` event with the transaction's error (idb's own
//!   `TransactionFuture` reports an abort as `Ok(Aborted)`, which is too easy to miss);
//! - dropping a transaction that was not committed (an early `?` return) aborts it, so a
//!   half-issued page is never auto-committed.

use crate::web::idb::error::IdbError;
use idb::{ObjectStore, Query};
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::cell::Cell;
use std::future::IntoFuture;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Event, IdbDatabase, IdbTransaction};

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` seen through the one overload web-sys only exposes behind
    /// `web_sys_unstable_apis`: `transaction(names, mode, options)`. Browsers that predate
    /// `durability` ignore the unknown option.
    type DatabaseWithOptions;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        store_names: &Array,
        mode: &str,
        options: &Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// How hard the browser must flush a commit before reporting it complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flushed to disk before `complete`: edits and their outbox entries.
    Strict,
    /// May complete before the OS flush: pulled pages, which can always be pulled again.
    Relaxed,
    /// The browser's default.
    Default,
}

impl Durability {
    fn as_str(self) -> &'static str {
        match self {
            Durability::Strict => "strict",
            Durability::Relaxed => "relaxed",
            Durability::Default => "default",
        }
    }
}

/// Resolves when the transaction completes, rejects with its error when it aborts. The
/// handlers are installed when the transaction is created, before any event can fire.
struct Completion {
    future: JsFuture,
    _on_complete: Closure<dyn FnMut(Event)>,
    _on_abort: Closure<dyn FnMut(Event)>,
}

impl Completion {
    fn watch(tx: &IdbTransaction) -> Completion {
        let resolve_slot: Rc<Cell<Option<Function>>> = Rc::default();
        let reject_slot: Rc<Cell<Option<Function>>> = Rc::default();
        let resolve = Rc::clone(&resolve_slot);
        let on_complete = Closure::once(move |_event: Event| {
            if let Some(resolve) = resolve.take() {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        let reject = Rc::clone(&reject_slot);
        let aborted_tx = tx.clone();
        let on_abort = Closure::once(move |_event: Event| {
            let error: JsValue = aborted_tx.error().map(Into::into).unwrap_or(JsValue::NULL);
            if let Some(reject) = reject.take() {
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
        });
        // The executor runs synchronously, so the slots are filled before any event fires.
        let promise = Promise::new(&mut |resolve, reject| {
            resolve_slot.set(Some(resolve));
            reject_slot.set(Some(reject));
        });
        tx.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
        tx.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        Completion {
            future: JsFuture::from(promise),
            _on_complete: on_complete,
            _on_abort: on_abort,
        }
    }
}

/// A readwrite transaction whose writes are issued without awaiting and committed once.
pub struct WriteTransaction {
    raw: IdbTransaction,
    completion: Option<Completion>,
    writes: usize,
}

impl WriteTransaction {
    /// Opens a readwrite transaction over `stores` with the given durability.
    pub fn begin(
        db: &IdbDatabase,
        stores: &[&str],
        durability: Durability,
    ) -> Result<WriteTransaction, IdbError> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        let options = Object::new();
        Reflect::set(
            &options,
            &JsValue::from_str("durability"),
            &JsValue::from_str(durability.as_str()),
        )
        .map_err(|e| IdbError::from_js(&e))?;
        let raw = db
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(&names, "readwrite", &options)
            .map_err(|e| IdbError::from_js(&e))?;
        let completion = Some(Completion::watch(&raw));
        Ok(WriteTransaction {
            raw,
            completion,
            writes: 0,
        })
    }

    /// The transaction itself, for batched requests (`idb/batch.rs`) issued inside it.
    pub fn raw(&self) -> &IdbTransaction {
        &self.raw
    }

    /// How many writes were issued so far.
    pub fn writes(&self) -> usize {
        self.writes
    }

    fn store(&self, name: &str) -> Result<ObjectStore, IdbError> {
        let store = self.raw.object_store(name).map_err(|e| {
            // `objectStore()` throws InvalidStateError exactly when the transaction has
            // finished: it auto-committed (something else was awaited) or was aborted.
            match IdbError::from_js(&e) {
                IdbError::InvalidState(message) => IdbError::TransactionInactive(message),
                other => other,
            }
        })?;
        Ok(store.into())
    }

    /// The object store `name` of this transaction, to issue several reads before awaiting
    /// any of them (each read is an IndexedDB request, the one kind of await that keeps the
    /// transaction alive). Write through [`put`](Self::put), [`delete`](Self::delete) and
    /// [`clear`](Self::clear), which count the writes.
    pub fn reader(&self, name: &str) -> Result<ObjectStore, IdbError> {
        self.store(name)
    }

    /// Issues a put (not awaited). `key` only for stores with out-of-line keys; it is not
    /// passed to a store that still has a key path (a database opened at an earlier schema,
    /// as tests seed them: the replicated stores had inline keys before schema 7).
    pub fn put(
        &mut self,
        store: &str,
        value: &JsValue,
        key: Option<&JsValue>,
    ) -> Result<(), IdbError> {
        let store = self.store(store)?;
        let key = key.filter(|_| matches!(store.key_path(), Ok(None)));
        store.put(value, key)?;
        self.writes += 1;
        Ok(())
    }

    /// Issues the first `limit` of a batch of deletes and puts built by
    /// [`encode_writes`](crate::web::idb::records::encode_writes) (not awaited), in one boundary call;
    /// returns how many were issued.
    pub fn issue(&mut self, writes: &Array, limit: usize) -> Result<usize, IdbError> {
        self.issue_with_rows(writes, &JsValue::UNDEFINED, limit)
    }

    /// [`issue`](Self::issue) for a batch whose `putHeld` writes take their rows from
    /// `rows` (a JS array of row objects).
    pub fn issue_with_rows(
        &mut self,
        writes: &Array,
        rows: &JsValue,
        limit: usize,
    ) -> Result<usize, IdbError> {
        let issued = crate::web::idb::batch::issue_writes(&self.raw, writes, rows, limit)?;
        self.writes += issued;
        Ok(issued)
    }

    /// Issues a delete of one key (not awaited).
    pub fn delete(&mut self, store: &str, key: &JsValue) -> Result<(), IdbError> {
        self.store(store)?.delete(Query::Key(key.clone()))?;
        self.writes += 1;
        Ok(())
    }

    /// Issues a clear of a whole store (not awaited).
    pub fn clear(&mut self, store: &str) -> Result<(), IdbError> {
        self.store(store)?.clear()?;
        self.writes += 1;
        Ok(())
    }

    /// Reads one value inside the transaction. Awaiting an IndexedDB request is the one await
    /// that keeps a transaction alive.
    pub async fn get(&self, store: &str, key: &JsValue) -> Result<Option<JsValue>, IdbError> {
        let request = self.store(store)?.get(Query::Key(key.clone()))?;
        let value = request.into_future().await?;
        Ok(value.filter(|v| !v.is_undefined()))
    }

    /// Aborts: nothing issued so far is written; [`commit`](Self::commit) then reports
    /// [`IdbError::Aborted`].
    pub fn abort(&self) {
        // Throws only if the transaction already finished, in which case there is nothing
        // left to abort.
        let _ = self.raw.abort();
    }

    /// Commits and waits for the outcome: `Ok` only once the browser reported `complete`.
    pub async fn commit(mut self) -> Result<(), IdbError> {
        let Some(completion) = self.completion.take() else {
            return Err(IdbError::Aborted("transaction already finished".into()));
        };
        // Explicit commit skips waiting for the last request's success event. It throws if
        // the transaction already aborted or finished; the completion reports which.
        // `commit()` is marked deprecated in web-sys only because it was missing from IDB 2.0;
        // it is in IDB 3.0 and every current engine.
        #[allow(deprecated)]
        let _ = self.raw.commit();
        let outcome = completion.future.await;
        self.detach_handlers();
        outcome
            .map(|_| ())
            .map_err(|error| IdbError::from_abort(&error))
    }

    fn detach_handlers(&self) {
        self.raw.set_oncomplete(None);
        self.raw.set_onabort(None);
    }
}

impl Drop for WriteTransaction {
    /// A transaction dropped before `commit` (an error path) is aborted, never auto-committed
    /// with half of its writes.
    fn drop(&mut self) {
        if self.completion.is_some() {
            let _ = self.raw.abort();
        }
        // Handlers point at closures that die with `self`; a late event must find none.
        self.detach_handlers();
    }
}

/// Opens a readonly transaction over `stores`.
pub fn read_transaction(db: &IdbDatabase, stores: &[&str]) -> Result<idb::Transaction, IdbError> {
    read_transaction_raw(db, stores).map(Into::into)
}

/// Opens a readonly transaction over `stores`, as the web-sys type the batched reads of
/// `idb/batch.rs` take.
pub fn read_transaction_raw(db: &IdbDatabase, stores: &[&str]) -> Result<IdbTransaction, IdbError> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    db.transaction_with_str_sequence(&names)
        .map_err(|e| IdbError::from_js(&e))
}
