//! Transient failures injected by the real server (`/admin/faults`): a 429 is waited out
//! for at least its `Retry-After`, 500s are retried with backoff, and a truncated or
//! malformed body or a dropped connection applies nothing and leaves the cursor where it was.

use super::pull_support::{PullEnv, RecordingStore};
use super::server_admin::TenantSize;
use serde_json::{json, Value};
use sync_core::protocol::{Kind, KindCounts};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn a_429_is_waited_out_for_its_retry_after_then_the_pull_succeeds() {
    let env = PullEnv::new("wait", TenantSize::SMALL).await;
    env.tenant
        .inject_pull_faults(json!({"type": "rate_limit", "retryAfter": 1}), 1)
        .await;
    let started = js_sys::Date::now();
    let report = env.pull_drained().await;
    let elapsed = js_sys::Date::now() - started;
    assert!(elapsed >= 1000.0, "waited only {elapsed} ms");
    assert!(report.retries >= 1, "{report:?}");
    assert!(report.duration_ms >= 1000, "{report:?}");
    let dump = env.dump().await;
    assert!(dump.counts()[&Kind::Widget] > 0 && dump.cursor().is_some());
    env.finish().await;
}

#[wasm_bindgen_test]
async fn two_500s_are_retried_with_backoff_then_the_pull_succeeds() {
    let env = PullEnv::new("retry", TenantSize::SMALL).await;
    env.tenant
        .inject_pull_faults(json!({"type": "status", "status": 500}), 2)
        .await;
    let report = env.pull_drained().await;
    assert_eq!(report.retries, 2, "{report:?}");
    assert_eq!(report.pages, 1);
    let dump = env.dump().await;
    assert!(dump.counts()[&Kind::Widget] > 0 && dump.cursor().is_some());

    // With fewer attempts than failures the call gives up with a retryable error.
    env.tenant
        .inject_pull_faults(json!({"type": "status", "status": 503}), 2)
        .await;
    let mut config = env.config();
    config.retry.max_attempts = 2;
    let error = env.pull_with(&config).await.unwrap_err();
    assert_eq!((error.code(), error.retryable()), ("server_error", true));
    assert_eq!(env.dump().await, dump);
    env.finish().await;
}

#[wasm_bindgen_test]
async fn broken_bodies_and_dropped_connections_apply_nothing_and_keep_the_cursor() {
    let env = PullEnv::new("broken", TenantSize::SMALL).await;
    env.pull_drained().await;
    // Give the next page something to apply, so "nothing applied" means something.
    let widget = env.dump().await.keys(Kind::Widget)[0].clone();
    let mut row = env.tenant.server_row(Kind::Widget, &widget).await["row"].clone();
    row["title_i18n"] = json!({"default": "ADR (renamed)"});
    env.tenant.upsert(Kind::Widget, row.clone()).await;
    let before = env.dump().await;
    let mut once = env.config();
    once.retry.max_attempts = 1;

    let faults: [(Value, &str); 3] = [
        (json!({"type": "truncate"}), "bad_response"),
        (json!({"type": "malformed"}), "bad_response"),
        (json!({"type": "drop"}), "offline"),
    ];
    for (fault, code) in faults {
        env.tenant.inject_pull_faults(fault.clone(), 1).await;
        let recording = RecordingStore::new(&env.store);
        let error = match env.pull_into(&recording, &once).await {
            Err(error) => error,
            Ok(report) => panic!("{fault} did not fail the pull: {report:?}"),
        };
        assert_eq!(error.code(), code, "{fault}: {error}");
        assert!(error.retryable(), "{fault}");
        assert!(recording.commits.borrow().is_empty(), "{fault} committed");
        assert_eq!(env.dump().await, before, "{fault} changed the database");
        // The engine's single request consumed the fault; nothing is left for the next step.
        assert_eq!(env.tenant.clear_faults().await, 0, "{fault}");
    }

    // With attempts to spare, a broken body is retried within the same call.
    env.tenant
        .inject_pull_faults(json!({"type": "truncate"}), 1)
        .await;
    let report = env.pull_drained().await;
    assert_eq!(report.retries, 1, "{report:?}");
    assert_eq!(report.applied, KindCounts::from([(Kind::Widget, 1)]));
    let after = env.dump().await;
    assert_eq!(after.record(Kind::Widget, &widget).unwrap()["row"], row);
    assert_ne!(after.cursor(), before.cursor());
    env.finish().await;
}
