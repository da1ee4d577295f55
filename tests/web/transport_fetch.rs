//! `FetchTransport` against the real reference server (`make test-browser` starts it and
//! bakes its URL in as `SYNC_SERVER_URL`). Each test creates its own tenant through the admin
//! API, so injected faults never hit another test.

use super::idb_fixtures::within;
use super::support::{admin_token, fetch, server_url};
use js_sys::Function;
use serde_json::{json, Value};
use sync_core::engine::{HttpRequest, Method, Transport, TransportError};
use sync_core::protocol::identity::Identity;
use sync_core::protocol::parse_pull_page;
use sync_core::web::FetchTransport;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Headers, Request, RequestInit};

const PULL: &str = "/internal/sync/pull?pageSize=50";

/// POSTs JSON to the server's admin API and returns the JSON answer.
async fn admin_post(path: &str, body: Value) -> Value {
    let headers = Headers::new().unwrap();
    headers.set("Content-Type", "application/json").unwrap();
    headers
        .set("Authorization", &format!("Bearer {}", admin_token()))
        .unwrap();
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body.to_string()));
    let url = format!("{}{path}", server_url());
    let request = Request::new_with_str_and_init(&url, &init).unwrap();
    let response = fetch(&request)
        .await
        .unwrap_or_else(|e| panic!("POST {url} failed (is the server running?): {e:?}"));
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap_or_default();
    assert!(response.ok(), "POST {path} → {}: {text}", response.status());
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A tenant of our own with one user: (identity, token).
async fn own_tenant() -> (Identity, String) {
    let random = (js_sys::Math::random() * 1e15) as u64;
    let tenant = format!("tnt_tr{:x}{random:x}", js_sys::Date::now() as u64);
    let created = admin_post(
        "/admin/tenants",
        json!({"tenantId": tenant, "users": 1, "dashboards": 1, "widgetsPerDashboard": 2,
               "snapshotsPerWidget": 1, "alerts": 1}),
    )
    .await;
    let user = &created["users"][0];
    let user_id = user["userId"]
        .as_str()
        .expect("users[0].userId")
        .to_string();
    let token = user["token"].as_str().expect("users[0].token").to_string();
    let device = format!("dev_tr{random:x}");
    (Identity::new(&tenant, &user_id, &device).unwrap(), token)
}

/// A JS function returning `Promise.resolve(value)`, like a host's async `getToken`.
fn token_callback(token: &str) -> Function {
    Function::new_with_args("t", "return () => Promise.resolve(t);")
        .call1(&JsValue::UNDEFINED, &JsValue::from_str(token))
        .unwrap()
        .unchecked_into()
}

fn transport(identity: &Identity, token: &str) -> FetchTransport {
    FetchTransport::new(server_url(), identity.clone()).with_token_callback(token_callback(token))
}

#[wasm_bindgen_test]
async fn a_pull_answers_200_with_a_complete_page() {
    let (identity, token) = own_tenant().await;
    let response = transport(&identity, &token)
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let page = parse_pull_page(&response.body).unwrap();
    assert!(!page.items.is_empty());
    assert!(!page.next_cursor.is_empty());
}

#[wasm_bindgen_test]
async fn a_wrong_or_missing_token_is_a_401_response_not_an_error() {
    let (identity, _token) = own_tenant().await;
    let wrong = transport(&identity, "tok_wrong")
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    let body: Value = serde_json::from_slice(&wrong.body).unwrap();
    assert_eq!(body["error"], "unauthorized");

    let anonymous = FetchTransport::new(server_url(), identity)
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401);
}

#[wasm_bindgen_test]
async fn a_failing_token_callback_is_a_token_error() {
    let (identity, _token) = own_tenant().await;
    let rejecting: Function =
        Function::new_no_args("return Promise.reject(new Error('signed out'));");
    let result = FetchTransport::new(server_url(), identity.clone())
        .with_token_callback(rejecting)
        .send(HttpRequest::get(PULL))
        .await;
    assert!(
        matches!(&result, Err(TransportError::Token(m)) if m.contains("signed out")),
        "{result:?}"
    );
    let throwing: Function = Function::new_no_args("throw new Error('no session');");
    let result = FetchTransport::new(server_url(), identity)
        .with_token_callback(throwing)
        .send(HttpRequest::get(PULL))
        .await;
    assert!(
        matches!(result, Err(TransportError::Token(_))),
        "{result:?}"
    );
}

