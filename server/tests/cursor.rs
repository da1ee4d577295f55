//! Cursor verification: anything that does not verify is `410 cursor_invalid` with no data,
//! and key rotation accepts exactly the current and the previous key.

mod common;

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use sync_core::protocol::cursor::CursorCodec;
use sync_server::{cursor_key, ServerOptions};

fn assert_gone(r: &Reply) {
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
    assert_eq!(r.json(), json!({"error": "cursor_invalid"}));
}

async fn first_cursor(s: &TestServer, dev: &Device) -> String {
    let r = s.pull(dev, None, 5).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()["nextCursor"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn tampered_truncated_foreign_and_garbage_cursors_get_410_and_no_items() {
    let s = server();
    let t = s.tenant(small_spec("tnt_cur")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let cursor = first_cursor(&s, &alice).await;
    assert_eq!(
        s.pull(&alice, Some(&cursor), 5).await.status,
        StatusCode::OK
    );

    // Tampered payload (position rewound), signature kept.
    let (body, tag) = cursor.split_once('.').unwrap();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
    payload["k"]["Query"]["p"] = json!(0);
    let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(payload.to_string()));
    assert_gone(&s.pull(&alice, Some(&forged), 5).await);
    // Tampered signature.
    let mut bad_tag = cursor.clone();
    let last = bad_tag.pop().unwrap();
    bad_tag.push(if last == 'A' { 'B' } else { 'A' });
    assert_gone(&s.pull(&alice, Some(&bad_tag), 5).await);
    // Truncated, garbage, empty signature.
    assert_gone(&s.pull(&alice, Some(&cursor[..cursor.len() / 2]), 5).await);
    assert_gone(&s.pull(&alice, Some(&cursor[..cursor.len() - 1]), 5).await);
    assert_gone(&s.pull(&alice, Some("garbage"), 5).await);
    assert_gone(&s.pull(&alice, Some(&format!("{body}.")), 5).await);

    // Another device, another user, another tenant.
    assert_gone(&s.pull(&alice.other_device("dev_b"), Some(&cursor), 5).await);
    let bob = TestServer::device(&t, 1, "dev_a");
    assert_gone(&s.pull(&bob, Some(&cursor), 5).await);
    let t2 = s.tenant(small_spec("tnt_cur2")).await;
    let alice2 = TestServer::device(&t2, 0, "dev_a");
    assert_gone(&s.pull(&alice2, Some(&cursor), 5).await);

    // Signed with a key this server does not know.
    let stranger = CursorCodec::new(cursor_key("some other key"), None);
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
    payload["kid"] = json!("");
    let foreign = stranger.sign(&serde_json::from_value(payload).unwrap());
    assert_gone(&s.pull(&alice, Some(&foreign), 5).await);
}

#[tokio::test]
async fn rotation_accepts_the_previous_key_and_refuses_a_retired_one() {
    let db = test_db();
    let with_keys = |current: &str, previous: Option<&str>| ServerOptions {
        codec: CursorCodec::new(cursor_key(current), previous.map(cursor_key)),
        ..ServerOptions::for_tests()
    };
    let k1 = server_with(db.clone(), with_keys("key one", None));
    let t = k1.tenant(small_spec("tnt_rot")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let c1 = first_cursor(&k1, &alice).await;

    let k2 = server_with(db.clone(), with_keys("key two", Some("key one")));
    let r = k2.pull(&alice, Some(&c1), 5).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "previous key must still verify: {}",
        r.text()
    );
    let c2 = r.json()["nextCursor"].as_str().unwrap().to_string();
    let kid = |c: &str| {
        let body = URL_SAFE_NO_PAD
            .decode(c.split_once('.').unwrap().0)
            .unwrap();
        serde_json::from_slice::<Value>(&body).unwrap()["kid"].clone()
    };
    assert_eq!(
        kid(&c2),
        json!(&sync_server::cursor_key("key two").id),
        "re-signed with the current key"
    );
    assert_ne!(kid(&c1), kid(&c2));

    let k3 = server_with(db, with_keys("key three", Some("key two")));
    assert_gone(&k3.pull(&alice, Some(&c1), 5).await);
    assert_eq!(k3.pull(&alice, Some(&c2), 5).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_cursor_from_another_log_is_refused() {
    // Same key, fresh database: the cursor's positions are beyond this log's end.
    let a = server();
    let t = a.tenant(small_spec("tnt_same")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let (_, _, drained) = a.drain(&alice, None, 2000).await;
    let b = server();
    b.tenant(
        json!({"tenantId": "tnt_same", "users": 1, "dashboards": 1, "widgetsPerDashboard": 1,
                    "snapshotsPerWidget": 1, "alerts": 0, "queries": 0, "seed": 7}),
    )
    .await;
    assert_gone(&b.pull(&alice, Some(&drained), 5).await);
}
