//! Local edits outlive everything that is not the user's decision: a page reload while the
//! server is unreachable, a 410 cold start and a 403 wipe. Against the real server.

use super::push_support::{
    applied, pending_ops, pulled_env, push_config, push_log, push_ok, push_with, query_ids, rename,
    server_query, shown, unreachable,
};
use sync_core::engine::{ApplyPlan, OutboxStore, PushError, Store};
use sync_core::protocol::{Kind, Row};
use sync_core::web::IdbStore;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn offline_renames_survive_a_reload_and_are_pushed_on_reconnect() {
    let mut env = pulled_env("offl", 3).await;
    let q = query_ids(&env.store).await[0].clone();
    let (v0, _) = server_query(&env.tenant, &q).await;

    let first = rename(&env.store, &q, "Offline draft").await;
    let second = rename(&env.store, &q, "Offline final").await;
    assert_eq!(second.op_id, first.op_id, "coalesced");
    let offline = unreachable(&env.tenant);
    let error = push_with(&env.store, &offline, &push_config(2))
        .await
        .unwrap_err();
    assert!(
        matches!(error, PushError::Offline { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(error.retryable());
    // The batch was fixed and stored before the first attempt.
    let batch = env.store.in_flight_batch().await.unwrap().unwrap();

    // "Reload": the page closes its connection; a new one opens the same database.
    env.store.close();
    env.store = IdbStore::open(&env.tenant.identity).await.unwrap();
    let store = &env.store;
    assert_eq!(shown(store, &q).await, Some(("Offline final".into(), true)));
    let ops = pending_ops(store).await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(
        (
            ops[0].op_id.as_str(),
            ops[0].expected_version,
            ops[0].name_i18n["default"].as_str()
        ),
        (first.op_id.as_str(), v0, Some("Offline final"))
    );
    assert_eq!(store.in_flight_batch().await.unwrap(), Some(batch));

    let report = push_ok(&env).await;
    assert!(report.resent_in_flight, "{report:?}");
    assert_eq!((report.ops_applied, report.batches), (1, 1), "{report:?}");
    assert_eq!(
        server_query(&env.tenant, &q).await,
        (v0 + 1, "Offline final".into())
    );
    assert_eq!(applied(&push_log(&env.tenant).await, &first.op_id), 1);
    assert!(pending_ops(&env.store).await.is_empty());
    let row = env.store.row(Kind::Query, &q).await.unwrap().unwrap();
    assert_eq!(row.version, v0 + 1);
    assert_eq!(
        shown(&env.store, &q).await,
        Some(("Offline final".into(), false))
    );
    // Pull brings the same version back: nothing changes.
    env.pull_drained().await;
    assert_eq!(
        env.store
            .row(Kind::Query, &q)
            .await
            .unwrap()
            .unwrap()
            .version,
        v0 + 1
    );
    env.finish().await;
}

/// `cursor` with one character of its signature changed.
fn tampered(cursor: &str) -> String {
    let (payload, signature) = cursor.split_once('.').expect("payload.signature");
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    format!("{payload}.{}", chars.into_iter().collect::<String>())
}

#[wasm_bindgen_test]
async fn the_outbox_survives_a_410_cold_start() {
    let env = pulled_env("o410", 2).await;
    let q = query_ids(&env.store).await[0].clone();
    let (v0, _) = server_query(&env.tenant, &q).await;
    let op = rename(&env.store, &q, "Kept through 410").await;
    let cursor = env.store.meta().await.unwrap().cursor.unwrap();
    env.store
        .commit_page(
            &ApplyPlan::<Row>::default(),
            Some(&cursor),
            &tampered(&cursor),
        )
        .await
        .unwrap();

    let report = env.pull_drained().await;
    assert_eq!(report.cold_restarts, 1, "{report:?}");
    assert_eq!(pending_ops(&env.store).await, vec![op.clone()]);
    assert_eq!(
        shown(&env.store, &q).await,
        Some(("Kept through 410".into(), true))
    );

    let report = push_ok(&env).await;
    assert_eq!(report.ops_applied, 1);
    assert_eq!(
        server_query(&env.tenant, &q).await,
        (v0 + 1, "Kept through 410".into())
    );
    env.finish().await;
}

#[wasm_bindgen_test]
async fn the_outbox_survives_a_403_wipe_and_pushing_waits_for_access() {
    let env = pulled_env("o403", 2).await;
    let q = query_ids(&env.store).await[1].clone();
    let (v0, _) = server_query(&env.tenant, &q).await;
    let op = rename(&env.store, &q, "Kept through 403").await;

    env.tenant.revoke(None).await;
    let error = env.pull_with(&env.config()).await.unwrap_err();
    assert_eq!(error.code(), "forbidden");
    assert!(env.store.rows(Kind::Query).await.unwrap().is_empty());
    assert_eq!(pending_ops(&env.store).await, vec![op.clone()]);

    // Paused: nothing is sent while access is revoked, nothing is dropped.
    let error = push_with(&env.store, &env.transport, &push_config(2))
        .await
        .unwrap_err();
    assert_eq!(error, PushError::Forbidden);
    assert_eq!(applied(&push_log(&env.tenant).await, &op.op_id), 0);
    assert_eq!(env.store.in_flight_batch().await.unwrap(), None);
    assert_eq!(pending_ops(&env.store).await, vec![op.clone()]);

    env.tenant.restore().await;
    env.pull_drained().await;
    assert_eq!(
        shown(&env.store, &q).await,
        Some(("Kept through 403".into(), true))
    );
    let report = push_ok(&env).await;
    assert_eq!(report.ops_applied, 1, "{report:?}");
    assert_eq!(
        server_query(&env.tenant, &q).await,
        (v0 + 1, "Kept through 403".into())
    );
    assert_eq!(applied(&push_log(&env.tenant).await, &op.op_id), 1);
    env.finish().await;
}
