//! Privacy on device (PROTOCOL §7), applied to every pulled row before it is planned, so
//! nothing the contract forbids ever reaches storage — even from a server that sends it.
//!
//! - `Dashboard.sharedWith`: only `{kind, id}` entries of kind `user` or `role`; and no field
//!   whose name contains "embed" (any case), at any depth of a Dashboard row, so an embed
//!   token cannot hide under another name or inside a nested object.
//! - `Query.sql_template`: only on queries the device's user owns.
//! - `DqAlertOpen`: only `id`, `checkKey`, `severity`, `observedAt`.

use crate::protocol::{Kind, PullItem, Row};
use serde_json::{Map, Value};

/// The only fields of a `DqAlertOpen` row a device keeps.
const ALERT_FIELDS: [&str; 4] = ["id", "checkKey", "severity", "observedAt"];

/// Strips one item's row in place; items without a row pass through.
pub fn strip_item(item: &mut PullItem, user_id: &str) {
    if let PullItem::Upsert { kind, row, .. } | PullItem::Append { kind, row } = item {
        strip_row(*kind, row, user_id);
    }
}

/// Strips a row of `kind` in place.
pub fn strip_row(kind: Kind, row: &mut Row, user_id: &str) {
    match kind {
        Kind::Dashboard => {
            drop_embed_fields(row);
            if let Some(shared) = row.get_mut("sharedWith") {
                *shared = match shared.take() {
                    Value::Array(entries) => {
                        Value::Array(entries.into_iter().filter_map(share_entry).collect())
                    }
                    // Not a list: nothing in it can be trusted to be a plain grant.
                    _ => Value::Array(Vec::new()),
                };
            }
        }
        Kind::Query => {
            let owned = matches!(row.get("ownerId"), Some(Value::String(o)) if o == user_id);
            if !owned || user_id.is_empty() {
                row.remove("sql_template");
            }
        }
        Kind::DqAlertOpen => row.retain(|k, _| ALERT_FIELDS.contains(&k.as_str())),
        Kind::Widget | Kind::MetricDefinition | Kind::WidgetSnapshot | Kind::Projection => {}
    }
}

/// Strips a server copy of an entity of `kind` (the `current` of a 409 or 412 answer, stored
/// in a conflict and shown to the user) exactly like a pulled row (PROTOCOL §9.8). Anything
/// that is not an object is not a row: it is replaced by `null` rather than kept unread.
pub fn strip_value(kind: Kind, value: Value, user_id: &str) -> Value {
    match value {
        Value::Object(mut row) => {
            strip_row(kind, &mut row, user_id);
            Value::Object(row)
        }
        _ => Value::Null,
    }
}

/// A `sharedWith` entry reduced to `{kind, id}`, or `None` when it is not a user/role grant.
fn share_entry(entry: Value) -> Option<Value> {
    let Value::Object(mut o) = entry else {
        return None;
    };
    let kind = match o.remove("kind") {
        Some(Value::String(k)) if k == "user" || k == "role" => k,
        _ => return None,
    };
    let id = match o.remove("id") {
        Some(Value::String(id)) if !id.is_empty() => id,
        _ => return None,
    };
    let mut kept = Map::new();
    kept.insert("kind".into(), Value::String(kind));
    kept.insert("id".into(), Value::String(id));
    Some(Value::Object(kept))
}

/// Whether `name` contains "embed" in any ASCII case, without lower-casing a copy.
fn is_embed_field(name: &str) -> bool {
    name.as_bytes()
        .windows(5)
        .any(|w| w.eq_ignore_ascii_case(b"embed"))
}

/// Removes every field whose name contains "embed", recursively through objects and arrays.
fn drop_embed_fields(map: &mut Map<String, Value>) {
    map.retain(|k, _| !is_embed_field(k));
    for v in map.values_mut() {
        drop_embed_in_value(v);
    }
}

fn drop_embed_in_value(value: &mut Value) {
    match value {
        Value::Object(m) => drop_embed_fields(m),
        Value::Array(items) => items.iter_mut().for_each(drop_embed_in_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Row {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn dashboard_keeps_only_user_and_role_grants_and_no_embeds() {
        let mut r = row(json!({
            "id": "dsh_1", "name_i18n": {"default": "Ops"}, "embedToken": "secret",
            "layout": {"EMBED_url": "https://x", "cols": 3},
            "sharedWith": [
                {"kind": "user", "id": "usr_b", "embedToken": "t"},
                {"kind": "role", "id": "rol_mgr"},
                {"kind": "embed", "id": "emb_1", "token": "t"},
                {"kind": "link", "id": "lnk_1"},
                {"kind": "user"},
                "usr_c"
            ]
        }));
        strip_row(Kind::Dashboard, &mut r, "usr_a");
        assert_eq!(
            Value::Object(r),
            json!({"id": "dsh_1", "name_i18n": {"default": "Ops"}, "layout": {"cols": 3},
                   "sharedWith": [{"kind": "user", "id": "usr_b"}, {"kind": "role", "id": "rol_mgr"}]})
        );
    }

    #[test]
    fn embed_is_found_in_any_case_anywhere_in_the_name() {
        for name in ["embed", "EMBED_url", "xEmBeDy", "é_embed", "tokenEmbed"] {
            assert!(is_embed_field(name), "{name}");
        }
        for name in ["", "embe", "em bed", "émbed", "imbed"] {
            assert!(!is_embed_field(name), "{name}");
        }
    }

    #[test]
    fn sql_template_only_for_the_owner() {
        let q =
            json!({"id": "qry_1", "ownerId": "usr_a", "name_i18n": {}, "sql_template": "select 1"});
        let mut mine = row(q.clone());
        strip_row(Kind::Query, &mut mine, "usr_a");
        assert!(mine.contains_key("sql_template"));
        let mut theirs = row(q.clone());
        strip_row(Kind::Query, &mut theirs, "usr_b");
        assert!(!theirs.contains_key("sql_template"));
        let mut nobody = row(json!({"id": "qry_1", "ownerId": "", "sql_template": "x"}));
        strip_row(Kind::Query, &mut nobody, "");
        assert!(!nobody.contains_key("sql_template"));
    }

    #[test]
    fn alerts_keep_four_fields() {
        let mut item = PullItem::Upsert {
            kind: Kind::DqAlertOpen,
            row: row(
                json!({"id": "dqc_1", "checkKey": "k", "severity": "warning",
                            "observedAt": "2026-01-01T00:00:00Z", "jobId": "j", "observedValue": 7}),
            ),
            version: 1,
        };
        strip_item(&mut item, "usr_a");
        let PullItem::Upsert { row, .. } = item else {
            unreachable!()
        };
        assert_eq!(
            Value::Object(row),
            json!({"id": "dqc_1", "checkKey": "k", "severity": "warning", "observedAt": "2026-01-01T00:00:00Z"})
        );
    }
}
