//! The snapshot generator: cadences by class, heavy widgets only when foregrounded,
//! byte-identical rows for identical results, and `fresh=true` wake-ups.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_server::args;
use sync_server::generator::{generate_due, generate_fresh, tick_once};
use sync_server::snapshots::canonical_json;

const MIN: i64 = 60_000;

fn snapshots(s: &TestServer, tenant: &str) -> Vec<(String, i64, Value)> {
    s.state.db.with(|c| {
        c.query("SELECT parent_id, ts_ms, body FROM rows WHERE tenant_id = ?1 AND kind = 'WidgetSnapshot' ORDER BY position", args![tenant])?
            .iter()
            .map(|r| Ok((r.string(0)?, r.i64(1)?, serde_json::from_str(r.str(2)?).unwrap())))
            .collect()
    }).unwrap()
}

fn widgets(s: &TestServer, tenant: &str) -> Vec<Value> {
    s.state
        .db
        .with(|c| {
            c.query(
                "SELECT body FROM rows WHERE tenant_id = ?1 AND kind = 'Widget' AND deleted = 0",
                args![tenant],
            )?
            .iter()
            .map(|r| Ok(serde_json::from_str(r.str(0)?).unwrap()))
            .collect()
        })
        .unwrap()
}

#[tokio::test]
async fn cadences_heavy_gating_and_identical_rows() {
    let s = server();
    // 8 widgets: kpi, kpi, timeseries, breakdown, kpi, timeseries, funnel, heatmap.
    s.tenant(json!({"tenantId":"tnt_gen","users":1,"dashboards":1,"widgetsPerDashboard":8,"snapshotsPerWidget":1,"alerts":0,"queries":0})).await;
    let ws = widgets(&s, "tnt_gen");
    let hot: Vec<&Value> = ws
        .iter()
        .filter(|w| w["freshness"]["targetMinutes"].as_i64() <= Some(5))
        .collect();
    let heavy: Vec<&Value> = ws
        .iter()
        .filter(|w| w["type"] == "heatmap" || w["type"] == "funnel")
        .collect();
    assert!(!hot.is_empty() && heavy.len() == 2);
    let newest = snapshots(&s, "tnt_gen")
        .iter()
        .map(|(_, t, _)| *t)
        .max()
        .unwrap();
    // Start at an hour boundary after the seed, so every cadence is due once.
    let hour = 60 * MIN;
    let t0 = newest - newest.rem_euclid(hour) + hour;

    let gen = |now: i64, fg: bool| {
        s.state
            .db
            .with(|c| generate_due(c, "tnt_gen", now, fg))
            .unwrap()
    };
    assert_eq!(
        gen(t0, false),
        ws.len() - heavy.len(),
        "heavy widgets wait for a foreground"
    );
    assert_eq!(gen(t0, false), 0, "nothing twice in one bucket");
    assert_eq!(gen(t0, true), heavy.len(), "foregrounded: heavy ones too");
    assert_eq!(
        gen(t0 + 5 * MIN, true),
        hot.len(),
        "5 minutes later only hot widgets are due"
    );
    assert_eq!(
        gen(t0 + 15 * MIN, true),
        ws.len() - heavy.len(),
        "15 minutes: hot and cold"
    );

    // Hot widgets: the data changes every 15 minutes, so t0 and t0+5 have identical rows.
    let all = snapshots(&s, "tnt_gen");
    let id = hot[0]["id"].as_str().unwrap();
    let of = |t: i64| {
        all.iter()
            .find(|(w, ts, _)| w == id && *ts == t)
            .map(|(_, _, b)| b.clone())
            .unwrap()
    };
    assert_eq!(
        canonical_json(&of(t0)["rows"]),
        canonical_json(&of(t0 + 5 * MIN)["rows"])
    );
    assert_eq!(of(t0)["paramsHash"], of(t0 + 5 * MIN)["paramsHash"]);
    assert_ne!(of(t0)["generatedAt"], of(t0 + 5 * MIN)["generatedAt"]);
    let row = of(t0);
    for field in [
        "computedAt",
        "bytesScanned",
        "slotMs",
        "warehouseJobId",
        "computedBy",
    ] {
        assert!(!row["provenance"][field].is_null(), "provenance.{field}");
    }
}

#[tokio::test]
async fn history_is_bounded_per_widget() {
    let s = server();
    s.tenant(json!({"tenantId":"tnt_hist","users":1,"dashboards":1,"widgetsPerDashboard":1,"snapshotsPerWidget":1,"alerts":0,"queries":0})).await;
    let start = snapshots(&s, "tnt_hist")[0].1;
    for i in 1..=60 {
        s.state
            .db
            .with(|c| generate_due(c, "tnt_hist", start + i * 15 * MIN, true))
            .unwrap();
    }
    assert_eq!(
        snapshots(&s, "tnt_hist").len(),
        sync_server::generator::HISTORY_KEEP
    );
}

#[tokio::test]
async fn fresh_wakes_hot_widgets_the_user_can_see_and_pulls_deliver_them() {
    let s = server();
    let t = s.tenant(small_spec("tnt_fresh")).await;
    let bob = TestServer::device(&t, 1, "dev_1");
    let (_, _, cursor) = s.drain(&bob, None, 500).await;
    let now = s.state.clock.now_ms() + 1000;
    let n = s
        .state
        .db
        .with(|c| generate_fresh(c, "tnt_fresh", "usr_bob", now))
        .unwrap();
    assert!(n > 0);
    let (items, _, _) = s.drain(&bob, Some(cursor), 500).await;
    assert_eq!(
        items.len(),
        n,
        "bob receives exactly the fresh snapshots of his hot widgets"
    );
    assert!(items.iter().all(|i| i["op"] == "append"));

    // Only tenants with a recent pull are visited by the periodic pass.
    assert_eq!(
        tick_once(&s.state).await.unwrap(),
        0,
        "within the current buckets nothing is due yet"
    );
    s.post("/admin/clock", json!({"advanceMinutes": 60})).await;
    assert!(
        tick_once(&s.state).await.unwrap() > 0,
        "an hour later the pulled tenant gets snapshots"
    );
}
