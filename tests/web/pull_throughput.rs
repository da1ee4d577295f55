//! How fast the whole pull path runs in this browser: 10 pages of 2000 items from the real
//! server into a fresh database (fetch → parse → privacy → plan → IndexedDB commit, per
//! page). Prints items/s and MB/s; asserts only that the measurement measured what it says,
//! never a timing.

use super::pull_cold::BIG;
use super::pull_support::PullEnv;
use sync_core::engine::PullConfig;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

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
    env.finish().await;
}
