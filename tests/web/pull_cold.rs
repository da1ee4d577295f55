//! Cold start of a big tenant through the whole browser path (fetch → parse → plan →
//! IndexedDB), checked against what the server really serves that user: a second, raw pass
//! over the same log with `fetch` and `serde_json` only, folded by the contract's rules
//! (upsert/tombstone per key, snapshots deduplicated and cut to the newest 12 per widget).

use super::pull_support::PullEnv;
use super::server_admin::TenantSize;
use super::support::{get, server_url};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::engine::{PullConfig, Store};
use sync_core::protocol::identity::Identity;
use sync_core::protocol::Kind;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// 130 dashboards × 12 widgets × (14 snapshots + the widget): about 21 000 items for the
/// user (one dashboard template in ten is not visible to a manager), 14 snapshots per
/// widget so retention must trim.
pub const BIG: TenantSize = TenantSize {
    dashboards: 130,
    widgets_per_dashboard: 12,
    snapshots_per_widget: 14,
    alerts: 30,
    queries: 12,
};

const PAGE_SIZE: u32 = 2000;
const RETENTION: usize = 12;

/// What a device must hold after applying everything the server serves one identity.
#[derive(Debug, Default)]
pub struct ServedState {
    pub pages: u64,
    pub bytes: u64,
    pub items: u64,
    pub appends: u64,
    /// Live versioned rows: (kind, key) → version.
    pub rows: BTreeMap<(Kind, String), u64>,
    /// Per widget, the snapshots a device keeps, oldest first: (generatedAt, paramsHash, rows).
    pub snapshots: BTreeMap<String, Vec<(String, String, Value)>>,
}

impl ServedState {
    pub fn count(&self, kind: Kind) -> usize {
        if kind == Kind::WidgetSnapshot {
            return self.snapshots.values().map(Vec::len).sum();
        }
        self.rows.keys().filter(|(k, _)| *k == kind).count()
    }

    fn apply(&mut self, item: &Value) {
        let kind: Kind = item["kind"].as_str().unwrap().parse().unwrap();
        match item["op"].as_str().unwrap() {
            "upsert" => {
                let key = item["row"][kind.key_field().unwrap()].as_str().unwrap();
                self.rows
                    .insert((kind, key.to_string()), item["version"].as_u64().unwrap());
            }
            "tombstone" => {
                let id = item["id"].as_str().unwrap().to_string();
                if kind == Kind::Widget {
                    self.snapshots.remove(&id);
                }
                self.rows.remove(&(kind, id));
            }
            "append" => {
                self.appends += 1;
                let row = &item["row"];
                let held = self
                    .snapshots
                    .entry(row["widgetId"].as_str().unwrap().to_string())
                    .or_default();
                let snapshot = (
                    row["generatedAt"].as_str().unwrap().to_string(),
                    row["paramsHash"].as_str().unwrap().to_string(),
                    row["rows"].clone(),
                );
                // Identical to the newest held one (same paramsHash, same rows): not kept.
                let same = held
                    .last()
                    .is_some_and(|n| n.1 == snapshot.1 && n.2 == snapshot.2);
                if !same {
                    held.push(snapshot);
                }
                if held.len() > RETENTION {
                    held.remove(0);
                }
            }
            other => panic!("a cold start carries no `{other}`"),
        }
    }
}

