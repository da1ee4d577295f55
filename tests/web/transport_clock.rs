//! The browser clock and randomness the retry policy runs on, in a window and in a worker.

use sync_core::engine::{Clock, Random};
use sync_core::web::{WebClock, WebRandom};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn web_clock_reads_date_now_and_sleeps_on_the_event_loop() {
    let before = js_sys::Date::now() as u64;
    let now = WebClock.now_ms();
    assert!(now >= before && now - before < 1_000, "{before} vs {now}");

    let started = js_sys::Date::now();
    WebClock.sleep(60).await;
    let slept = js_sys::Date::now() - started;
    assert!((55.0..5_000.0).contains(&slept), "slept {slept} ms");

    WebClock.sleep(0).await;
}

#[wasm_bindgen_test]
fn web_random_is_uniform_looking_and_in_range() {
    let draws: Vec<f64> = (0..1_000).map(|_| WebRandom.next_f64()).collect();
    assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    assert!((0.4..0.6).contains(&mean), "mean {mean}");
    let below_tenth = draws.iter().filter(|x| **x < 0.1).count();
    assert!(
        (40..170).contains(&below_tenth),
        "{below_tenth} of 1000 below 0.1"
    );
    let mut distinct = draws.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    assert!(distinct.len() > 990);
}
