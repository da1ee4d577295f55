//! Field checks shared by the authoring commands. Each refusal is a `422` with a stable
//! code, so a client can put a precise reason in its dead letter.

use crate::error::ApiError;
use crate::log;
use crate::names::validate_name;
use crate::sql::Sql;
use crate::users;
use serde_json::{Map, Value};
use sync_core::protocol::Kind;

/// Refuses any field of `body` not in `allowed`.
pub fn only_fields(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(field) => Err(ApiError::unprocessable(
            "field_not_editable",
            format!("`{field}` cannot be set here; editable: {allowed:?}"),
        )),
        None => Ok(()),
    }
}

/// A valid `*_i18n` name (`422 invalid_name`).
pub fn name(field: &str, value: &Value) -> Result<Value, ApiError> {
    validate_name(value)
        .map(Value::Object)
        .map_err(|why| ApiError::unprocessable("invalid_name", format!("{field} {why}")))
}

/// A non-empty string.
pub fn text<'a>(value: &'a Value, error: &'static str, field: &str) -> Result<&'a str, ApiError> {
    value
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(error, format!("{field} must be a non-empty string"))
        })
}

/// `sharedWith` as sent: `[{kind:"user"|"role", id}]`, users of this tenant only
/// (`422 invalid_share`). Server-only entries (embeds) are never sent, so they are not
/// accepted either.
pub fn shares(conn: &dyn Sql, tenant: &str, value: &Value) -> Result<Vec<Value>, ApiError> {
    let bad = |why: String| ApiError::unprocessable("invalid_share", why);
    let entries = value
        .as_array()
        .ok_or_else(|| bad("sharedWith must be an array".into()))?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let entry = e
            .as_object()
            .filter(|o| o.len() == 2)
            .ok_or_else(|| bad("each share is exactly {kind, id}".into()))?;
        let kind = entry
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("a share needs a string id".into()))?;
        match kind {
            "user" => {
                if users::load(conn, tenant, id)?.is_none() {
                    return Err(bad(format!("no user {id}")));
                }
            }
            "role" => {}
            other => {
                return Err(bad(format!(
                    "share kind must be user or role, not `{other}`"
                )))
            }
        }
        out.push(e.clone());
    }
    Ok(out)
}

/// `tables`: distinct keys of live projections (`422 unknown_table`), since a dashboard's
/// "Data as of" is computed from them.
pub fn tables(conn: &dyn Sql, tenant: &str, value: &Value) -> Result<Value, ApiError> {
    let bad = |why: String| ApiError::unprocessable("unknown_table", why);
    let keys = value
        .as_array()
        .ok_or_else(|| bad("tables must be an array of projection keys".into()))?;
    let mut seen: Vec<&str> = Vec::with_capacity(keys.len());
    for k in keys {
        let key = k
            .as_str()
            .ok_or_else(|| bad("tables must be an array of projection keys".into()))?;
        if seen.contains(&key) {
            return Err(bad(format!("{key} is listed twice")));
        }
        if !live(conn, tenant, Kind::Projection, key)? {
            return Err(bad(format!("no projection {key}")));
        }
        seen.push(key);
    }
    Ok(value.clone())
}

/// True when a live row of `kind` has this key.
pub fn live(conn: &dyn Sql, tenant: &str, kind: Kind, key: &str) -> Result<bool, ApiError> {
    Ok(log::current(conn, tenant, kind, key)?.is_some_and(|r| !r.deleted))
}

/// A non-negative integer field of an object.
pub fn whole(obj: &Map<String, Value>, field: &str) -> Option<u64> {
    obj.get(field).and_then(Value::as_u64)
}
