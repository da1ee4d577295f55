//! How fast the whole pull path runs in this browser: 10 pages of 2000 items from the real
//! server into a fresh database (fetch → parse → privacy → plan → IndexedDB commit, per
//! page). Prints items/s and MB/s; asserts only that the measurement measured what it says,
//! never a timing.
//!
//! For attribution it then fetches and parses the same 10 pages again without applying
//! them: what is left of the first figure is planning and IndexedDB.

use super::pull_cold::BIG;
use super::pull_support::PullEnv;
use sync_core::engine::pull_path;
use sync_core::engine::{HttpRequest, PullConfig, Transport};
use sync_core::protocol::parse_pull_page;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// Milliseconds spent fetching and parsing the first `pages` pages: (fetch, parse).
async fn fetch_and_parse_only(env: &PullEnv, pages: u32) -> (f64, f64) {
    let (mut fetching, mut parsing) = (0.0, 0.0);
    let mut cursor: Option<String> = None;
    for _ in 0..pages {
        let t0 = js_sys::Date::now();
        let path = pull_path(PAGE_SIZE, cursor.as_deref(), false);
        let response = env.transport.send(HttpRequest::get(path)).await.unwrap();
        let t1 = js_sys::Date::now();
        assert_eq!(response.status, 200);
        let page = parse_pull_page(&response.body).unwrap();
        parsing += js_sys::Date::now() - t1;
        fetching += t1 - t0;
        cursor = Some(page.next_cursor);
    }
    (fetching, parsing)
}

const PAGES: u32 = 10;
const PAGE_SIZE: u32 = 2000;

#[wasm_bindgen_test]
async fn ten_pages_of_two_thousand_items_from_the_server_into_indexeddb() {
    let env = PullEnv::big(BIG).await;
    let config = PullConfig {
        page_size: PAGE_SIZE,
        max_pages: PAGES,
        ..env.config()
    };
    let started = js_sys::Date::now();
    let report = env.pull_with(&config).await.unwrap();
    let seconds = (js_sys::Date::now() - started) / 1000.0;

    assert_eq!(report.pages, u64::from(PAGES));
    assert!(
        !report.drained,
        "the tenant must have more than 10 full pages"
    );
    assert_eq!(report.retries, 0);
    let items = f64::from(PAGES * PAGE_SIZE);
    let megabytes = report.bytes_pulled as f64 / 1e6;
    console_log!(
        "pull throughput: {items} items, {megabytes:.1} MB in {seconds:.2} s = {:.0} items/s, \
         {:.1} MB/s ({} items changed local state)",
        items / seconds,
        megabytes / seconds,
        report.items_applied()
    );
    let (fetching, parsing) = fetch_and_parse_only(&env, PAGES).await;
    console_log!(
        "of which: fetch (server + transfer) ≈ {fetching:.0} ms, parse ≈ {parsing:.0} ms, \
         privacy + plan + IndexedDB ≈ {:.0} ms",
        seconds * 1000.0 - fetching - parsing
    );
    env.finish().await;
}
