//! Visibility (a user never receives another user's queries, a dashboard they may not see,
//! nor its widgets or snapshots) and privacy stripping (PROTOCOL §7).

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

fn rows_of<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|i| i["kind"] == kind)
        .map(|i| &i["row"])
        .collect()
}

#[tokio::test]
async fn users_see_only_what_the_rules_allow() {
    let s = server();
    let t = s.tenant(small_spec("tnt_vis")).await;
    let (alice_items, _, _) = s
        .drain(&TestServer::device(&t, 0, "dev_a"), None, 500)
        .await;
    let (bob_items, _, _) = s
        .drain(&TestServer::device(&t, 1, "dev_b"), None, 500)
        .await;

    let ids = |items: &[Value], kind: &str| -> HashSet<String> {
        rows_of(items, kind)
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Queries: only the user's own.
    for (items, user) in [(&alice_items, "usr_alice"), (&bob_items, "usr_bob")] {
        let queries = rows_of(items, "Query");
        assert!(!queries.is_empty());
        assert!(queries.iter().all(|q| q["ownerId"] == user));
    }
    assert!(ids(&alice_items, "Query").is_disjoint(&ids(&bob_items, "Query")));

    // Dashboards: bob (front desk, one property) sees fewer, and none he may not see.
    let alice_d = ids(&alice_items, "Dashboard");
    let bob_d = ids(&bob_items, "Dashboard");
    assert!(alice_d.len() >= 6, "the demo manager sees 6+ dashboards");
    assert!(bob_d.len() < alice_d.len());
    let bob_props: String = s
        .state
        .db
        .with(|c| {
            c.query_one(
                "SELECT properties FROM users WHERE tenant_id = 'tnt_vis' AND id = 'usr_bob'",
                &[],
            )?
            .string(0)
        })
        .unwrap();
    let bob_props: Vec<String> = serde_json::from_str(&bob_props).unwrap();
    assert_eq!(bob_props.len(), 1, "bob is restricted to one property");
    for d in rows_of(&bob_items, "Dashboard") {
        let ok = d["scope"] == "tenant"
            || (d["scope"] == "role" && d["role"] == "front_desk")
            || (d["scope"] == "property" && d["propertyId"] == bob_props[0].as_str())
            || d["ownerId"] == "usr_bob"
            || d["sharedWith"].as_array().unwrap().iter().any(|e| {
                e == &json!({"kind":"user","id":"usr_bob"})
                    || e == &json!({"kind":"role","id":"front_desk"})
            });
        assert!(ok, "bob received {d}");
    }
    let hidden: HashSet<String> = alice_d.difference(&bob_d).cloned().collect();
    assert!(!hidden.is_empty());
    // Widgets and snapshots of a dashboard bob cannot see never reach him.
    let hidden_widgets: HashSet<String> = rows_of(&alice_items, "Widget")
        .iter()
        .filter(|w| hidden.contains(w["dashboardId"].as_str().unwrap()))
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!hidden_widgets.is_empty());
    let bob_body = serde_json::to_string(&bob_items).unwrap();
    for id in hidden.iter().chain(hidden_widgets.iter()) {
        assert!(!bob_body.contains(id.as_str()), "bob's pages mention {id}");
    }
}

#[tokio::test]
async fn private_fields_never_leave_the_server() {
    let s = server();
    let t = s.tenant(small_spec("tnt_priv")).await;
    // The server really holds the secrets that must be stripped.
    let stored = s
        .state
        .db
        .with(|c| {
            Ok(
                c.query("SELECT body FROM rows WHERE tenant_id = 'tnt_priv'", &[])?
                    .iter()
                    .map(|r| r.string(0))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
            )
        })
        .unwrap();
    for secret in [
        "lse_",
        "\"embed\"",
        "embedToken",
        "observedValue",
        "sql_template",
    ] {
        assert!(stored.contains(secret), "seed lacks {secret}");
    }
    for index in 0..4 {
        let dev = TestServer::device(&t, index, "dev_x");
        let mut raw = String::new();
        let mut cursor: Option<String> = None;
        loop {
            let r = s.pull(&dev, cursor.as_deref(), 100).await;
            raw.push_str(&r.text());
            let page = r.json();
            cursor = page["nextCursor"].as_str().map(str::to_string);
            if page["drained"] == json!(true) {
                break;
            }
        }
        for secret in ["lse_", "embed", "observedValue", "threshold"] {
            assert!(!raw.contains(secret), "{} received {secret}", dev.user);
        }
        let page: Vec<Value> = s.drain(&dev, None, 2000).await.0;
        for d in rows_of(&page, "Dashboard") {
            for e in d["sharedWith"].as_array().unwrap() {
                assert!(e["kind"] == "user" || e["kind"] == "role", "{e}");
                assert_eq!(e.as_object().unwrap().len(), 2);
            }
        }
        for q in rows_of(&page, "Query") {
            assert_eq!(q["ownerId"], dev.user.as_str());
            assert!(
                q["sql_template"].is_string(),
                "the owner keeps sql_template"
            );
        }
        let alerts = rows_of(&page, "DqAlertOpen");
        assert!(!alerts.is_empty());
        for a in alerts {
            let mut keys: Vec<&String> = a.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["checkKey", "id", "observedAt", "severity"]);
        }
    }
}

#[tokio::test]
async fn a_query_handed_to_another_owner_leaves_the_old_owner() {
    let s = server();
    let t = s.tenant(small_spec("tnt_own")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let bob = TestServer::device(&t, 1, "dev_b");
    let (items, _, cursor) = s.drain(&alice, None, 500).await;
    let q = rows_of(&items, "Query")[0].clone();
    let mut moved = q.clone();
    moved["ownerId"] = json!("usr_bob");
    s.post(
        "/admin/rows",
        json!({"tenantId":"tnt_own","kind":"Query","op":"upsert","row":moved}),
    )
    .await;
    let (after, _, _) = s.drain(&alice, Some(cursor), 500).await;
    assert_eq!(after[0], json!({"kind":"Query","op":"reset"}));
    assert!(!serde_json::to_string(&after)
        .unwrap()
        .contains(q["id"].as_str().unwrap()));
    let (bobs, _, _) = s.drain(&bob, None, 500).await;
    let got = rows_of(&bobs, "Query")
        .into_iter()
        .find(|r| r["id"] == q["id"])
        .expect("new owner receives it");
    assert!(got["sql_template"].is_string());
}
