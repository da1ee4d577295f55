//! PROTOCOL §9.10: the `fresh=true` rate limit is keyed on the authenticated (tenant,
//! user, device) and applied after authentication; push bodies ignore unknown fields and
//! answer wrong types with `400`.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn unauthenticated_fresh_requests_never_touch_the_rate_limit() {
    let s = server();
    let t = s.tenant(small_spec("tnt_fresh")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let mut forged = dev.clone();
    forged.token = "tok_wrong".into();
    // Before: a flood of bad-token fresh pulls for the device neither consumes its slot…
    for _ in 0..3 {
        let r = s.pull_query(&forged, "?fresh=true").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    }
    let mut revoked_other = TestServer::device(&t, 1, "dev_1");
    s.post(
        "/admin/revoke",
        json!({"tenantId":"tnt_fresh","userId":revoked_other.user}),
    )
    .await;
    assert_eq!(
        s.pull_query(&revoked_other, "?fresh=true").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.pull_query(&dev, "?fresh=true").await.status,
        StatusCode::OK
    );
    // …nor, once the slot is used, gets a 429 that would tell it anything: still 401.
    assert_eq!(
        s.pull_query(&forged, "?fresh=true").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.pull_query(&dev, "?fresh=true&cursor=AAAA.BBBB")
            .await
            .status,
        StatusCode::GONE,
        "the cursor is checked before the limit"
    );
    let r = s.pull_query(&dev, "?fresh=true").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    // Keyed on the whole authenticated triple: another device, or another user on the
    // same device id, has its own slot.
    assert_eq!(
        s.pull_query(&dev.other_device("dev_2"), "?fresh=true")
            .await
            .status,
        StatusCode::OK
    );
    s.post(
        "/admin/restore",
        json!({"tenantId":"tnt_fresh","userId":revoked_other.user}),
    )
    .await;
    revoked_other.device = dev.device.clone();
    assert_eq!(
        s.pull_query(&revoked_other, "?fresh=true").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn push_bodies_ignore_unknown_fields_and_refuse_wrong_types() {
    let s = server();
    let t = s.tenant(small_spec("tnt_body")).await;
    let dev = TestServer::device(&t, 0, "dev_1");
    let q = s.query_ids(&dev).await[0].clone();
    let key = key_of(&[json!({"opId": "op_extra"})]);
    let body = json!({
        "ops": [{"opId":"op_extra","kind":"Query","id":q,"expectedVersion":1,
                 "patch":{"name_i18n":{"default":"With extras"}},
                 "clientTime":"2026-01-01T00:00:00Z","meta":{"nested":[1,2]}}],
        "batchId": "b_1", "client": {"version": "9.9"}
    });
    let r = s.push_raw(&dev, Some(&key), &body.to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["results"][0]["ok"], true, "{}", r.text());

    let wrong_types = [
        json!({"ops": {}}),
        json!({"ops": "op_1"}),
        json!({"ops": null}),
        json!({}),
        json!([]),
        json!({"ops": [{"opId": 1, "kind":"Query","id":q,"expectedVersion":1,"patch":{}}]}),
        json!({"ops": [{"opId":"op_1","kind":7,"id":q,"expectedVersion":1,"patch":{}}]}),
        json!({"ops": [{"opId":"op_1","kind":"Query","id":[q],"expectedVersion":1,"patch":{}}]}),
        json!({"ops": [{"opId":"op_1","kind":"Query","id":q,"expectedVersion":"1","patch":{}}]}),
        json!({"ops": [{"opId":"op_1","kind":"Query","id":q,"expectedVersion":-1,"patch":{}}]}),
        json!({"ops": [{"opId":"op_1","kind":"Query","id":q,"expectedVersion":1.5,"patch":{}}]}),
        json!({"ops": [{"opId":"op_1","kind":"Query","id":q,"expectedVersion":1,"patch":"x"}]}),
        json!({"ops": [{"opId":"op_1","kind":"Query","id":q,"expectedVersion":1}]}),
        json!({"ops": [7]}),
    ];
    for (i, body) in wrong_types.iter().enumerate() {
        let key = key_of(&[json!({"opId": format!("op_w{i}")})]);
        let r = s.push_raw(&dev, Some(&key), &body.to_string()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text());
        assert_eq!(r.json()["error"], "bad_request", "{body}");
    }
    for raw in ["", "not json", "{\"ops\":[", "\u{0}"] {
        let r = s.push_raw(&dev, Some(&key_of(&[])), raw).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{raw:?}: {}", r.text());
    }
}
