//! The connection this store holds, lent to the TypeScript wrapper for the reads it does
//! itself (`pkg/src/idb-reads.ts`: `widgets` and `latestSnapshot`, first render). Those reads
//! return the stored objects as they are: going through wasm cost a `JSON.stringify`, a copy,
//! a serde parse and print and a `JSON.parse` per record, only to pick `.row` (issue 13).
//! Lending the connection instead of opening a second one keeps one connection per client:
//! one `versionchange`/`close` watcher, one lifecycle (`idb/connection.rs`).

use crate::engine::StoreError;
use crate::web::idb::store::IdbStore;
use wasm_bindgen::JsValue;

impl IdbStore {
    /// The live `IDBDatabase` as a JS value; fails like every read (`Unavailable`) once the
    /// connection is closed or lost, so the wrapper reopens or reports `closed` as it does
    /// for a wasm read.
    pub fn database_handle(&self) -> Result<JsValue, StoreError> {
        Ok(JsValue::from(self.db()?.clone()))
    }
}
