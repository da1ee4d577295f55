//! Two pullers on one store at once (two tabs where Web Locks are missing, so both lead; a
//! worker and a page of one origin). PROTOCOL §3 lets a page that changes rows come back with
//! the cursor it was fetched with, so after another context's such page the stored cursor is
//! the one this call expects: a compare-and-set on the cursor alone lets this call commit a
//! plan, or save a held index, decided on state that page changed. The store's page serial
//! (`SyncMeta::page_serial`, bumped by every page commit and wipe) tells them apart.

use crate::pull::held_index::assert_index_is_exact;
use crate::pull::pipeline_rig::yield_polls;
use crate::support::*;
use sync_core::engine::{
    apply_page, pull, HeldPart, HeldScan, HttpRequest, HttpResponse, ManualClock, MemoryStore,
    PullConfig, ScriptedTransport, SeededRandom, ServerLog, Store, StoreError, Transport,
    TransportError,
};
use sync_core::protocol::Kind;

/// The held version of dashboard `dsh_1`.
fn dashboard_version(store: &MemoryStore) -> u64 {
    block_on(store.row(Kind::Dashboard, "dsh_1"))
        .unwrap()
        .unwrap()
        .version
}

/// Another context applies a page that raises `dsh_1` to version 5 and comes back with the
/// cursor it was fetched with.
async fn other_context_raises_the_dashboard(store: &MemoryStore, cursor: &str) {
    let config = PullConfig::new(USER);
    let page = page(vec![dashboard("dsh_1", 5, &["t"])], cursor, false);
    apply_page(store, page, Some(cursor), &config)
        .await
        .expect("the other context's page lands");
}

/// Answers from the log; before answering the request sent with `cursor`, waits until the
/// store holds that cursor and lets the other context's page land there.
struct OtherContextAt<'a> {
    inner: ScriptedTransport,
    store: &'a MemoryStore,
    cursor: String,
    done: std::cell::Cell<bool>,
}

impl Transport for OtherContextAt<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let sent = format!("cursor={}", self.cursor);
        if !self.done.get() && request.path_and_query.contains(&sent) {
            self.done.set(true);
            let mut polls = 0;
            while self.store.contents().meta.cursor.as_deref() != Some(self.cursor.as_str()) {
                polls += 1;
                assert!(polls < 10_000, "this call's first page never landed");
                yield_polls(1).await;
            }
            other_context_raises_the_dashboard(self.store, &self.cursor).await;
        }
        self.inner.send(request).await
    }
}

#[test]
fn a_same_cursor_page_of_another_context_during_a_call_is_never_overwritten_by_an_older_version() {
    let log = ServerLog::new(vec![
        dashboard("dsh_1", 1, &["t"]),
        dashboard("dsh_1", 3, &["t"]),
    ]);
    let store = MemoryStore::new();
    let transport = OtherContextAt {
        inner: ScriptedTransport::with_log(log),
        store: &store,
        cursor: ServerLog::cursor_at(1),
        done: Default::default(),
    };
    let report = block_on(pull(
        &store,
        &transport,
        &ManualClock::new(T0),
        &SeededRandom::new(7),
        &paged_config(1, 3),
        &mut |_| {},
    ))
    .unwrap();
    assert!(transport.done.get(), "the other context's page landed");
    assert!(report.drained);
    assert_eq!(
        dashboard_version(&store),
        5,
        "version 3, planned before the other context's page landed, does not lower 5"
    );
    assert_index_is_exact(&store);
}

/// Lets the other context's page land just before this call saves its held index.
struct OtherContextBeforeSave {
    inner: MemoryStore,
    done: std::cell::Cell<bool>,
}

impl Store for OtherContextBeforeSave {
    type Payload = <MemoryStore as Store>::Payload;
    crate::forward_store_reads!(inner);
    crate::forward_store_writes!(inner);
    async fn held_index(&self) -> Result<Option<sync_core::engine::HeldIndex>, StoreError> {
        self.inner.held_index().await
    }
    async fn save_held_index(
        &self,
        at: &str,
        serial: u64,
        epoch: Option<u64>,
        parts: &[HeldPart],
    ) -> Result<bool, StoreError> {
        if !self.done.replace(true) {
            other_context_raises_the_dashboard(&self.inner, at).await;
        }
        self.inner.save_held_index(at, serial, epoch, parts).await
    }
    async fn scan_held(&self) -> Result<Option<HeldScan>, StoreError> {
        self.inner.scan_held().await
    }
}

#[test]
fn an_index_is_not_saved_over_a_same_cursor_page_of_another_context() {
    let log = ServerLog::new(vec![dashboard("dsh_1", 1, &["t"])]);
    let store = OtherContextBeforeSave {
        inner: MemoryStore::new(),
        done: Default::default(),
    };
    let transport = ScriptedTransport::with_log(log);
    let config = paged_config(10, 3);
    let pull_once = || {
        block_on(pull(
            &store,
            &transport,
            &ManualClock::new(T0),
            &SeededRandom::new(7),
            &config,
            &mut |_| {},
        ))
        .unwrap()
    };
    pull_once();
    assert!(store.done.get(), "the other context's page landed");
    assert_eq!(dashboard_version(&store.inner), 5);
    if block_on(store.inner.held_index()).unwrap().is_some() {
        assert_index_is_exact(&store.inner);
    }
    // The next call starts from whatever index is left; version 4 is still older than what
    // is held.
    transport
        .log()
        .unwrap()
        .extend([dashboard("dsh_1", 4, &["t"])]);
    pull_once();
    assert_eq!(dashboard_version(&store.inner), 5, "4 does not lower 5");
    assert_index_is_exact(&store.inner);
}
