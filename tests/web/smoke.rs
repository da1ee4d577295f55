//! Smoke test of the browser half of the pipeline: IndexedDB works in this context, and the
//! reference server started by `make test-browser` can be paged through to `drained:true`
//! with the identity headers, cross-origin, from this context.
//!
//! It uses the platform directly rather than the crate's web layer, so a failure here points
//! at the environment (browser, driver, server, CORS), not at sync-core's own code.

use super::support::{
    delete_db, fresh_db_name, get, open_db, request_done, server_url, transaction_done,
};
use js_sys::{Object, Reflect};
use sync_core::protocol::parse_pull_page;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::IdbTransactionMode;

const STORE: &str = "records";

/// Identity of the demo user the server seeds with `--seed-demo`.
const HEADERS: [(&str, &str); 4] = [
    ("X-Tenant-Id", "tnt_demo"),
    ("X-User-Id", "usr_alice"),
    ("X-Device-Id", "dev_smoke"),
    ("Authorization", "Bearer tok_alice"),
];

/// More pages than the seeded demo tenant can need at 50 items a page; a server that never
/// drains fails the test instead of hanging it.
const MAX_PAGES: usize = 10_000;

#[wasm_bindgen_test]
async fn indexeddb_write_then_read_round_trips() {
    let name = fresh_db_name("smoke");
    let db = open_db(&name, &[STORE]).await.unwrap();

    let record = Object::new();
    Reflect::set(&record, &"title".into(), &"Occupancy".into()).unwrap();
    Reflect::set(&record, &"value".into(), &JsValue::from_f64(0.87)).unwrap();

    let tx = db
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .unwrap();
    let put = tx
        .object_store(STORE)
        .unwrap()
        .put_with_key(&record, &"kpi_1".into())
        .unwrap();
    request_done(&put).await.unwrap();
    transaction_done(&tx).await.unwrap();

    let tx = db.transaction_with_str(STORE).unwrap();
    let read = tx
        .object_store(STORE)
        .unwrap()
        .get(&"kpi_1".into())
        .unwrap();
    let back = request_done(&read).await.unwrap();
    assert_eq!(
        Reflect::get(&back, &"title".into()).unwrap().as_string(),
        Some("Occupancy".to_string())
    );
    assert_eq!(
        Reflect::get(&back, &"value".into()).unwrap().as_f64(),
        Some(0.87)
    );

    let tx = db.transaction_with_str(STORE).unwrap();
    let missing = tx
        .object_store(STORE)
        .unwrap()
        .get(&"kpi_2".into())
        .unwrap();
    assert!(request_done(&missing).await.unwrap().is_undefined());

    db.close();
    delete_db(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn pull_pages_through_to_drained() {
    let mut cursor: Option<String> = None;
    let mut items = 0usize;
    let mut pages = 0usize;
    loop {
        assert!(pages < MAX_PAGES, "not drained after {pages} pages");
        let mut url = format!("{}/internal/sync/pull?pageSize=50", server_url());
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(&String::from(js_sys::encode_uri_component(c)));
        }
        let (status, body) = get(&url, &HEADERS).await.unwrap_or_else(|e| {
            panic!(
                "fetch {url} failed (is the server running? `make test-browser` starts it): {e:?}"
            )
        });
        assert_eq!(status, 200, "GET {url} answered {status}: {body}");

        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(json["items"].is_array(), "no items array: {body}");
        assert!(json["nextCursor"].is_string(), "no nextCursor: {body}");
        // The same strict parser the engine uses must accept every page the server sends.
        let page = parse_pull_page(body.as_bytes()).unwrap();
        assert!(page.items.len() <= 50, "page larger than pageSize");

        items += page.items.len();
        pages += 1;
        cursor = Some(page.next_cursor);
        if page.drained {
            break;
        }
    }
    assert!(items > 0, "the seeded demo tenant served no items");
    assert!(pages > 1, "50 items a page should take more than one page");
}
