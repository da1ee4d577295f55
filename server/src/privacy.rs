//! Privacy stripping on the way out (PROTOCOL §7): what never leaves the server.
//!
//! - Dashboard: `sharedWith` keeps only `{kind:"user"|"role", id}` entries; embed tokens
//!   (the `embedToken` field and `embed` share entries) never leave.
//! - Query: `sql_template` only for its owner.
//! - DqAlertOpen: only `id`, `checkKey`, `severity`, `observedAt`.

use serde_json::{Map, Value};
use sync_core::protocol::{Kind, Row};

/// Dashboard fields that only the server keeps.
const DASHBOARD_SERVER_ONLY: [&str; 2] = ["embedToken", "embedUrl"];
/// The only alert fields a device may hold.
const ALERT_FIELDS: [&str; 4] = ["id", "checkKey", "severity", "observedAt"];

/// Strips `row` of `kind` for delivery to `user_id`.
pub fn strip(kind: Kind, row: &mut Row, user_id: &str) {
    match kind {
        Kind::Dashboard => {
            for f in DASHBOARD_SERVER_ONLY {
                row.remove(f);
            }
            if let Some(Value::Array(entries)) = row.get_mut("sharedWith") {
                let kept = entries
                    .iter()
                    .filter_map(|e| {
                        let kind = e.get("kind")?.as_str()?;
                        let id = e.get("id")?.as_str()?;
                        (kind == "user" || kind == "role").then(|| {
                            let mut o = Map::new();
                            o.insert("kind".into(), kind.into());
                            o.insert("id".into(), id.into());
                            Value::Object(o)
                        })
                    })
                    .collect();
                *entries = kept;
            }
        }
        Kind::Query if row.get("ownerId").and_then(Value::as_str) != Some(user_id) => {
            row.remove("sql_template");
        }
        Kind::DqAlertOpen => row.retain(|k, _| ALERT_FIELDS.contains(&k.as_str())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stripped(kind: Kind, v: Value, user: &str) -> Value {
        let mut row = v.as_object().cloned().unwrap_or_default();
        strip(kind, &mut row, user);
        Value::Object(row)
    }

    #[test]
    fn strips_each_kind() {
        let d = stripped(
            Kind::Dashboard,
            json!({"id":"dsh_1","embedToken":"lse_x","sharedWith":[
                {"kind":"user","id":"usr_b","note":"x"},{"kind":"embed","token":"lse_y"},{"kind":"role","id":"front_desk"}]}),
            "usr_a",
        );
        assert_eq!(
            d,
            json!({"id":"dsh_1","sharedWith":[{"kind":"user","id":"usr_b"},{"kind":"role","id":"front_desk"}]})
        );
        let q = json!({"id":"qry_1","ownerId":"usr_a","name_i18n":{},"sql_template":"SELECT 1"});
        assert!(stripped(Kind::Query, q.clone(), "usr_a")
            .get("sql_template")
            .is_some());
        assert!(stripped(Kind::Query, q, "usr_b")
            .get("sql_template")
            .is_none());
        let a = stripped(
            Kind::DqAlertOpen,
            json!({"id":"dqc_1","checkKey":"c","severity":"info","observedAt":"t","warehouseJobId":"bq","observedValue":3}),
            "usr_a",
        );
        assert_eq!(
            a,
            json!({"id":"dqc_1","checkKey":"c","severity":"info","observedAt":"t"})
        );
    }
}
