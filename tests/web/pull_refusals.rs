//! The server refusing the device: a cursor it cannot verify (410 → cold restart in the
//! same call, the rows kept until it drains, same data at the end) and revoked access (403 → the named kinds, or all,
//! wiped with the cursor and the flag set; restored access refills and clears the flag).

use super::pull_support::{PullEnv, RawDump};
use super::server_admin::TenantSize;
use serde_json::json;
use sync_core::engine::{ApplyPlan, PullError, Store};
use sync_core::protocol::{Kind, Row};
use wasm_bindgen_test::wasm_bindgen_test;

/// `cursor` with one character of its signature changed (the first one, whose six bits
/// all count, so the decoded MAC really differs).
fn tampered(cursor: &str) -> String {
    let (payload, signature) = cursor.split_once('.').expect("payload.signature");
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    format!("{payload}.{}", chars.into_iter().collect::<String>())
}

#[wasm_bindgen_test]
async fn a_tampered_cursor_is_refused_and_the_pull_cold_restarts_to_the_same_data() {
    let env = PullEnv::new("gone", TenantSize::SMALL).await;
    env.pull_drained().await;
    let before = env.dump().await;
    let cursor = before.cursor().unwrap().to_string();
    let bad = tampered(&cursor);
    env.store
        .commit_page(&ApplyPlan::<Row>::default(), Some(&cursor), &bad)
        .await
        .unwrap();
    assert_eq!(env.dump().await.cursor(), Some(bad.as_str()));

    let report = env.pull_drained().await;
    assert_eq!(report.cold_restarts, 1, "{report:?}");
    // Everything came again, into a database that kept its rows until the cold pull
    // drained (PROTOCOL §9.1): nothing was newer, nothing had to be swept.
    let versioned: u64 = Kind::ALL
        .into_iter()
        .filter(|k| k.is_versioned())
        .map(|k| before.counts()[&k] as u64)
        .sum();
    for kind in Kind::ALL.into_iter().filter(|k| k.is_versioned()) {
        assert_eq!(report.applied.get(&kind), None, "{kind}");
    }
    assert!(report.duplicates_skipped >= versioned, "{report:?}");
    assert_eq!((report.rows_swept, report.snapshots_swept), (0, 0));
    let after = env.dump().await;
    assert_eq!(after.stores, before.stores);
    assert!(after.cursor().is_some_and(|c| c != bad));
    env.finish().await;
}

/// The stores of `dump` with `kinds` emptied.
fn without(dump: &RawDump, kinds: &[Kind]) -> RawDump {
    let mut out = dump.clone();
    for kind in kinds {
        out.stores.get_mut(kind).unwrap().clear();
    }
    out
}

#[wasm_bindgen_test]
async fn revoked_access_wipes_the_named_kinds_or_all_and_restored_access_refills() {
    let env = PullEnv::new("deny", TenantSize::SMALL).await;
    env.pull_drained().await;
    let before = env.dump().await;
    assert!(
        before.counts().values().all(|n| *n > 0),
        "{:?}",
        before.counts()
    );

    for named in [Some(vec![Kind::Query, Kind::DqAlertOpen]), None] {
        env.tenant.revoke(named.as_deref()).await;
        let wiped = named.clone().unwrap_or_else(|| Kind::ALL.to_vec());
        let error = env.pull_with(&env.config()).await.unwrap_err();
        assert_eq!(error.code(), "forbidden");
        assert_eq!(
            error,
            PullError::Forbidden {
                kinds: wiped.clone()
            }
        );
        let denied = env.dump().await;
        assert_eq!(denied.stores, without(&before, &wiped).stores, "{named:?}");
        assert_eq!(denied.cursor(), None);
        assert_eq!(denied.meta.get("accessRevoked"), Some(&json!(true)));
        assert!(env.store.meta().await.unwrap().access_revoked);

        // Still revoked: refused again, nothing comes back.
        let again = env.pull_with(&env.config()).await.unwrap_err();
        assert_eq!(again.code(), "forbidden");
        assert_eq!(env.dump().await.stores, denied.stores);

        env.tenant.restore().await;
        let report = env.pull_drained().await;
        assert_eq!(report.cold_restarts, 0);
        let restored = env.dump().await;
        assert_eq!(restored.stores, before.stores, "{named:?} refilled");
        assert!(restored.cursor().is_some());
        assert_eq!(restored.meta.get("accessRevoked"), Some(&json!(false)));
        assert!(!env.store.meta().await.unwrap().access_revoked);
    }
    env.finish().await;
}
