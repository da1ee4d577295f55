//! Paging: every visible row exactly once across pages, whatever the page size, compared
//! against a visibility computation written here from the rules, independent of the
//! server's; page size clamping and validation; a 2000-item page is fast.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;
use sync_server::args;

/// The visible live rows of a user, computed straight from the database tables.
fn expected_visible(s: &TestServer, tenant: &str, user: &str) -> BTreeSet<(String, String)> {
    s.state
        .db
        .with(|conn| {
            let user_row = conn.query_one(
                "SELECT role, properties FROM users WHERE tenant_id = ?1 AND id = ?2",
                args![tenant, user],
            )?;
            let (role, props) = (user_row.string(0)?, user_row.opt_string(1)?);
            let props: Option<HashSet<String>> = props.map(|p| serde_json::from_str(&p).unwrap());
            let all: Vec<(String, String, bool, Value)> = conn
                .query(
                    "SELECT kind, key, deleted, body FROM rows WHERE tenant_id = ?1",
                    args![tenant],
                )?
                .iter()
                .map(|r| {
                    Ok((
                        r.string(0)?,
                        r.string(1)?,
                        r.bool(2)?,
                        serde_json::from_str(r.str(3)?).unwrap(),
                    ))
                })
                .collect::<Result<_, sync_server::ApiError>>()?;
            let sees_dashboard = |d: &Value| {
                let shared = d["sharedWith"].as_array().into_iter().flatten().any(|e| {
                    (e["kind"] == "user" && e["id"] == user)
                        || (e["kind"] == "role" && e["id"] == role.as_str())
                });
                d["ownerId"] == user
                    || shared
                    || match d["scope"].as_str() {
                        Some("tenant") => true,
                        Some("role") => d["role"] == role.as_str(),
                        Some("property") => props
                            .as_ref()
                            .is_none_or(|p| p.contains(d["propertyId"].as_str().unwrap_or(""))),
                        _ => false,
                    }
            };
            let dashboards: HashSet<&str> = all
                .iter()
                .filter(|(k, _, del, body)| k == "Dashboard" && !del && sees_dashboard(body))
                .map(|(_, key, _, _)| key.as_str())
                .collect();
            let widgets: HashSet<&str> = all
                .iter()
                .filter(|(k, _, del, body)| {
                    k == "Widget"
                        && !del
                        && dashboards.contains(body["dashboardId"].as_str().unwrap_or(""))
                })
                .map(|(_, key, _, _)| key.as_str())
                .collect();
            Ok(all
                .iter()
                .filter(|(kind, key, deleted, body)| {
                    !deleted
                        && match kind.as_str() {
                            "Dashboard" => dashboards.contains(key.as_str()),
                            "Widget" => widgets.contains(key.as_str()),
                            "WidgetSnapshot" => {
                                widgets.contains(body["widgetId"].as_str().unwrap_or(""))
                            }
                            "Query" => body["ownerId"] == user,
                            _ => true,
                        }
                })
                .map(|(kind, key, _, _)| (kind.clone(), key.clone()))
                .collect())
        })
        .unwrap()
}

#[tokio::test]
async fn every_visible_row_exactly_once_for_several_page_sizes() {
    let s = server();
    let t = s
        .tenant(
            json!({"tenantId": "tnt_pages", "users": 5, "dashboards": 12, "widgetsPerDashboard": 4,
                            "snapshotsPerWidget": 5, "alerts": 9, "queries": 8, "seed": 3}),
        )
        .await;
    for user_index in 0..5 {
        let dev = TestServer::device(&t, user_index, "dev_p");
        let expected = expected_visible(&s, "tnt_pages", &dev.user);
        assert!(expected.iter().any(|(k, _)| k == "WidgetSnapshot"));
        for page_size in [1, 7, 64, 500, 2000] {
            if page_size == 1 && user_index > 1 {
                continue; // one item per request is slow; two users are enough
            }
            let (items, pages, _) = s
                .drain(
                    &TestServer::device(&t, user_index, &format!("dev_{page_size}")),
                    None,
                    page_size,
                )
                .await;
            let keys: Vec<(String, String)> = items.iter().map(item_key).collect();
            let unique: BTreeSet<(String, String)> = keys.iter().cloned().collect();
            assert_eq!(
                keys.len(),
                unique.len(),
                "a row was served twice (pageSize {page_size})"
            );
            assert_eq!(unique, expected, "user {} pageSize {page_size}", dev.user);
            assert!(
                items
                    .iter()
                    .all(|i| i["op"] == "upsert" || i["op"] == "append"),
                "cold start carries no tombstones or resets"
            );
            assert!(pages >= items.len().div_ceil(page_size));
        }
    }
}

