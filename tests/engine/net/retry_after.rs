//! PROTOCOL §9.5: `Retry-After` (delta-seconds or HTTP date, on a 429 or a 503) is binding on
//! every path that sends requests: once a server asked to wait, no request to that endpoint
//! leaves before the time, whichever call (manual sync, autosync, a timer, a focus or online
//! trigger) tries next, and however long the wait (no cap below one hour).

use crate::support::push::{query_id, PushHarness};
use sync_core::engine::{
    pull, push, Clock, GatedTransport, ManualClock, PullConfig, PushConfig, ScriptedTransport,
};

type Gated<'a> = GatedTransport<&'a ScriptedTransport, &'a ManualClock>;

const HOUR_AND_A_HALF_S: u64 = 5_400;

fn pull_once(h: &PushHarness, t: &Gated<'_>) -> Result<u64, String> {
    let config = PullConfig::new(crate::support::USER);
    crate::support::block_on(pull(&h.store, t, &h.clock, &h.random, &config, &mut |_| {}))
        .map(|r| r.pages)
        .map_err(|e| e.to_string())
}

fn push_once(h: &PushHarness, t: &Gated<'_>) -> Result<u64, String> {
    crate::support::block_on(push(
        &h.store,
        t,
        &h.clock,
        &h.random,
        &PushConfig::default(),
        &mut |_| {},
    ))
    .map(|r| r.ops_applied)
    .map_err(|e| e.to_string())
}

fn pulls_sent(t: &Gated<'_>) -> usize {
    t.inner()
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/internal/sync/pull"))
        .count()
}

#[test]
fn a_long_retry_after_holds_every_later_call_to_that_endpoint() {
    let h = PushHarness::with_server(1);
    h.transport.rate_limit(&HOUR_AND_A_HALF_S.to_string());
    let t = GatedTransport::new(&h.transport, &h.clock);
    let before = pulls_sent(&t); // the harness's own first pull
    let e = pull_once(&h, &t).unwrap_err();
    assert!(e.contains("rate limited"), "{e}");
    assert_eq!(pulls_sent(&t), before + 1);
    let asked = h.clock.now_ms() + HOUR_AND_A_HALF_S * 1000;
    assert_eq!(t.retry_at(h.clock.now_ms()), Some(asked));

    // Every later call in the window (an autosync tick, a focus trigger, a manual sync)
    // sends nothing to the pull endpoint.
    for minutes in [0, 1, 30, 89] {
        h.clock.advance(if minutes == 0 { 0 } else { 60_000 });
        assert!(pull_once(&h, &t).is_err(), "{minutes}");
        assert_eq!(pulls_sent(&t), before + 1, "{minutes}");
    }
    // Other endpoints are not held.
    h.rename(&query_id(0), "N").unwrap();
    assert_eq!(push_once(&h, &t), Ok(1));

    h.clock.advance(asked - h.clock.now_ms());
    assert_eq!(t.retry_at(h.clock.now_ms()), None);
    assert!(pull_once(&h, &t).is_ok());
    assert_eq!(pulls_sent(&t), before + 2);
}

#[test]
fn an_http_date_and_a_503_hold_the_endpoint_too() {
    let h = PushHarness::with_server(1);
    // 2026-01-01T02:00:00Z is two hours after the harness clock's start.
    h.transport.push(Ok(sync_core::engine::HttpResponse {
        status: 503,
        retry_after: Some("Thu, 01 Jan 2026 02:00:00 GMT".into()),
        body: b"<html>maintenance</html>".to_vec(),
    }));
    let t = GatedTransport::new(&h.transport, &h.clock);
    let before = pulls_sent(&t); // the harness's own first pull
    assert!(pull_once(&h, &t).is_err());
    assert_eq!(
        pulls_sent(&t),
        before + 1,
        "the retry after the 503 waited for the date"
    );
    let two_hours = 2 * 3_600_000;
    assert_eq!(
        t.retry_at(h.clock.now_ms()),
        Some(crate::support::T0 + two_hours)
    );
    h.clock
        .advance(crate::support::T0 + two_hours - h.clock.now_ms());
    assert!(pull_once(&h, &t).is_ok());
}

#[test]
fn a_short_retry_after_is_slept_through_within_the_call() {
    let h = PushHarness::with_server(1);
    h.rename(&query_id(0), "N").unwrap();
    h.transport.rate_limit("7");
    let t = GatedTransport::new(&h.transport, &h.clock);
    assert_eq!(push_once(&h, &t), Ok(1));
    assert!(h.clock.sleeps().contains(&7_000));
    assert_eq!(t.retry_at(h.clock.now_ms()), None);
}
