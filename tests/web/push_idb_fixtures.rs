//! Fixtures of the `push_idb_*` suites: queries, rename intents, commands, conflicts and
//! dead letters as the engine would hand them to the store.

use super::idb_fixtures::{open_fresh, row};
use super::push_support::name;
use serde_json::json;
use sync_core::engine::{
    ApplyPlan, Conflict, ConflictSource, DeadLetter, DeferredCommand, Method, RenameIntent, Store,
    StoredRow,
};
use sync_core::protocol::identity::Identity;
use sync_core::protocol::Kind;
use sync_core::web::IdbStore;

pub fn query(id: &str, version: u64, default_name: &str) -> StoredRow {
    row(
        Kind::Query,
        id,
        version,
        json!({"ownerId": "usr_web", "name_i18n": {"default": default_name}}),
    )
}

pub fn intent(id: &str, default_name: &str, op_id: &str, now_ms: u64) -> RenameIntent {
    RenameIntent {
        query_id: id.into(),
        name_i18n: name(default_name).as_object().cloned().unwrap(),
        new_op_id: op_id.into(),
        now_ms,
    }
}

pub fn command(path: &str) -> DeferredCommand {
    DeferredCommand {
        seq: 0,
        command_id: format!("cmd_{path}"),
        method: Method::Put,
        path: format!("/api/v1/analytics/dashboards/{path}"),
        body: Some(json!({"name_i18n": {"default": "D"}, "layout": [1.5, 2]})),
        if_match: Some("3".into()),
        created_at_ms: 5,
    }
}

pub fn conflict(id: &str, op_id: &str) -> Conflict {
    Conflict {
        id: id.into(),
        kind: Kind::Query,
        entity_id: "qry_1".into(),
        local: json!({"name_i18n": {"default": "Mine"}}),
        server: json!({"version": 4, "name_i18n": {"default": "Theirs"}}),
        source: ConflictSource::Op {
            op_id: op_id.into(),
        },
        created_at_ms: 9,
        resolution: None,
        resolved_at_ms: None,
    }
}

pub fn dead_letter(id: &str) -> DeadLetter {
    DeadLetter {
        id: id.into(),
        source: "op".into(),
        kind: Kind::Query,
        entity_id: "qry_2".into(),
        status: 422,
        reason: "invalid_name".into(),
        payload: json!({"opId": "op_x"}),
        failed_at_ms: 10,
    }
}

/// A fresh store holding `qry_1` (v1) and `qry_2` (v3).
pub async fn store_with_queries() -> (Identity, IdbStore) {
    let (identity, store) = open_fresh().await;
    let plan = ApplyPlan {
        row_puts: vec![query("qry_1", 1, "One"), query("qry_2", 3, "Two")],
        ..ApplyPlan::default()
    };
    store.commit_page(&plan, None, "c1").await.unwrap();
    (identity, store)
}