#[wasm_bindgen_test]
async fn a_token_callback_that_never_settles_is_a_token_timeout() {
    let (identity, token) = own_tenant().await;
    let never: Function = Function::new_no_args("return new Promise(() => {});");
    let started = js_sys::Date::now();
    let result = FetchTransport::new(server_url(), identity.clone())
        .with_token_callback(never)
        .with_token_timeout_ms(300)
        .send(HttpRequest::get(PULL))
        .await;
    let elapsed = js_sys::Date::now() - started;
    assert_eq!(result, Err(TransportError::TokenTimeout));
    assert!(
        elapsed < 2_000.0,
        "the token wait was not cut: {elapsed} ms"
    );
    // A callback that answers within the bound is used as before.
    let response = transport(&identity, &token)
        .with_token_timeout_ms(300)
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

#[wasm_bindgen_test]
async fn a_server_slower_than_the_timeout_is_a_timeout() {
    let (identity, token) = own_tenant().await;
    inject(&identity, json!({"type": "delay", "ms": 3000})).await;
    let slow = transport(&identity, &token).with_timeout_ms(500);
    let started = js_sys::Date::now();
    let result = slow.send(HttpRequest::get(PULL)).await;
    let elapsed = js_sys::Date::now() - started;
    assert_eq!(result, Err(TransportError::Timeout));
    assert!(
        elapsed < 2500.0,
        "the timeout did not cut the wait: {elapsed} ms"
    );

    // The fault was for one response only; the next request gets through in time.
    let response = slow.send(HttpRequest::get(PULL)).await.unwrap();
    assert_eq!(response.status, 200);
}

/// Queues one fault on the next pull response of `identity`'s tenant.
async fn inject(identity: &Identity, fault: Value) {
    admin_post(
        "/admin/faults",
        json!({"tenantId": identity.tenant_id, "target": "pull", "count": 1, "fault": fault}),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_429_carries_its_retry_after() {
    let (identity, token) = own_tenant().await;
    inject(&identity, json!({"type": "rate_limit", "retryAfter": 7})).await;
    let limited = transport(&identity, &token)
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.retry_after.as_deref().map(str::trim), Some("7"));

    let next = transport(&identity, &token)
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!((next.status, next.retry_after), (200, None));
}

#[wasm_bindgen_test]
async fn a_connection_dropped_mid_body_is_a_network_error() {
    let (identity, token) = own_tenant().await;
    inject(&identity, json!({"type": "drop"})).await;
    let result = transport(&identity, &token)
        .send(HttpRequest::get(PULL))
        .await;
    assert!(
        matches!(&result, Err(TransportError::Network(_))),
        "a cut-off body must not look like a response: {result:?}"
    );
}

#[wasm_bindgen_test]
async fn a_custom_fetch_receives_the_identity_headers() {
    let (identity, token) = own_tenant().await;
    let seen = js_sys::Array::new();
    let recording: Function = Function::new_with_args(
        "seen",
        "return (req) => { seen.push(req.headers.get('X-Tenant-Id') + ' ' + \
         req.headers.get('X-User-Id') + ' ' + req.headers.get('X-Device-Id') + ' ' + \
         req.headers.get('Authorization')); return fetch(req); };",
    )
    .call1(&JsValue::UNDEFINED, &seen)
    .unwrap()
    .unchecked_into();
    let response = transport(&identity, &token)
        .with_fetch(recording)
        .send(HttpRequest::get(PULL))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(seen.length(), 1);
    assert_eq!(
        seen.get(0).as_string().unwrap(),
        format!(
            "{} {} {} Bearer {token}",
            identity.tenant_id, identity.user_id, identity.device_id
        )
    );

    let not_a_response: Function = Function::new_no_args("return Promise.resolve(42);");
    let result = transport(&identity, &token)
        .with_fetch(not_a_response)
        .send(HttpRequest::get(PULL))
        .await;
    assert!(
        matches!(result, Err(TransportError::Network(_))),
        "{result:?}"
    );
}

#[wasm_bindgen_test]
async fn no_server_is_a_network_error_and_a_bad_header_is_refused() {
    let identity = Identity::new("tnt_nowhere", "usr_x", "dev_x").unwrap();
    // Port 9 (discard) is closed on the test machine.
    let result = FetchTransport::new("http://127.0.0.1:9", identity.clone())
        .send(HttpRequest::get(PULL))
        .await;
    assert!(
        matches!(result, Err(TransportError::Network(_))),
        "{result:?}"
    );

    let request = HttpRequest {
        method: Method::Put,
        path_and_query: "/api/v1/analytics/dashboards/dsh_1".into(),
        headers: vec![("If-Match".into(), "\"3\"\r\nX-Evil: 1".into())],
        body: Some("{}".into()),
    };
    let result = FetchTransport::new(server_url(), identity)
        .send(request)
        .await;
    assert!(
        matches!(result, Err(TransportError::Network(_))),
        "{result:?}"
    );
}

#[wasm_bindgen_test]
async fn a_path_a_url_parser_would_normalise_elsewhere_is_never_sent_nor_tokened() {
    // PROTOCOL §9.7: `%2e%2e` segments are `..` to the browser's URL parser, so this would
    // reach `/api/internal/sync/push` with the bearer token.
    let identity = Identity::new("tnt_demo", "usr_alice", "dev_web").unwrap();
    let calls = js_sys::Array::new();
    let spy = |label: &'static str| -> Function {
        Function::new_with_args(
            "calls, label",
            "return () => { calls.push(label); return Promise.resolve('tok_alice'); };",
        )
        .call2(&JsValue::UNDEFINED, &calls, &JsValue::from_str(label))
        .unwrap()
        .unchecked_into()
    };
    let t = FetchTransport::new(server_url(), identity)
        .with_token_callback(spy("token"))
        .with_fetch(spy("fetch"));
    let mut request =
        HttpRequest::get("/api/v1/analytics/dashboards/%2e%2e/%2e%2e/%2e%2e/internal/sync/push");
    request.method = sync_core::engine::Method::Put;
    let result = t.send(request).await;
    assert!(
        matches!(&result, Err(TransportError::Network(why)) if why.contains("refused")),
        "{result:?}"
    );
    assert_eq!(
        calls.length(),
        0,
        "neither the token callback nor fetch was called"
    );
}

/// A custom `fetch` that ignores the request's `AbortSignal` (a wrapper that rebuilds the
/// request from its URL drops it): one that never answers, and one whose response body never
/// ends. Both are cut by the request timeout, as the browser's own fetch is — else the pull or
/// push behind them, and every call queued after it, would wait forever.
#[wasm_bindgen_test]
async fn a_custom_fetch_that_ignores_the_abort_signal_still_times_out() {
    let never = Function::new_no_args("return new Promise(() => {});");
    let endless_body = Function::new_no_args(
        "return Promise.resolve(new Response(new ReadableStream({ start() {} }), { status: 200 }));",
    );
    for (what, fetch) in [("never answers", never), ("endless body", endless_body)] {
        let identity = Identity::new("tnt_fetch", "usr_fetch", "dev_fetch").unwrap();
        let started = js_sys::Date::now();
        let sent = wasm_bindgen_futures::future_to_promise(async move {
            let result = FetchTransport::new(server_url(), identity)
                .with_fetch(fetch)
                .with_timeout_ms(300)
                .send(HttpRequest::get(PULL))
                .await;
            Ok(JsValue::from_str(&format!("{result:?}")))
        });
        let answered = within(5_000, sent).await.map(|v| v.as_string());
        let elapsed = js_sys::Date::now() - started;
        assert_eq!(
            answered,
            Ok(Some(format!("{:?}", Err::<(), _>(TransportError::Timeout)))),
            "{what}"
        );
        assert!(
            elapsed < 2_000.0,
            "{what}: the timeout did not cut the wait: {elapsed} ms"
        );
    }
}
