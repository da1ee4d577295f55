//! Builders shared by the native engine tests: contract-shaped rows and pull items, and a
//! harness that wires the in-memory store, the scripted transport, the manual clock and a
//! seeded random source into one `pull` call.
#![allow(dead_code)]

#[macro_use]
pub mod forwarding;
pub mod log_gen;
pub mod push;

use serde_json::{json, Value};
use sync_core::engine::{
    pull, pull_keeping, ManualClock, MemoryContents, MemoryStore, PullConfig, PullError,
    PullProgress, PullReport, ScriptedTransport, SeededRandom, ServerLog, StateCache,
};
use sync_core::protocol::{Kind, PullItem, PullPage, Row};

pub const USER: &str = "usr_alice";
/// 2026-01-01T00:00:00Z.
pub const T0: u64 = 1_767_225_600_000;

pub fn row(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

pub fn upsert(kind: Kind, version: u64, v: Value) -> PullItem {
    PullItem::Upsert {
        kind,
        row: row(v),
        version,
    }
}

pub fn dashboard(id: &str, version: u64, tables: &[&str]) -> PullItem {
    upsert(
        Kind::Dashboard,
        version,
        json!({"id": id, "name_i18n": {"default": format!("Dashboard {id}")}, "scope": "own",
               "sharedWith": [], "tables": tables, "updatedAt": "2026-01-01T00:00:00Z"}),
    )
}

pub fn widget(id: &str, version: u64, dashboard_id: &str, metric_key: &str) -> PullItem {
    upsert(
        Kind::Widget,
        version,
        json!({"id": id, "dashboardId": dashboard_id, "type": "kpi",
               "title_i18n": {"default": id}, "metricKey": metric_key, "params": {},
               "paramsHash": "sha256:p", "freshness": {"targetMinutes": 5, "alertAtMinutes": 15},
               "layout": {"x": 0, "y": 0, "w": 1, "h": 1}}),
    )
}

pub fn metric(key: &str, version: u64) -> PullItem {
    upsert(
        Kind::MetricDefinition,
        version,
        json!({"key": key, "version": version, "name_i18n": {"default": key}, "unit": "%", "format": "0.0"}),
    )
}

pub fn projection(key: &str, version: u64, last_success_at: &str, lag_minutes: f64) -> PullItem {
    upsert(
        Kind::Projection,
        version,
        json!({"key": key, "lastSuccessAt": last_success_at, "lagMinutes": lag_minutes}),
    )
}

/// `generatedAt` = T0 + `minute` minutes.
pub fn at(minute: u32) -> String {
    format!("2026-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

pub fn snapshot(widget_id: &str, minute: u32, params_hash: &str, value: Value) -> PullItem {
    PullItem::Append {
        kind: Kind::WidgetSnapshot,
        row: row(json!({"widgetId": widget_id, "paramsHash": params_hash,
                        "rows": [{"occupancy": value, "date": "2026-01-01"}],
                        "provenance": {"computedAt": at(minute), "bytesScanned": 1024, "slotMs": 5,
                                       "warehouseJobId": "job_1", "computedBy": "gen"},
                        "generatedAt": at(minute), "freshnessLagSeconds": 60})),
    }
}

pub fn tombstone(kind: Kind, id: &str) -> PullItem {
    PullItem::Tombstone {
        kind,
        id: id.into(),
    }
}

pub fn reset(kind: Kind) -> PullItem {
    PullItem::Reset { kind }
}

pub fn page(items: Vec<PullItem>, next: &str, drained: bool) -> PullPage {
    PullPage {
        items,
        next_cursor: next.into(),
        drained,
    }
}

pub fn body(items: Vec<PullItem>, next: &str, drained: bool) -> Vec<u8> {
    page(items, next, drained).to_json_string().into_bytes()
}

/// A pull config with this page size and snapshot retention.
pub fn paged_config(page_size: usize, retention: usize) -> PullConfig {
    PullConfig {
        page_size: page_size as u32,
        retention,
        ..PullConfig::new(USER)
    }
}

/// One `pull` call of `store` against a server holding `log`.
pub fn pull_log(
    store: &MemoryStore,
    log: &[PullItem],
    config: &PullConfig,
) -> Result<PullReport, PullError> {
    pull_log_keeping(store, log, config, &mut None)
}

/// [`pull_log`] by a client that keeps its pull state between calls (`pull_keeping`).
pub fn pull_log_keeping(
    store: &MemoryStore,
    log: &[PullItem],
    config: &PullConfig,
    kept: &mut Option<StateCache>,
) -> Result<PullReport, PullError> {
    let transport = ScriptedTransport::with_log(ServerLog::new(log.to_vec()));
    block_on(pull_keeping(
        store,
        &transport,
        &ManualClock::new(T0),
        &SeededRandom::new(1),
        config,
        &mut |_| {},
        kept,
    ))
}

/// A log that names the same dashboard, widget and metric again and again, with snapshots,
/// a tombstone and a widget update: most pages repeat keys an earlier page named.
pub fn busy_log() -> Vec<PullItem> {
    vec![
        dashboard("dsh_1", 1, &["t"]),
        widget("wdg_1", 1, "dsh_1", "mtr_1"),
        metric("mtr_1", 1),
        snapshot("wdg_1", 1, "p", json!(1)),
        snapshot("wdg_1", 2, "p", json!(1)),
        dashboard("dsh_1", 1, &["t"]),
        snapshot("wdg_1", 3, "p", json!(2)),
        widget("wdg_1", 2, "dsh_1", "mtr_1"),
        tombstone(Kind::MetricDefinition, "mtr_1"),
        snapshot("wdg_1", 4, "q", json!(3)),
        metric("mtr_1", 3),
        dashboard("dsh_1", 2, &["t"]),
    ]
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// What `store` holds, its page serial set aside: two histories that end with the same rows
/// and cursor agree on it, though they counted different commits (a replay, another
/// context's page) — `SyncMeta::page_serial` counts commits, not data.
pub fn data(store: &MemoryStore) -> MemoryContents {
    let mut contents = store.contents();
    contents.meta.page_serial = 0;
    contents
}

/// Everything one pull call needs, with fakes for the platform.
pub struct Harness {
    pub store: MemoryStore,
    pub transport: ScriptedTransport,
    pub clock: ManualClock,
    pub random: SeededRandom,
    pub config: PullConfig,
    pub progress: Vec<PullProgress>,
}

impl Harness {
    /// A harness whose transport answers from `log` once its script is used up.
    pub fn with_log(items: Vec<PullItem>) -> Self {
        Harness::new(ScriptedTransport::with_log(ServerLog::new(items)))
    }

    pub fn new(transport: ScriptedTransport) -> Self {
        Harness {
            store: MemoryStore::new(),
            transport,
            clock: ManualClock::new(T0),
            random: SeededRandom::new(42),
            config: PullConfig::new(USER),
            progress: Vec::new(),
        }
    }

    pub fn pull(&mut self) -> Result<PullReport, PullError> {
        let progress = &mut self.progress;
        block_on(pull(
            &self.store,
            &self.transport,
            &self.clock,
            &self.random,
            &self.config,
            &mut |p| progress.push(*p),
        ))
    }

    pub fn cursor(&self) -> Option<String> {
        self.store.contents().meta.cursor
    }

    pub fn keys(&self, kind: Kind) -> Vec<String> {
        self.store
            .contents()
            .rows
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, key)| key.clone())
            .collect()
    }

    /// (`widget_id`, `generated_at`) of every held snapshot.
    pub fn snapshot_keys(&self) -> Vec<(String, String)> {
        self.store.contents().snapshots.keys().cloned().collect()
    }

    /// The `path_and_query` of every request sent.
    pub fn paths(&self) -> Vec<String> {
        self.transport
            .requests()
            .into_iter()
            .map(|r| r.path_and_query)
            .collect()
    }
}

/// Proptest settings: `default_cases` keeps `cargo test` fast; `PROPTEST_CASES=5000` runs a
/// deep search. Failures are reported with their minimal input; no regression files are
/// written into `tests/`.
pub fn proptest_config(default_cases: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// Replaces the value at a place of `v` chosen by `path` (fuzz tests mutate valid bodies).
pub fn replace_somewhere(v: &mut serde_json::Value, path: &[u8], replacement: serde_json::Value) {
    let child = match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            let key = m
                .keys()
                .nth(usize::from(path[0]) % m.len())
                .unwrap()
                .clone();
            m.get_mut(&key)
        }
        serde_json::Value::Array(a) if !a.is_empty() => {
            let len = a.len();
            a.get_mut(usize::from(path[0]) % len)
        }
        _ => None,
    };
    match (child, path.len()) {
        (Some(c), n) if n > 1 => replace_somewhere(c, &path[1..], replacement),
        (Some(c), _) => *c = replacement,
        (None, _) => *v = replacement,
    }
}