/// Pages through everything the server serves `identity` (with its own device id, so no
/// cursor is shared with the engine's pass) and folds it into the state a device must hold.
pub async fn served_state(identity: &Identity, token: &str) -> ServedState {
    let auth = format!("Bearer {token}");
    // Same length as the engine's device id, so both passes get bodies of the same size.
    let device = format!("dev_r{}", &identity.device_id[5..]);
    let headers = [
        ("X-Tenant-Id", identity.tenant_id.as_str()),
        ("X-User-Id", identity.user_id.as_str()),
        ("X-Device-Id", device.as_str()),
        ("Authorization", auth.as_str()),
    ];
    let mut state = ServedState::default();
    let mut cursor: Option<String> = None;
    loop {
        assert!(state.pages < 1000, "the server never drained");
        let mut url = format!("{}/internal/sync/pull?pageSize={PAGE_SIZE}", server_url());
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(&String::from(js_sys::encode_uri_component(c)));
        }
        let (status, body) = get(&url, &headers).await.unwrap();
        assert_eq!(status, 200, "{body}");
        state.pages += 1;
        state.bytes += body.len() as u64;
        let page: Value = serde_json::from_str(&body).unwrap();
        for item in page["items"].as_array().unwrap() {
            state.items += 1;
            state.apply(item);
        }
        cursor = Some(page["nextCursor"].as_str().unwrap().to_string());
        if page["drained"] == Value::Bool(true) {
            return state;
        }
    }
}

#[wasm_bindgen_test]
async fn a_cold_start_of_twenty_thousand_items_drains_and_holds_what_the_server_serves() {
    let env = PullEnv::big(BIG).await;
    let config = PullConfig {
        page_size: PAGE_SIZE,
        ..env.config()
    };
    let started = js_sys::Date::now();
    let report = env.pull_with(&config).await.unwrap();
    let elapsed = js_sys::Date::now() - started;
    let served = served_state(&env.tenant.identity, &env.tenant.token).await;
    console_log!(
        "cold start: {} items, {} pages, {} bytes in {elapsed:.0} ms",
        served.items,
        report.pages,
        report.bytes_pulled
    );
    assert!(served.items >= 20_000, "only {} items served", served.items);

    // The report matches the server's own paging of the same log.
    assert!(report.drained);
    assert_eq!(report.pages, served.pages);
    assert!(report.pages >= 10, "{report:?}");
    assert_eq!(report.bytes_pulled, served.bytes);
    assert_eq!((report.retries, report.cold_restarts), (0, 0));
    assert!(report.resets.is_empty() && report.snapshots_too_large.is_empty());
    assert!(report.integrity.is_empty(), "{:?}", report.integrity);
    for kind in Kind::ALL.into_iter().filter(|k| k.is_versioned()) {
        assert_eq!(
            report.applied.get(&kind).copied().unwrap_or(0),
            served.count(kind) as u64,
            "{kind} applied"
        );
    }
    // Every append is accounted for: held, skipped as identical, or trimmed.
    assert_eq!(
        served.appends - report.duplicates_skipped - report.snapshots_trimmed,
        served.count(Kind::WidgetSnapshot) as u64
    );
    assert!(report.snapshots_trimmed > 0, "retention never trimmed");

    // IndexedDB holds exactly the rows and snapshots the server serves.
    let dump = env.dump().await;
    for kind in Kind::ALL {
        assert_eq!(dump.counts()[&kind], served.count(kind), "{kind} rows");
    }
    for kind in Kind::ALL.into_iter().filter(|k| k.is_versioned()) {
        let held: BTreeSet<(Kind, String)> =
            dump.keys(kind).into_iter().map(|k| (kind, k)).collect();
        let expected: BTreeSet<(Kind, String)> = served
            .rows
            .keys()
            .filter(|(k, _)| *k == kind)
            .cloned()
            .collect();
        assert_eq!(held, expected, "{kind} keys");
    }
    let times = dump.snapshot_times();
    let expected: BTreeMap<String, Vec<String>> = served
        .snapshots
        .iter()
        .map(|(w, s)| (w.clone(), s.iter().map(|(at, _, _)| at.clone()).collect()))
        .collect();
    assert_eq!(times, expected, "snapshot keys per widget");
    assert!(times.values().all(|t| t.len() <= RETENTION));
    assert!(
        times.values().any(|t| t.len() == RETENTION),
        "no widget reached the retention limit"
    );
    assert!(dump.cursor().is_some());
    assert!(!env.store.meta().await.unwrap().access_revoked);

    env.finish().await;
}
