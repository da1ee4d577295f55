//! The pull-byte budget bookkeeping of the wrapper (`pkg/src/budget.ts`), persisted in the
//! database's `meta` store under one key so that the hourly window and the cold-start total
//! survive a reload and a change of leader. The value is the wrapper's own plain object,
//! stored as is (structured clone); this side only reads and writes it. `meta` is not cleared
//! by a 403/410 wipe (only the cursor is), and the whole database goes with logout.

use super::{run, spawn, store_error, SyncCore};
use crate::web::schema::META_STORE;
use crate::web::Durability;
use wasm_bindgen::prelude::*;

/// `meta` key of the wrapper's pull-byte budget record.
const PULL_BUDGET_KEY: &str = "pullBudget";

#[wasm_bindgen]
impl SyncCore {
    /// The stored budget record, or `null` if none was stored yet.
    #[wasm_bindgen(js_name = pullBudget)]
    pub fn pull_budget(&self) -> js_sys::Promise {
        let client = std::rc::Rc::clone(&self.client);
        spawn(Box::pin(async move {
            // A readwrite transaction only because that is the handle the store lends out;
            // nothing is written.
            let tx = client
                .store
                .begin_write(&[META_STORE], Durability::Relaxed)
                .map_err(|e| store_error(e.into()))?;
            let value = tx
                .get(META_STORE, &PULL_BUDGET_KEY.into())
                .await
                .map_err(|e| store_error(e.into()))?;
            tx.commit().await.map_err(|e| store_error(e.into()))?;
            Ok(value.unwrap_or(JsValue::NULL))
        }))
    }

    /// Replaces the stored budget record (relaxed durability: losing the last update in a
    /// crash only under-counts one pull).
    #[wasm_bindgen(js_name = setPullBudget)]
    pub fn set_pull_budget(&self, record: JsValue) -> js_sys::Promise {
        run(&self.client, move |c| async move {
            let mut tx = c
                .store
                .begin_write(&[META_STORE], Durability::Relaxed)
                .map_err(|e| store_error(e.into()))?;
            tx.put(META_STORE, &record, Some(&PULL_BUDGET_KEY.into()))
                .map_err(|e| store_error(e.into()))?;
            tx.commit().await.map_err(|e| store_error(e.into()))?;
            Ok(())
        })
    }
}
