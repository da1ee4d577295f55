//! The pipelined pull loop on IndexedDB (`engine/pull/page_loop.rs`): page n+1's commit is issued
//! while page n's runs. When page n's commit fails, the commit behind it is run to its end
//! (its compare-and-set refuses it) — never dropped midway, which would leave an IndexedDB
//! request whose handlers point at dropped closures, and an uncaught error in the page when
//! the aborted transaction fires them.

use super::idb_fixtures::{discard, open_fresh};
use std::cell::Cell;
use std::rc::Rc;
use sync_core::engine::{pull, Clock, PullConfig, PullError, ScriptedTransport, ServerLog, Store};
use sync_core::protocol::{Kind, PullItem, Row};
use sync_core::web::{WebClock, WebRandom};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Event, EventTarget};

fn dashboard(i: usize) -> PullItem {
    let mut row = Row::new();
    row.insert("id".into(), format!("dsh_{i}").into());
    row.insert("name_i18n".into(), serde_json::json!({ "default": "Ops" }));
    PullItem::Upsert {
        kind: Kind::Dashboard,
        row,
        version: 1,
    }
}

/// Counts the global scope's `error` events (uncaught exceptions) while it lives.
struct UncaughtErrors {
    count: Rc<Cell<u32>>,
    target: EventTarget,
    listener: Closure<dyn FnMut(Event)>,
}

impl UncaughtErrors {
    fn watch() -> UncaughtErrors {
        let count = Rc::new(Cell::new(0));
        let seen = count.clone();
        let listener = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            seen.set(seen.get() + 1);
            event.prevent_default();
        });
        let target: EventTarget = js_sys::global().unchecked_into();
        target
            .add_event_listener_with_callback("error", listener.as_ref().unchecked_ref())
            .unwrap();
        UncaughtErrors {
            count,
            target,
            listener,
        }
    }

    fn count(&self) -> u32 {
        self.count.get()
    }
}

impl Drop for UncaughtErrors {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback("error", self.listener.as_ref().unchecked_ref());
    }
}

#[wasm_bindgen_test]
async fn a_failed_commit_leaves_no_request_firing_into_dropped_closures() {
    let (identity, store) = open_fresh().await;
    // Pages arrive at once (a scripted server), so page 2 is planned and its commit issued
    // while page 1's still runs; page 1's transaction aborts after 3 writes.
    let transport = ScriptedTransport::with_log(ServerLog::new((0..12).map(dashboard).collect()));
    let config = PullConfig {
        page_size: 4,
        ..PullConfig::new("usr_1")
    };
    let errors = UncaughtErrors::watch();
    store.fail_next_commit_after(3);
    let result = pull(
        &store,
        &transport,
        &WebClock,
        &WebRandom,
        &config,
        &mut |_| {},
    )
    .await;
    assert!(matches!(result, Err(PullError::Storage(_))), "{result:?}");
    // Late events of the aborted transactions would fire within a few ticks.
    WebClock.sleep(100).await;
    assert_eq!(errors.count(), 0, "uncaught errors after the failed commit");
    assert!(store.rows(Kind::Dashboard).await.unwrap().is_empty());
    assert_eq!(store.meta().await.unwrap().cursor, None);

    // The same pull without the failure applies every page.
    let report = pull(
        &store,
        &transport,
        &WebClock,
        &WebRandom,
        &config,
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(report.drained);
    assert_eq!(store.rows(Kind::Dashboard).await.unwrap().len(), 12);
    drop(errors);
    discard(&identity, store).await;
}
