//! Native timing of the engine's share of a pull page (issue 7): strict parse → privacy →
//! local state → plan → commit, against a [`MemoryStore`], on the benchmark's workload.
//!
//! The workload is a port of `bench/src/workload.mjs` (same PRNG, same mix and row shapes:
//! ≈85 % upserts across the versioned kinds, ≈5 % tombstones, ≈10 % snapshot appends of
//! 24 rows of which ≈10 % repeat the widget's newest content), so the figures describe the
//! pages the browser benchmark serves. The browser adds IndexedDB and record encoding; this
//! isolates the engine CPU that both the wasm and the native build run.
//!
//! Run: `cargo run --release --example apply_bench [-- --rounds N]` (default 5 rounds).
//! Phases are timed in this thread's CPU time where Linux exposes it.

use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Time this thread has spent on a CPU (`/proc/thread-self/schedstat`, Linux), so other
/// processes on a shared machine do not count; wall time where that is unavailable.
struct Timer(Option<u64>, Instant);

fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Timer {
    fn start() -> Timer {
        Timer(cpu_ns(), Instant::now())
    }

    fn elapsed(&self) -> Duration {
        match (self.0, cpu_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => self.1.elapsed(),
        }
    }
}
use sync_core::engine::{
    plan_items, state_request, ApplyPlan, MemoryContents, MemoryStore, PullConfig, Store,
    StoredRow, StoredSnapshot,
};
use sync_core::engine::{rows_digest, strip_item};
use sync_core::protocol::{parse_pull_page, Kind};

const PAGE_SIZE: usize = 2000;
const PAGES: usize = 10;
const USER_ID: &str = "usr_bench";
const RETENTION: usize = 12;
const UNIVERSE: [(Kind, usize, f64); 6] = [
    (Kind::Dashboard, 2000, 0.05),
    (Kind::Widget, 8000, 0.2),
    (Kind::MetricDefinition, 1000, 0.05),
    (Kind::Query, 28000, 0.3),
    (Kind::Projection, 1000, 0.05),
    (Kind::DqAlertOpen, 48000, 0.35),
];
const SNAPSHOT_WIDGETS: usize = 1000;
/// Date.UTC(2026, 0, 1) and Date.UTC(2026, 5, 1).
const PRELOAD_EPOCH: u64 = 1_767_225_600_000;
const PAGES_EPOCH: u64 = 1_780_272_000_000;

/// mulberry32, as in workload.mjs.
struct Prng(u32);

impl Prng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let mut t = self.0;
        t = (t ^ (t >> 15)).wrapping_mul(t | 1);
        t ^= t.wrapping_add((t ^ (t >> 7)).wrapping_mul(t | 61));
        f64::from(t ^ (t >> 14)) / 4_294_967_296.0
    }
}

