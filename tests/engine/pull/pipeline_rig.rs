//! The rig of the pipelined pull tests (`pipeline.rs`): [`SlowStore`], the in-memory store
//! whose reads and commits each stay pending for a few polls the way IndexedDB requests do,
//! [`LoggedTransport`] and [`SlowClock`], all recording into one event list, and [`Rig`]
//! wiring them into a `pull` call.

use crate::support::*;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;
use sync_core::engine::{
    pull, ApplyPlan, Clock, HttpRequest, HttpResponse, LocalState, ManualClock, MemoryContents,
    MemoryStore, PullConfig, PullError, PullReport, ScriptedTransport, SeededRandom, ServerLog,
    StateRequest, Store, StoreError, Swept, SyncMeta, Transport, TransportError,
};
use sync_core::protocol::{Kind, PullItem};

pub(crate) type Events = Rc<RefCell<Vec<String>>>;

/// Pending `n` polls (waking itself each time), then ready.
pub(crate) async fn yield_polls(n: u32) {
    let mut left = n;
    poll_fn(|cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

pub(crate) struct SlowStore {
    pub(crate) inner: MemoryStore,
    pub(crate) yields: u32,
    pub(crate) events: Events,
}

impl SlowStore {
    pub(crate) fn note(&self, event: String) {
        self.events.borrow_mut().push(event);
    }
}

impl Store for SlowStore {
    type Payload = <MemoryStore as Store>::Payload;
    async fn meta(&self) -> Result<SyncMeta, StoreError> {
        self.inner.meta().await
    }
    async fn set_access_revoked(&self, revoked: bool) -> Result<(), StoreError> {
        self.inner.set_access_revoked(revoked).await
    }
    async fn local_state(&self, request: &StateRequest) -> Result<LocalState, StoreError> {
        self.note("state".into());
        yield_polls(self.yields).await;
        self.inner.local_state(request).await
    }
    async fn commit_page<P: Clone + Into<Self::Payload>>(
        &self,
        plan: &ApplyPlan<P>,
        expected_cursor: Option<&str>,
        next_cursor: &str,
    ) -> Result<Swept, StoreError> {
        self.note(format!(
            "commit {} -> {next_cursor}",
            expected_cursor.unwrap_or("-")
        ));
        yield_polls(self.yields).await;
        let out = self
            .inner
            .commit_page(plan, expected_cursor, next_cursor)
            .await;
        self.note(format!("committed {} ({})", next_cursor, out.is_ok()));
        out
    }
    async fn wipe(&self, kinds: &[Kind], drop_cursor: bool) -> Result<(), StoreError> {
        self.note("wipe".into());
        self.inner.wipe(kinds, drop_cursor).await
    }
    forward_store_reads!(inner);
}

/// Records every request (as `GET <cursor>`) and every answer, and takes `yields` polls
/// to answer, like a network round trip.
pub(crate) struct LoggedTransport {
    pub(crate) inner: ScriptedTransport,
    pub(crate) yields: u32,
    pub(crate) events: Events,
}

pub(crate) fn cursor_of(request: &HttpRequest) -> String {
    request
        .path_and_query
        .split('&')
        .find_map(|p| p.strip_prefix("cursor="))
        .unwrap_or("-")
        .to_string()
}

impl Transport for LoggedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let cursor = cursor_of(&request);
        self.events.borrow_mut().push(format!("GET {cursor}"));
        yield_polls(self.yields).await;
        let out = self.inner.send(request).await;
        let status = out.as_ref().map_or(0, |r| r.status);
        self.events
            .borrow_mut()
            .push(format!("answered {cursor} {status}"));
        out
    }
}

/// The manual clock, with sleeps that take `yields` polls (a real timer is not instant).
pub(crate) struct SlowClock {
    pub(crate) inner: ManualClock,
    pub(crate) yields: Cell<u32>,
}

impl Clock for SlowClock {
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    async fn sleep(&self, ms: u64) {
        yield_polls(self.yields.get()).await;
        self.inner.sleep(ms).await
    }
}

pub(crate) struct Rig {
    pub(crate) store: SlowStore,
    pub(crate) transport: LoggedTransport,
    pub(crate) clock: SlowClock,
    pub(crate) config: PullConfig,
    pub(crate) events: Events,
}

impl Rig {
    pub(crate) fn new(transport: ScriptedTransport, store_yields: u32, net_yields: u32) -> Rig {
        let events: Events = Rc::default();
        let mut config = PullConfig::new(USER);
        config.page_size = 2;
        Rig {
            store: SlowStore {
                inner: MemoryStore::new(),
                yields: store_yields,
                events: events.clone(),
            },
            transport: LoggedTransport {
                inner: transport,
                yields: net_yields,
                events: events.clone(),
            },
            clock: SlowClock {
                inner: ManualClock::new(T0),
                yields: Cell::new(0),
            },
            config,
            events,
        }
    }

    pub(crate) fn pull(&self) -> Result<PullReport, PullError> {
        block_on(pull(
            &self.store,
            &self.transport,
            &self.clock,
            &SeededRandom::new(42),
            &self.config,
            &mut |_| {},
        ))
    }

    pub(crate) fn events(&self) -> Vec<String> {
        self.events.borrow().clone()
    }

    pub(crate) fn gets(&self) -> Vec<String> {
        self.transport
            .inner
            .requests()
            .iter()
            .map(cursor_of)
            .collect()
    }

    pub(crate) fn contents(&self) -> MemoryContents {
        self.store.inner.contents()
    }
}

pub(crate) fn items() -> Vec<PullItem> {
    vec![
        dashboard("dsh_1", 1, &["fact_res"]),
        metric("occupancy", 1),
        widget("wid_1", 1, "dsh_1", "occupancy"),
        snapshot("wid_1", 0, "p", json!(0.8)),
        projection("fact_res", 1, "2026-01-01T00:00:00Z", 3.0),
        snapshot("wid_1", 1, "p", json!(0.9)),
    ]
}

pub(crate) fn position(events: &[String], event: &str) -> usize {
    events
        .iter()
        .position(|e| e == event)
        .unwrap_or_else(|| panic!("no {event:?} in {events:#?}"))
}

/// A second pull over a store that already holds `items()`: every page names held keys, so
/// each must read local state (a warm store).
pub(crate) fn warm_rig(store_yields: u32, net_yields: u32) -> Rig {
    let mut more = items();
    more.extend([
        dashboard("dsh_1", 2, &["fact_res"]),
        metric("occupancy", 2),
        widget("wid_1", 2, "dsh_1", "occupancy"),
        snapshot("wid_1", 2, "p", json!(0.7)),
        projection("fact_res", 2, "2026-01-01T01:00:00Z", 4.0),
        dashboard("dsh_2", 1, &["fact_res"]),
        widget("wid_2", 1, "dsh_2", "occupancy"),
        snapshot("wid_1", 3, "p", json!(0.6)),
    ]);
    let first = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 0, 0);
    first.pull().unwrap();
    let rig = Rig::new(
        ScriptedTransport::with_log(ServerLog::new(more)),
        store_yields,
        net_yields,
    );
    Rig {
        store: SlowStore {
            inner: MemoryStore::with_contents(first.contents()),
            ..rig.store
        },
        ..rig
    }
}
