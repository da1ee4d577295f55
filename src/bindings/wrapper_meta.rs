//! Records of the wrapper's own bookkeeping, persisted in the database's `meta` store so they
//! survive a reload and a change of leader: the pull-byte budget (`pkg/src/budget.ts`, key
//! `pullBudget`) and the time of the last drained pull (`lastSyncedAt`, so `status()` does not
//! claim "never synced" after a reload while the data on screen came from a sync). Each value
//! is the wrapper's own plain value, stored as is (structured clone); this side only writes
//! it (the wrapper reads it in a readonly transaction of its own, `pkg/src/idb-reads.ts`
//! `readMetaValue`: at open, while first render reads, it takes no write lock). `meta` is not
//! cleared by a 403/410 wipe (only the cursor is), and the whole database goes with logout.

use super::{spawn, store_error, Client, SyncCore};
use crate::web::idb::schema::META_STORE;
use crate::web::Durability;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// `meta` key of the wrapper's pull-byte budget record.
const PULL_BUDGET_KEY: &str = "pullBudget";
/// `meta` key of the RFC 3339 time of the last drained pull.
const LAST_SYNCED_AT_KEY: &str = "lastSyncedAt";

/// Replaces the value under `key` (relaxed durability: losing the last update in a crash
/// only loses one bookkeeping step, never user data).
fn write(client: &Rc<Client>, key: &'static str, value: JsValue) -> Promise {
    let client = Rc::clone(client);
    spawn(Box::pin(async move {
        let mut tx = client
            .store
            .begin_write(&[META_STORE], Durability::Relaxed)
            .map_err(|e| store_error(e.into()))?;
        tx.put(META_STORE, &value, Some(&key.into()))
            .map_err(|e| store_error(e.into()))?;
        tx.commit().await.map_err(|e| store_error(e.into()))?;
        Ok(JsValue::UNDEFINED)
    }))
}

#[wasm_bindgen]
impl SyncCore {
    /// Replaces the stored budget record.
    #[wasm_bindgen(js_name = setPullBudget)]
    pub fn set_pull_budget(&self, record: JsValue) -> Promise {
        write(&self.client, PULL_BUDGET_KEY, record)
    }

    /// Stores the time of the last drained pull (RFC 3339).
    #[wasm_bindgen(js_name = setLastSyncedAt)]
    pub fn set_last_synced_at(&self, at: String) -> Promise {
        write(&self.client, LAST_SYNCED_AT_KEY, JsValue::from_str(&at))
    }
}
