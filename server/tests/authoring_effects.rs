//! What authoring does beyond the dashboard itself: scope changes move the dashboard tree
//! in and out of other users' pulls (with resets), server-only share entries survive a
//! sharing update, and widgets are added to visible dashboards with validation.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn scope_changes_move_the_dashboard_tree_in_and_out_of_view() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a5")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let u3 = TestServer::device(&t, 2, "dev_u3");
    let metric = first_key(&s, &alice, "MetricDefinition").await;
    let d = create(&s, &alice, json!({"name_i18n":{"default":"Private"}})).await;
    let id = d["id"].as_str().unwrap().to_string();
    let w = s
        .command(
            &alice,
            Method::POST,
            &format!("{DASHBOARDS}/{id}/widgets"),
            json!({"type":"kpi","title_i18n":{"default":"Occ"},"metricKey":metric}),
            None,
            None,
        )
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.text());
    let wid = w.json()["id"].as_str().unwrap().to_string();
    let (items, _, cursor) = s.drain(&u3, None, 500).await;
    assert!(upserts_of(&items, "Dashboard", &id).is_empty());

    let r = put(&s, &alice, &id, json!({"scope":"tenant"}), Some("1")).await;
    assert_eq!(r.status, StatusCode::OK);
    let (items, _, cursor) = s.drain(&u3, Some(cursor), 500).await;
    assert_eq!(upserts_of(&items, "Dashboard", &id).len(), 1);
    assert_eq!(
        upserts_of(&items, "Widget", &wid).len(),
        1,
        "the widget written before u3's cursor arrives through a refill: {items:?}"
    );

    let r = put(&s, &alice, &id, json!({"scope":"own"}), Some("2")).await;
    assert_eq!(r.status, StatusCode::OK);
    let (items, _, _) = s.drain(&u3, Some(cursor), 500).await;
    for kind in ["Dashboard", "Widget", "WidgetSnapshot"] {
        assert!(
            items
                .iter()
                .any(|i| i["kind"] == kind && i["op"] == "reset"),
            "{kind} reset: {items:?}"
        );
    }
    assert!(upserts_of(&items, "Dashboard", &id).is_empty());
    assert!(upserts_of(&items, "Widget", &wid).is_empty());
}

#[tokio::test]
async fn server_only_share_entries_survive_a_sharing_update() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a6")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let bob = TestServer::device(&t, 1, "dev_b");
    let row = json!({"id":"dsh_embed","name_i18n":{"default":"Embedded"},"scope":"own",
        "ownerId":alice.user,"tables":[],"updatedAt":"2026-01-01T00:00:00Z","embedToken":"lse_secret",
        "sharedWith":[{"kind":"embed","token":"lse_secret","provider":"looker_studio"},
                      {"kind":"role","id":"finance"}]});
    let r = s
        .post(
            "/admin/rows",
            json!({"tenantId":"tnt_a6","kind":"Dashboard","op":"upsert","row":row}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = put(
        &s,
        &alice,
        "dsh_embed",
        json!({"sharedWith":[{"kind":"user","id":bob.user}]}),
        Some("1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let answer = r.json();
    assert_eq!(answer["sharedWith"], json!([{"kind":"user","id":bob.user}]));
    assert!(
        answer.get("embedToken").is_none(),
        "never leaves the server"
    );
    let stored = s.row("tnt_a6", "Dashboard", "dsh_embed").await["row"].clone();
    assert_eq!(stored["embedToken"], "lse_secret");
    assert_eq!(
        stored["sharedWith"],
        json!([{"kind":"user","id":bob.user},
               {"kind":"embed","token":"lse_secret","provider":"looker_studio"}])
    );
    assert_eq!(
        s.pulled_rows(&bob, "Dashboard")
            .await
            .iter()
            .filter(|d| d["row"]["id"] == "dsh_embed")
            .count(),
        1
    );
}

#[tokio::test]
async fn widgets_are_added_to_visible_dashboards() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a7")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let phone = alice.other_device("dev_phone");
    let bob = TestServer::device(&t, 1, "dev_b");
    let metric = first_key(&s, &alice, "MetricDefinition").await;
    let my_query = s.query_ids(&alice).await[0].clone();
    let bobs_query = s.query_ids(&bob).await[0].clone();
    let d = create(&s, &alice, json!({"name_i18n":{"default":"With widgets"}})).await;
    let id = d["id"].as_str().unwrap();
    let path = format!("{DASHBOARDS}/{id}/widgets");
    let (_, _, cursor) = s.drain(&phone, None, 500).await;

    let widget = json!({"type":"timeseries","title_i18n":{"default":"ADR"},"metricKey":metric,
        "queryId":my_query,"params":{"window":"last_7_days"},
        "freshness":{"targetMinutes":5,"alertAtMinutes":20},"layout":{"x":3,"y":0,"w":6,"h":4}});
    let r = s
        .command(&alice, Method::POST, &path, widget.clone(), None, None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let w = r.json();
    assert!(w["id"].as_str().unwrap().starts_with("wid_"));
    assert_eq!(w["dashboardId"], id);
    assert_eq!(w["version"], 1);
    assert!(w["paramsHash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(w["layout"], json!({"x":3,"y":0,"w":6,"h":4}));
    let r = s
        .command(
            &alice,
            Method::POST,
            &path,
            json!({"type":"kpi","title_i18n":{"default":"K"},"metricKey":metric}),
            Some("1"),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "If-Match on the dashboard's version"
    );
    assert_eq!(
        r.json()["freshness"],
        json!({"targetMinutes":15,"alertAtMinutes":60})
    );

    let (items, _, _) = s.drain(&phone, Some(cursor), 500).await;
    let widgets: Vec<_> = items.iter().filter(|i| i["kind"] == "Widget").collect();
    assert_eq!(widgets.len(), 2, "{items:?}");
    assert_eq!(widgets[0]["row"]["id"], w["id"]);

    let with = |field: &str, value: Value| {
        let mut b = widget.clone();
        b[field] = value;
        b
    };
    for (body, error) in [
        (with("metricKey", json!("no_such_metric")), "unknown_metric"),
        (with("type", json!("pie")), "invalid_widget"),
        (with("title_i18n", json!({})), "invalid_name"),
        (with("queryId", json!(bobs_query)), "unknown_query"),
        (with("params", json!([])), "invalid_widget"),
        (
            with("freshness", json!({"targetMinutes":30,"alertAtMinutes":10})),
            "invalid_widget",
        ),
        (
            with("layout", json!({"x":0,"y":0,"w":0,"h":4})),
            "invalid_layout",
        ),
        (with("paramsHash", json!("sha256:x")), "field_not_editable"),
        (
            with("dashboardId", json!("dsh_other")),
            "field_not_editable",
        ),
    ] {
        let r = s
            .command(&alice, Method::POST, &path, body.clone(), None, None)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.json()["error"], error, "{body}");
    }
    let r = s
        .command(
            &alice,
            Method::POST,
            &path,
            widget.clone(),
            Some("\"7\""),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.json()["current"]["version"], 1);
    assert_eq!(r.json()["current"]["id"], id);
    let r = s
        .command(
            &alice,
            Method::POST,
            &format!("{DASHBOARDS}/dsh_missing/widgets"),
            widget.clone(),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s
        .command(&bob, Method::POST, &path, widget.clone(), None, None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "bob does not see the dashboard"
    );
    let live: Vec<_> = s
        .pulled_rows(&alice, "Widget")
        .await
        .into_iter()
        .filter(|w| w["row"]["dashboardId"] == id)
        .collect();
    assert_eq!(live.len(), 2);
}
