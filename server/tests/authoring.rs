//! Authoring commands (PROTOCOL §5): creating and updating dashboards under `If-Match`,
//! their validation, and who may change what.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

#[tokio::test]
async fn a_created_dashboard_reaches_the_devices_that_may_see_it() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a1")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let alice_phone = alice.other_device("dev_phone");
    let bob = TestServer::device(&t, 1, "dev_b");
    let u3 = TestServer::device(&t, 2, "dev_u3");
    let table = first_key(&s, &alice, "Projection").await;
    let mut cursors = Vec::new();
    for dev in [&alice_phone, &bob, &u3] {
        cursors.push(s.drain(dev, None, 500).await.2);
    }

    let d = create(
        &s,
        &alice,
        json!({"name_i18n":{"default":"Pickup this week"},"tables":[table],
               "sharedWith":[{"kind":"user","id":bob.user}],"layout":{"columns":12}}),
    )
    .await;
    let id = d["id"].as_str().unwrap();
    assert!(id.starts_with("dsh_"), "{id}");
    assert_eq!(d["version"], 1);
    assert_eq!(d["ownerId"], alice.user);
    assert_eq!(d["scope"], "own");
    assert_eq!(d["tables"], json!([table]));
    assert!(d["updatedAt"].is_string());

    for ((dev, cursor), sees) in [&alice_phone, &bob, &u3]
        .iter()
        .zip(&cursors)
        .zip([true, true, false])
    {
        let (items, _, _) = s.drain(dev, Some(cursor.clone()), 500).await;
        let got = upserts_of(&items, "Dashboard", id);
        assert_eq!(got.len(), usize::from(sees), "{}: {items:?}", dev.user);
        if sees {
            assert_eq!(got[0]["version"], 1);
            assert_eq!(got[0]["row"]["name_i18n"]["default"], "Pickup this week");
        }
    }
}