fn iso(ms: u64) -> String {
    let days = (ms / 86_400_000) as i64;
    let rem = ms % 86_400_000;
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

fn key_of(kind: Kind, i: usize) -> String {
    match kind {
        Kind::Dashboard => format!("dsh_{i:06}"),
        Kind::Widget => format!("wid_{i:06}"),
        Kind::MetricDefinition => format!("metric.{i:06}"),
        Kind::Query => format!("qry_{i:06}"),
        Kind::Projection => format!("proj.{i:06}"),
        _ => format!("dqc_{i:06}"),
    }
}

fn versioned_row(kind: Kind, i: usize, version: u64) -> Value {
    let id = key_of(kind, i);
    let at = iso(PRELOAD_EPOCH + version * 60_000);
    match kind {
        Kind::Dashboard => json!({"id": id,
            "name_i18n": {"default": format!("Revenue overview {i} v{version}"), "fr": format!("Vue revenus {i}")},
            "scope": "tenant",
            "sharedWith": [{"kind": "user", "id": format!("usr_{:03}", i % 97)}, {"kind": "role", "id": "role_gm"}],
            "tables": [key_of(Kind::Projection, i % 1000), key_of(Kind::Projection, (i + 1) % 1000)],
            "updatedAt": at}),
        Kind::Widget => json!({"id": id, "dashboardId": key_of(Kind::Dashboard, i % 2000),
            "type": (["kpi", "timeseries", "breakdown", "funnel", "heatmap"][i % 5]),
            "title_i18n": {"default": format!("Occupancy {i}"), "fr": format!("Occupation {i}")},
            "metricKey": key_of(Kind::MetricDefinition, i % 1000),
            "params": {"range": "30d", "propertyId": format!("prp_{}", i % 40), "compare": "yoy"},
            "paramsHash": format!("ph_{i:06}_{}", version % 3),
            "freshness": {"targetMinutes": 60, "alertAtMinutes": 180},
            "layout": {"x": i % 4, "y": (i / 4) % 12, "w": 1, "h": 1}}),
        Kind::MetricDefinition => json!({"key": id, "version": version,
            "name_i18n": {"default": format!("Metric {i}")},
            "unit": if i % 2 == 1 { "EUR" } else { "%" }, "format": "0.00"}),
        Kind::Query => json!({"id": id,
            "ownerId": if i % 5 == 0 { "usr_other" } else { USER_ID },
            "name_i18n": {"default": format!("Weekly bookings {i} v{version}")},
            "sql_template": format!("SELECT day, sum(amount) FROM bookings WHERE property_id = :p{i} GROUP BY day")}),
        Kind::Projection => json!({"key": id, "lastSuccessAt": at, "lagMinutes": version % 90}),
        _ => json!({"id": id, "checkKey": format!("dq.bookings.null_rate.{}", i % 50),
            "severity": (["info", "warning", "critical"][i % 3]), "observedAt": at,
            "jobId": format!("job_{i}"), "observedValue": 0.125}),
    }
}

fn snapshot_row(w: usize, generated_at_ms: u64, content: u64) -> Value {
    let mut r = Prng((content * 7919 + 17) as u32);
    let rows: Vec<Value> = (0..24u64)
        .map(|d| {
            let day = iso(PRELOAD_EPOCH + d * 86_400_000)[..10].to_string();
            let value = (r.next() * 1e6).round() / 100.0;
            let nights = (r.next() * 500.0).floor() as u64;
            json!({"day": day, "value": value, "nights": nights})
        })
        .collect();
    json!({"widgetId": key_of(Kind::Widget, w), "paramsHash": format!("ph_{w:06}_{}", content % 2),
        "rows": rows,
        "provenance": {"computedAt": iso(generated_at_ms - 30_000), "bytesScanned": 1_048_576 + content,
                       "slotMs": 420, "warehouseJobId": format!("bq_{content}"), "computedBy": "scheduler"},
        "generatedAt": iso(generated_at_ms), "freshnessLagSeconds": 30})
}

fn pick_kind(r: &mut Prng) -> (Kind, usize) {
    let mut x = r.next();
    for (kind, n, w) in UNIVERSE {
        if x < w {
            return (kind, n);
        }
        x -= w;
    }
    (Kind::DqAlertOpen, 48000)
}

/// The wire bodies of one scenario's pages (what the server sends).
fn scenario_pages(warm: bool, seed: u32) -> Vec<Vec<u8>> {
    let mut r = Prng(seed * 1000 + if warm { 2 } else { 1 });
    let mut newest: std::collections::HashMap<usize, u64> = std::collections::HashMap::new();
    if warm {
        for w in 0..SNAPSHOT_WIDGETS {
            newest.insert(w, (w * 100 + RETENTION - 1) as u64);
        }
    }
    let (mut seq, mut content) = (0u64, 10_000_000u64);
    let mut pages = Vec::new();
    for p in 0..PAGES {
        let mut items = Vec::with_capacity(PAGE_SIZE);
        for _ in 0..PAGE_SIZE {
            seq += 1;
            let x = r.next();
            if x < 0.85 {
                let (kind, n) = pick_kind(&mut r);
                let i = (r.next() * n as f64 * 1.3).floor() as usize;
                let version = if r.next() < 0.03 { 1 } else { 1 + seq };
                items.push(json!({"kind": kind.as_str(), "op": "upsert",
                    "row": versioned_row(kind, i, version), "version": version}));
            } else if x < 0.9 {
                let (kind, n) = pick_kind(&mut r);
                let id = key_of(kind, (r.next() * n as f64).floor() as usize);
                items.push(json!({"kind": kind.as_str(), "op": "tombstone", "id": id}));
            } else {
                let w = (r.next() * SNAPSHOT_WIDGETS as f64).floor() as usize;
                let duplicate = r.next() < 0.1 && newest.contains_key(&w);
                let c = match newest.get(&w) {
                    Some(c) if duplicate => *c,
                    _ => {
                        content += 1;
                        content
                    }
                };
                newest.insert(w, c);
                items.push(json!({"kind": "WidgetSnapshot", "op": "append",
                    "row": snapshot_row(w, PAGES_EPOCH + seq * 1000, c)}));
            }
        }
        let page = json!({"items": items, "nextCursor": format!("p.{}", p + 1), "drained": p == PAGES - 1});
        pages.push(page.to_string().into_bytes());
    }
    pages
}

fn obj(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// The warm database: every versioned key of the universe at version 1 and 12 snapshots for
/// each of 1000 widgets, as stored rows (the preload is not timed).
fn warm_contents() -> MemoryContents {
    let mut c = MemoryContents::default();
    for (kind, n, _) in UNIVERSE {
        for i in 0..n {
            let key = key_of(kind, i);
            c.rows.insert(
                (kind, key.clone()),
                StoredRow {
                    kind,
                    key,
                    version: 1,
                    row: obj(versioned_row(kind, i, 1)),
                },
            );
        }
    }
    for w in 0..SNAPSHOT_WIDGETS {
        for j in 0..RETENTION {
            let at = PRELOAD_EPOCH + ((w * RETENTION + j) as u64) * 1000;
            let row = obj(snapshot_row(w, at, (w * 100 + j) as u64));
            let rows = row.get("rows").and_then(Value::as_array).cloned();
            let s = StoredSnapshot {
                widget_id: key_of(Kind::Widget, w),
                generated_at: iso(at),
                params_hash: format!("ph_{w:06}_{}", (w * 100 + j) % 2),
                rows_digest: rows_digest(&rows.unwrap_or_default()),
                row,
            };
            c.snapshots
                .insert((s.widget_id.clone(), s.generated_at.clone()), s);
        }
    }
    c
}

#[derive(Default)]
struct Phases {
    parse: Duration,
    privacy: Duration,
    state: Duration,
    plan: Duration,
    commit: Duration,
    encode: Duration,
}

impl Phases {
    fn total(&self) -> Duration {
        self.parse + self.privacy + self.state + self.plan + self.commit
    }
}

/// What the web layer does with a plan before its transaction: one JSON text of every
/// record (informative only; the web layer is not part of the engine).
fn encode_like_web(plan: &ApplyPlan) -> usize {
    let rows: Vec<&serde_json::Map<String, Value>> = plan
        .row_puts
        .iter()
        .map(|r| &r.row)
        .chain(plan.snapshot_puts.iter().map(|s| &s.row))
        .collect();
    serde_json::to_string(&rows).map_or(0, |s| s.len())
}

fn run_scenario(bodies: &[Vec<u8>], warm: Option<&MemoryContents>, p: &mut Phases) -> u64 {
    let store = warm.map_or_else(MemoryStore::new, |c| MemoryStore::with_contents(c.clone()));
    let config = PullConfig {
        page_size: 2000,
        retention: RETENTION,
        ..PullConfig::new(USER_ID)
    };
    let mut cursor: Option<String> = None;
    let mut applied = 0u64;
    for body in bodies {
        let t = Timer::start();
        let mut page = parse_pull_page(body).expect("workload pages parse");
        p.parse += t.elapsed();
        let t = Timer::start();
        for item in &mut page.items {
            strip_item(item, &config.user_id);
        }
        p.privacy += t.elapsed();
        let t = Timer::start();
        let state = futures::executor::block_on(store.local_state(&state_request(&page.items)))
            .expect("memory store reads");
        p.state += t.elapsed();
        let t = Timer::start();
        // As `apply_page` does: the items move into the plan.
        let next_cursor = page.next_cursor;
        let planned = plan_items(page.items, &state, &config).expect("workload pages plan");
        p.plan += t.elapsed();
        let t = Timer::start();
        futures::executor::block_on(store.commit_page(
            &planned.plan,
            cursor.as_deref(),
            &next_cursor,
        ))
        .expect("memory store commits");
        p.commit += t.elapsed();
        let t = Timer::start();
        std::hint::black_box(encode_like_web(&planned.plan));
        p.encode += t.elapsed();
        applied += planned.summary.items_applied();
        cursor = Some(next_cursor);
    }
    applied
}

fn ms(d: Duration, pages: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / pages as f64
}

fn main() {
    let rounds: usize = std::env::args()
        .skip_while(|a| a != "--rounds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let warm_db = warm_contents();
    for (name, warm) in [("cold", false), ("warm", true)] {
        let bodies = scenario_pages(warm, 7);
        let bytes: usize = bodies.iter().map(Vec::len).sum();
        // Summed over every round: CPU time leaves other processes out already.
        let mut b = Phases::default();
        let mut applied = 0;
        for _ in 0..rounds {
            applied = run_scenario(&bodies, warm.then_some(&warm_db), &mut b);
        }
        let n = bodies.len() * rounds;
        println!(
            "{name}: {} pages, {:.1} MB, {applied} items applied; mean of {rounds} rounds, CPU ms per page:",
            bodies.len(),
            bytes as f64 / 1e6
        );
        println!(
            "  parse {:.2}  privacy {:.2}  state {:.2}  plan {:.2}  commit {:.2}  = engine {:.2}   (web-style encode {:.2})",
            ms(b.parse, n),
            ms(b.privacy, n),
            ms(b.state, n),
            ms(b.plan, n),
            ms(b.commit, n),
            ms(b.total(), n),
            ms(b.encode, n),
        );
    }
}
