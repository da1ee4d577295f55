//! Time from a `renameQuery` call to its durable commit (the promise resolving after the
//! strict-durability transaction reported `complete`), over 100 renames of 100 queries and
//! then 100 renames of one query (coalescing). Prints p50/p95/max; asserts nothing about
//! time, only that every rename was committed. Run in headless Chromium for the figure
//! quoted in the report (Firefox prints its own).

use super::idb_fixtures::{discard, open_fresh, row};
use js_sys::{Function, Reflect};
use serde_json::json;
use sync_core::engine::{rename_query, ApplyPlan, OutboxStore, Store};
use sync_core::protocol::Kind;
use sync_core::web::{WebClock, WebRandom};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// `performance.now()` of the current global scope, in milliseconds.
fn now_ms() -> f64 {
    let performance = Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: Function = Reflect::get(&performance, &"now".into())
        .unwrap()
        .unchecked_into();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(label: &str, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    console_log!(
        "renameQuery → durable commit, {label}: n={} p50={:.2} ms p95={:.2} ms max={:.2} ms",
        times.len(),
        percentile(&times, 50.0),
        percentile(&times, 95.0),
        times[times.len() - 1]
    );
}

#[wasm_bindgen_test]
async fn rename_to_durable_commit_latency() {
    let (identity, store) = open_fresh().await;
    let plan = ApplyPlan {
        row_puts: (0..100)
            .map(|i| {
                row(
                    Kind::Query,
                    &format!("qry_{i:03}"),
                    1,
                    json!({"ownerId": "usr_web", "name_i18n": {"default": format!("Q{i}")}}),
                )
            })
            .collect(),
        ..ApplyPlan::default()
    };
    store.commit_page(&plan, None, "c1").await.unwrap();

    let mut new_ops = Vec::with_capacity(100);
    for i in 0..100 {
        let name = json!({"default": format!("Renamed {i}")});
        let started = now_ms();
        rename_query(&store, &WebClock, &WebRandom, &format!("qry_{i:03}"), &name)
            .await
            .unwrap();
        new_ops.push(now_ms() - started);
    }
    let mut coalesced = Vec::with_capacity(100);
    for i in 0..100 {
        let name = json!({"default": format!("Again {i}")});
        let started = now_ms();
        rename_query(&store, &WebClock, &WebRandom, "qry_000", &name)
            .await
            .unwrap();
        coalesced.push(now_ms() - started);
    }
    summary("100 queries (new op each)", new_ops);
    summary("one query (coalescing)", coalesced);

    let ops = store.outbox().await.unwrap();
    assert_eq!(ops.len(), 100);
    assert_eq!(ops[0].name_i18n["default"], "Again 99");
    discard(&identity, store).await;
}