#[tokio::test]
async fn snapshots_of_a_widget_arrive_in_chronological_order() {
    let s = server();
    let t = s.tenant(small_spec("tnt_chrono")).await;
    let (items, _, _) = s.drain(&TestServer::device(&t, 0, "dev_c"), None, 13).await;
    let mut last: HashMap<String, String> = HashMap::new();
    for i in items.iter().filter(|i| i["kind"] == "WidgetSnapshot") {
        let w = i["row"]["widgetId"].as_str().unwrap().to_string();
        let at = i["row"]["generatedAt"].as_str().unwrap().to_string();
        if let Some(prev) = last.insert(w, at.clone()) {
            assert!(prev < at, "{prev} then {at}");
        }
    }
}

#[tokio::test]
async fn rows_changed_while_paging_end_in_the_latest_state() {
    let s = server();
    let t = s.tenant(small_spec("tnt_moving")).await;
    let dev = TestServer::device(&t, 0, "dev_m");
    let mut state: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let r = s.pull(&dev, cursor.as_deref(), 40).await;
        let page = r.json();
        for item in page["items"].as_array().unwrap() {
            match item["op"].as_str().unwrap() {
                "tombstone" => {
                    state.remove(&item_key(item));
                }
                _ => {
                    state.insert(item_key(item), item["row"].clone());
                }
            }
        }
        cursor = page["nextCursor"].as_str().map(str::to_string);
        if page["drained"] == json!(true) {
            break;
        }
        // Rename the first query and delete one widget while the device is mid-way.
        round += 1;
        if round == 2 {
            let (_, q) = state.keys().find(|(k, _)| k == "Query").cloned().unwrap();
            let current = s
                .admin(
                    axum::http::Method::GET,
                    &format!("/admin/rows?tenantId=tnt_moving&kind=Query&key={q}"),
                    None,
                )
                .await
                .json();
            let mut row = current["row"].clone();
            row["name_i18n"]["default"] = json!("Renamed mid-pull");
            assert_eq!(
                s.post(
                    "/admin/rows",
                    json!({"tenantId":"tnt_moving","kind":"Query","op":"upsert","row":row})
                )
                .await
                .status,
                StatusCode::OK
            );
            let (_, w) = state.keys().find(|(k, _)| k == "Widget").cloned().unwrap();
            assert_eq!(
                s.post(
                    "/admin/rows",
                    json!({"tenantId":"tnt_moving","kind":"Widget","op":"tombstone","id":w})
                )
                .await
                .status,
                StatusCode::OK
            );
        }
    }
    let keys: BTreeSet<(String, String)> = state.keys().cloned().collect();
    // Snapshots of the deleted widget stay on a device until it applies the tombstone,
    // which the client engine does; the server's expectation excludes them.
    let live: BTreeSet<(String, String)> = keys
        .into_iter()
        .filter(|(k, key)| {
            k != "WidgetSnapshot"
                || state.contains_key(&("Widget".into(), key.split('|').next().unwrap().into()))
        })
        .collect();
    assert_eq!(live, expected_visible(&s, "tnt_moving", &dev.user));
    assert!(state
        .values()
        .any(|r| r["name_i18n"]["default"] == "Renamed mid-pull"));
}

#[tokio::test]
async fn page_size_is_clamped_and_validated() {
    let s = server();
    // 10 dashboards x 8 widgets x 30 snapshots: far more than 2000 rows visible to alice.
    let t = s
        .tenant(
            json!({"tenantId": "tnt_big", "users": 2, "dashboards": 10, "widgetsPerDashboard": 8,
                            "snapshotsPerWidget": 30, "alerts": 4, "queries": 4}),
        )
        .await;
    let alice = TestServer::device(&t, 0, "dev_big");
    let started = Instant::now();
    let r = s.pull(&alice, None, 5000).await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::OK);
    let page = r.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2000);
    assert_eq!(page["drained"], json!(false));
    assert!(took.as_secs_f64() < 2.0, "a 2000-item page took {took:?}");
    let r = s.pull_query(&alice, "").await;
    assert_eq!(r.items().len(), 500, "default page size");
    for bad in ["0", "-1", "abc", "", "2.5"] {
        let r = s.pull_query(&alice, &format!("?pageSize={bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "pageSize={bad}");
        assert_eq!(r.json(), json!({"error": "bad_page_size"}));
    }
}
