//! PROTOCOL §9.8: the server's copy in a 409 or 412 answer (`current`) is stored in the
//! conflict inbox and shown to the user, so it is stripped by §7 exactly like a pulled row:
//! no embed token, no `link` share, no `sql_template` of somebody else's query.

use crate::support::push::*;
use serde_json::json;

#[test]
fn a_409_current_is_stripped_before_it_is_stored() {
    let mut h = PushHarness::scripted(1);
    h.config.user_id = USER.into();
    let a = h.rename("qry_000", "A").unwrap();
    h.transport.respond(
        200,
        results_body(json!([{
            "opId": a.op_id, "id": "qry_000", "ok": false, "status": 409, "error": "version_conflict",
            "current": {"version": 3, "name_i18n": {"default": "Theirs"}, "ownerId": "usr_mallory",
                        "sql_template": "select * from secrets"}
        }])),
    );
    h.push().unwrap();
    let conflicts = h.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].server,
        json!({"version": 3, "name_i18n": {"default": "Theirs"}, "ownerId": "usr_mallory"})
    );
}

#[test]
fn a_412_current_is_stripped_before_it_is_stored() {
    let mut h = PushHarness::scripted(0);
    h.config.user_id = USER.into();
    h.command(
        "PUT",
        "/api/v1/analytics/dashboards/dsh_1",
        json!({"name_i18n": {"default": "Mine"}}),
        Some("3"),
    )
    .unwrap();
    h.transport.respond(
        412,
        json!({"error": "precondition_failed", "current": {
            "version": 4, "id": "dsh_1", "name_i18n": {"default": "Theirs"},
            "embedToken": "emb_secret",
            "settings": {"publicEmbedUrl": "https://x/embed/abc"},
            "sharedWith": [{"kind": "user", "id": "usr_bob"},
                           {"kind": "link", "id": "lnk_public", "token": "t"}]
        }})
        .to_string(),
    );
    h.push().unwrap();
    let conflicts = h.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].server,
        json!({"version": 4, "id": "dsh_1", "name_i18n": {"default": "Theirs"},
               "settings": {}, "sharedWith": [{"kind": "user", "id": "usr_bob"}]})
    );
}
