//! Conflicts against the real server: a rename the server renamed meanwhile (409) and a
//! deferred dashboard update whose dashboard changed meanwhile (412), settled both ways.

use super::push_support::{
    answers, pending_ops, pulled_env, push_config, push_log, push_ok, push_with, query_ids, rename,
    server_query, server_rename, shown, unreachable,
};
use serde_json::{json, Value};
use sync_core::engine::{
    enqueue_command, open_conflicts, pending, resolve_conflict, ConflictSource, OutboxStore,
    Pending, Resolution, Store,
};
use sync_core::protocol::Kind;
use sync_core::web::{WebClock, WebRandom};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn a_server_side_rename_becomes_a_conflict_that_both_resolutions_settle() {
    let env = pulled_env("cfl", 2).await;
    let ids = query_ids(&env.store).await;
    let (keep, accept) = (&ids[0], &ids[1]);
    rename(&env.store, keep, "Mine (keep)").await;
    rename(&env.store, accept, "Mine (drop)").await;
    let server_keep = server_rename(&env.tenant, keep, "Theirs (keep)").await["version"]
        .as_u64()
        .unwrap();
    let server_accept = server_rename(&env.tenant, accept, "Theirs (accept)").await["version"]
        .as_u64()
        .unwrap();

    let report = push_ok(&env).await;
    assert_eq!((report.ops_applied, report.conflicts), (0, 2), "{report:?}");
    assert!(
        pending_ops(&env.store).await.is_empty(),
        "409s leave the queue"
    );
    let open = open_conflicts(&env.store).await.unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(
        report.new_conflicts,
        [open[0].id.clone(), open[1].id.clone()]
    );
    let by_entity = |id: &str| open.iter().find(|c| c.entity_id == id).unwrap().clone();
    let (c_keep, c_accept) = (by_entity(keep), by_entity(accept));
    assert_eq!(c_keep.local["name_i18n"]["default"], "Mine (keep)");
    assert_eq!(c_keep.server["version"], server_keep);
    assert_eq!(c_keep.server["name_i18n"]["default"], "Theirs (keep)");
    assert!(matches!(c_keep.source, ConflictSource::Op { .. }));

    // Keep local: re-queued on top of the server's version, pushed, the server takes it.
    let resolved = resolve_conflict(
        &env.store,
        &WebClock,
        &WebRandom,
        &c_keep.id,
        Resolution::KeepLocal,
    )
    .await
    .unwrap();
    assert_eq!(resolved.conflict.resolution, Some(Resolution::KeepLocal));
    let ops = pending_ops(&env.store).await;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].expected_version, server_keep);
    assert_eq!(
        shown(&env.store, keep).await,
        Some(("Mine (keep)".into(), true))
    );
    let report = push_ok(&env).await;
    assert_eq!(report.ops_applied, 1, "{report:?}");
    assert_eq!(
        server_query(&env.tenant, keep).await,
        (server_keep + 1, "Mine (keep)".into())
    );

    // Accept server: nothing re-queued; the pull brings the server's name.
    resolve_conflict(
        &env.store,
        &WebClock,
        &WebRandom,
        &c_accept.id,
        Resolution::AcceptServer,
    )
    .await
    .unwrap();
    assert!(pending_ops(&env.store).await.is_empty());
    env.pull_drained().await;
    assert_eq!(
        shown(&env.store, accept).await,
        Some(("Theirs (accept)".into(), false))
    );
    let row = env.store.row(Kind::Query, accept).await.unwrap().unwrap();
    assert_eq!(row.version, server_accept);
    assert_eq!(
        shown(&env.store, keep).await,
        Some(("Mine (keep)".into(), false))
    );

    // Both settled, kept for audit, none open; settling again is refused.
    assert!(open_conflicts(&env.store).await.unwrap().is_empty());
    let all = env.store.all_conflicts().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|c| c.resolution.is_some()));
    let again = resolve_conflict(
        &env.store,
        &WebClock,
        &WebRandom,
        &c_keep.id,
        Resolution::AcceptServer,
    )
    .await
    .unwrap_err();
    assert_eq!(again.code(), "not_found");
    env.finish().await;
}

#[wasm_bindgen_test]
async fn a_deferred_dashboard_update_meeting_a_changed_dashboard_becomes_a_412_conflict() {
    let env = pulled_env("cmd", 1).await;
    let dashboard = env.store.rows(Kind::Dashboard).await.unwrap()[0].clone();
    let path = format!("/api/v1/analytics/dashboards/{}", dashboard.key);
    let body = json!({"name_i18n": {"default": "Renamed offline"}});
    let command = enqueue_command(
        &env.store,
        &WebClock,
        &WebRandom,
        "PUT",
        &path,
        Some(body.clone()),
        Some(dashboard.version.to_string()),
    )
    .await
    .unwrap();

    // Offline: the command stays queued.
    let error = push_with(&env.store, &unreachable(&env.tenant), &push_config(1))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "offline");
    assert_eq!(
        pending(&env.store).await.unwrap(),
        vec![Pending::Command(command.clone())]
    );

    // Meanwhile the dashboard changes on the server.
    let mut server_row: Value =
        env.tenant.server_row(Kind::Dashboard, &dashboard.key).await["row"].clone();
    server_row["name_i18n"] = json!({"default": "Changed on the server"});
    let changed = env.tenant.upsert(Kind::Dashboard, server_row).await["version"]
        .as_u64()
        .unwrap();
    assert_eq!(changed, dashboard.version + 1);

    let report = push_ok(&env).await;
    assert_eq!(
        (report.conflicts, report.commands_done),
        (1, 0),
        "{report:?}"
    );
    let open = open_conflicts(&env.store).await.unwrap();
    assert_eq!(open.len(), 1);
    let conflict = &open[0];
    assert_eq!(
        (conflict.kind, conflict.entity_id.as_str()),
        (Kind::Dashboard, dashboard.key.as_str())
    );
    assert_eq!(conflict.local, body);
    assert_eq!(conflict.server["version"], changed);
    assert!(matches!(&conflict.source, ConflictSource::Command { command: c } if *c == command));
    assert!(pending(&env.store).await.unwrap().is_empty());

    // Keep local: the command again, with the server's version as If-Match.
    resolve_conflict(
        &env.store,
        &WebClock,
        &WebRandom,
        &conflict.id,
        Resolution::KeepLocal,
    )
    .await
    .unwrap();
    let queued = env.store.commands().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].if_match.as_deref(),
        Some(changed.to_string().as_str())
    );
    assert_ne!(queued[0].command_id, command.command_id);
    let report = push_ok(&env).await;
    assert_eq!(
        (report.conflicts, report.commands_done),
        (0, 1),
        "{report:?}"
    );
    let server = env.tenant.server_row(Kind::Dashboard, &dashboard.key).await;
    assert_eq!(server["version"], changed + 1);
    assert_eq!(server["row"]["name_i18n"]["default"], "Renamed offline");
    let statuses: Vec<u64> = answers(&push_log(&env.tenant).await, "command")
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [412, 200]);
    // The pull brings the update to the device.
    env.pull_drained().await;
    let local = env
        .store
        .row(Kind::Dashboard, &dashboard.key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(local.version, changed + 1);
    assert_eq!(local.row["name_i18n"]["default"], "Renamed offline");
    env.finish().await;
}
