//! Resets: after an epoch bump the next page starts with `{"kind":K,"op":"reset"}` followed
//! by that kind's rows; visibility changes a tombstone cannot express bump epochs.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn keys_of(items: &[Value], kind: &str) -> BTreeSet<String> {
    items
        .iter()
        .filter(|i| i["kind"] == kind && i["op"] != "reset")
        .map(|i| item_key(i).1)
        .collect()
}

#[tokio::test]
async fn epoch_bump_resets_that_kind_and_refills_it() {
    let s = server();
    let t = s.tenant(small_spec("tnt_epoch")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let (cold, _, cursor) = s.drain(&alice, None, 500).await;
    let (nothing, _, cursor) = s.drain(&alice, Some(cursor), 500).await;
    assert!(nothing.is_empty(), "a drained cursor sees no changes");

    let r = s
        .post(
            "/admin/epoch",
            json!({"tenantId":"tnt_epoch","userId":"usr_alice","kind":"Widget"}),
        )
        .await;
    assert_eq!(r.json(), json!({"epoch": 1}));
    let (again, _, cursor) = s.drain(&alice, Some(cursor), 7).await;
    assert_eq!(again[0], json!({"kind":"Widget","op":"reset"}));
    assert!(again[1..]
        .iter()
        .all(|i| i["kind"] == "Widget" && i["op"] == "upsert"));
    assert_eq!(keys_of(&again, "Widget"), keys_of(&cold, "Widget"));
    // Once refilled, nothing more.
    assert!(s.drain(&alice, Some(cursor), 500).await.0.is_empty());
    // Another device of the same user also resets (epochs are per user and kind).
    let other = alice.other_device("dev_other");
    let (_, _, c2) = s.drain(&other, None, 500).await;
    s.post(
        "/admin/epoch",
        json!({"tenantId":"tnt_epoch","userId":"usr_alice","kind":"WidgetSnapshot"}),
    )
    .await;
    assert_eq!(
        s.pull(&other, Some(&c2), 10).await.items()[0],
        json!({"kind":"WidgetSnapshot","op":"reset"})
    );
    // Unknown user or kind.
    assert_eq!(
        s.post(
            "/admin/epoch",
            json!({"tenantId":"tnt_epoch","userId":"usr_nobody","kind":"Widget"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post(
            "/admin/epoch",
            json!({"tenantId":"tnt_epoch","userId":"usr_alice","kind":"Widgets"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn losing_and_gaining_a_dashboard_resets_the_dashboard_tree() {
    let s = server();
    let t = s.tenant(small_spec("tnt_scope")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let bob = TestServer::device(&t, 1, "dev_b");
    let (bob_cold, _, bob_cursor) = s.drain(&bob, None, 500).await;
    let (alice_cold, _, alice_cursor) = s.drain(&alice, None, 500).await;
    // A tenant-wide dashboard becomes property-scoped to a property bob does not see.
    let d = alice_cold
        .iter()
        .find(|i| i["kind"] == "Dashboard" && i["row"]["scope"] == "tenant")
        .unwrap();
    let id = d["row"]["id"].as_str().unwrap().to_string();
    assert!(keys_of(&bob_cold, "Dashboard").contains(&id));
    let full = s
        .admin(
            axum::http::Method::GET,
            &format!("/admin/rows?tenantId=tnt_scope&kind=Dashboard&key={id}"),
            None,
        )
        .await
        .json();
    let mut row = full["row"].clone();
    row["scope"] = json!("property");
    row["propertyId"] = json!("prp_hrt");
    let w = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_scope","kind":"Dashboard","op":"upsert","row":row}),
        )
        .await
        .json();
    assert_eq!(w["version"], json!(2));

    let (bob_after, _, bob_cursor) = s.drain(&bob, Some(bob_cursor), 500).await;
    let resets: Vec<&Value> = bob_after.iter().filter(|i| i["op"] == "reset").collect();
    assert_eq!(resets.len(), 3, "{resets:?}");
    assert!(!keys_of(&bob_after, "Dashboard").contains(&id));
    assert_eq!(
        keys_of(&bob_after, "Dashboard").len(),
        keys_of(&bob_cold, "Dashboard").len() - 1
    );
    assert!(bob_after
        .iter()
        .filter(|i| i["kind"] == "Widget")
        .all(|i| i["row"]["dashboardId"] != id.as_str()));
    // Alice (manager, every property) still sees it: an upsert, no reset.
    let (alice_after, _, _) = s.drain(&alice, Some(alice_cursor), 500).await;
    assert_eq!(alice_after.len(), 1);
    assert_eq!(alice_after[0]["version"], json!(2));

    // Back to tenant scope: bob gains it, and its widgets and snapshots (old positions) come with a reset.
    row["scope"] = json!("tenant");
    s.post(
        "/admin/rows",
        json!({"tenantId":"tnt_scope","kind":"Dashboard","op":"upsert","row":row}),
    )
    .await;
    let (bob_back, _, _) = s.drain(&bob, Some(bob_cursor), 500).await;
    assert_eq!(bob_back.iter().filter(|i| i["op"] == "reset").count(), 2);
    assert!(keys_of(&bob_back, "Dashboard").contains(&id));
    assert!(bob_back
        .iter()
        .any(|i| i["kind"] == "Widget" && i["row"]["dashboardId"] == id.as_str()));
    assert!(bob_back.iter().any(|i| i["kind"] == "WidgetSnapshot"));
}

#[tokio::test]
async fn reseeding_resets_devices_of_the_old_data() {
    let s = server();
    let spec = sync_server::seed::TenantSpec {
        tenant_id: "tnt_reseed".into(),
        ..Default::default()
    };
    let summary = s
        .state
        .db
        .with(|c| sync_server::seed::reseed_tenant(c, &spec, s.state.clock.now_ms()))
        .unwrap();
    let dev = Device::new("tnt_reseed", "usr_alice", "dev_a", &summary.users[0].token);
    let (cold, _, _) = s.drain(&dev, None, 2000).await;
    assert!(
        cold.iter().all(|i| i["op"] != "reset"),
        "a cold start never resets"
    );
    let (_, _, cursor) = s.drain(&dev, None, 2000).await;
    s.state
        .db
        .with(|c| sync_server::seed::reseed_tenant(c, &spec, s.state.clock.now_ms()))
        .unwrap();
    let (after, _, _) = s.drain(&dev, Some(cursor), 2000).await;
    let resets = after.iter().filter(|i| i["op"] == "reset").count();
    assert_eq!(resets, 7);
    assert_eq!(after.len() - resets, cold.len());
}

#[tokio::test]
async fn a_property_scope_change_resets_the_dashboard_tree() {
    let s = server();
    let t = s.tenant(small_spec("tnt_prop")).await;
    let (alice_cold, _, _) = s
        .drain(&TestServer::device(&t, 0, "dev_a"), None, 500)
        .await;
    let bob = TestServer::device(&t, 1, "dev_b");
    let (bob_cold, _, cursor) = s.drain(&bob, None, 500).await;
    let property_of = |items: &[Value]| -> BTreeSet<String> {
        items
            .iter()
            .filter(|i| i["kind"] == "Dashboard" && i["row"]["scope"] == "property")
            .map(|i| i["row"]["propertyId"].as_str().unwrap().to_string())
            .collect()
    };
    let before = property_of(&bob_cold);
    assert_eq!(before.len(), 1);
    let other = property_of(&alice_cold)
        .difference(&before)
        .next()
        .cloned()
        .unwrap();

    let r = s
        .post(
            "/admin/users",
            json!({"tenantId":"tnt_prop","userId":"usr_bob","properties":[other]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["epochs"]["Dashboard"], json!(1));
    let (after, _, cursor) = s.drain(&bob, Some(cursor), 500).await;
    let resets: Vec<&str> = after
        .iter()
        .filter(|i| i["op"] == "reset")
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(resets, ["Dashboard", "Widget", "WidgetSnapshot"]);
    assert_eq!(property_of(&after), BTreeSet::from([other.clone()]));
    // Unchanged scope: no bump. Every property: null.
    s.post(
        "/admin/users",
        json!({"tenantId":"tnt_prop","userId":"usr_bob","properties":[other]}),
    )
    .await;
    assert!(s.drain(&bob, Some(cursor.clone()), 500).await.0.is_empty());
    s.post(
        "/admin/users",
        json!({"tenantId":"tnt_prop","userId":"usr_bob","properties":null}),
    )
    .await;
    let (all, _, _) = s.drain(&bob, Some(cursor), 500).await;
    assert_eq!(property_of(&all), property_of(&alice_cold));
    assert_eq!(
        s.post(
            "/admin/users",
            json!({"tenantId":"tnt_prop","userId":"usr_zed","role":"x"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}