#[tokio::test]
async fn refused_creates_change_nothing() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a2")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let bob = TestServer::device(&t, 1, "dev_b");
    let before = s.pulled_rows(&alice, "Dashboard").await.len();
    let name = json!({"default":"D"});
    for (dev, body, error) in [
        (&alice, json!({}), "invalid_name"),
        (&alice, json!({"name_i18n":{"default":" "}}), "invalid_name"),
        (
            &alice,
            json!({"name_i18n":name,"id":"dsh_mine"}),
            "field_not_editable",
        ),
        (
            &alice,
            json!({"name_i18n":name,"version":3}),
            "field_not_editable",
        ),
        (
            &alice,
            json!({"name_i18n":name,"embedToken":"x"}),
            "field_not_editable",
        ),
        (
            &alice,
            json!({"name_i18n":name,"tables":["no_such_table"]}),
            "unknown_table",
        ),
        (
            &alice,
            json!({"name_i18n":name,"tables":"fact_x"}),
            "unknown_table",
        ),
        (
            &alice,
            json!({"name_i18n":name,"scope":"galaxy"}),
            "invalid_scope",
        ),
        (
            &alice,
            json!({"name_i18n":name,"scope":"role"}),
            "invalid_scope",
        ),
        (
            &alice,
            json!({"name_i18n":name,"scope":"property"}),
            "invalid_scope",
        ),
        (
            &bob,
            json!({"name_i18n":name,"scope":"property","propertyId":"prp_not_bobs"}),
            "invalid_scope",
        ),
        (
            &alice,
            json!({"name_i18n":name,"sharedWith":[{"kind":"embed","id":"x"}]}),
            "invalid_share",
        ),
        (
            &alice,
            json!({"name_i18n":name,"sharedWith":[{"kind":"user","id":"usr_ghost"}]}),
            "invalid_share",
        ),
        (
            &alice,
            json!({"name_i18n":name,"sharedWith":[{"kind":"role","id":"manager","token":"t"}]}),
            "invalid_share",
        ),
        (
            &alice,
            json!({"name_i18n":name,"layout":3}),
            "invalid_layout",
        ),
    ] {
        let r = s
            .command(dev, Method::POST, DASHBOARDS, body.clone(), None, None)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json()["error"], error, "{body}");
        assert!(r.json()["reason"].is_string());
    }
    let r = s
        .call(
            &alice,
            Method::POST,
            DASHBOARDS,
            Some("not json".into()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s
        .call(&alice, Method::POST, DASHBOARDS, Some("[1]".into()), &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(s.pulled_rows(&alice, "Dashboard").await.len(), before);

    // Scoped creates that are fine: role and tenant.
    let d = create(
        &s,
        &alice,
        json!({"name_i18n":name,"scope":"role","role":"front_desk"}),
    )
    .await;
    assert_eq!(d["scope"], "role");
    let d = create(&s, &bob, json!({"name_i18n":name,"scope":"tenant"})).await;
    assert_eq!(d["ownerId"], bob.user);

    let mut wrong = alice.clone();
    wrong.token = "tok_nope".into();
    let r = s
        .command(
            &wrong,
            Method::POST,
            DASHBOARDS,
            json!({"name_i18n":name}),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    s.post(
        "/admin/revoke",
        json!({"tenantId":"tnt_a2","userId":alice.user}),
    )
    .await;
    let r = s
        .command(
            &alice,
            Method::POST,
            DASHBOARDS,
            json!({"name_i18n":name}),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn updates_need_the_current_version_in_if_match() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a3")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let phone = alice.other_device("dev_phone");
    let bob = TestServer::device(&t, 1, "dev_b");
    let d = create(&s, &alice, json!({"name_i18n":{"default":"Mine"}})).await;
    let id = d["id"].as_str().unwrap();
    let (_, _, cursor) = s.drain(&phone, None, 500).await;

    let rename = json!({"name_i18n":{"default":"Renamed"}});
    let r = put(&s, &alice, id, rename.clone(), None).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(r.json(), json!({"error":"precondition_required"}));
    let r = put(&s, &alice, id, rename.clone(), Some("\"0\"")).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let body = r.json();
    assert_eq!(body["error"], "precondition_failed");
    assert_eq!(
        body["current"], d,
        "the dashboard as it is, with its version"
    );

    let r = put(&s, &alice, id, rename.clone(), Some("\"1\"")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["name_i18n"], json!({"default":"Renamed"}));
    let r = put(&s, &alice, id, json!({"layout":[1,2]}), Some("W/\"2\"")).await;
    assert_eq!(r.json()["version"], 3);
    assert_eq!(
        r.json()["name_i18n"],
        json!({"default":"Renamed"}),
        "other fields kept"
    );

    let (items, _, _) = s.drain(&phone, Some(cursor), 500).await;
    let got = upserts_of(&items, "Dashboard", id);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["version"], 3);
    assert_eq!(got[0]["row"]["layout"], json!([1, 2]));

    // Missing, and invisible (bob does not see alice's own dashboard): both 404.
    let r = put(&s, &alice, "dsh_missing", rename.clone(), Some("1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = put(&s, &bob, id, rename.clone(), Some("3")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "not_found");
    let r = put(&s, &alice, id, json!({"ownerId":bob.user}), Some("3")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.row("tnt_a3", "Dashboard", id).await["version"], 3);
}

#[tokio::test]
async fn only_the_owner_may_change_the_scope() {
    let s = server();
    let t = s.tenant(small_spec("tnt_a4")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let bob = TestServer::device(&t, 1, "dev_b");
    let d = create(
        &s,
        &alice,
        json!({"name_i18n":{"default":"Shared"},"sharedWith":[{"kind":"user","id":bob.user}]}),
    )
    .await;
    let id = d["id"].as_str().unwrap();
    let r = put(
        &s,
        &bob,
        id,
        json!({"name_i18n":{"default":"Bob was here"}}),
        Some("1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = put(&s, &bob, id, json!({"scope":"tenant"}), Some("2")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"], "field_not_editable");
    let r = put(&s, &bob, id, json!({"scope":"own","layout":{}}), Some("2")).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "unchanged owner-only fields may be sent"
    );
    let r = put(&s, &alice, id, json!({"scope":"tenant"}), Some("3")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["scope"], "tenant");
}
