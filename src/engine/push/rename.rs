//! The one edit a device may make: renaming a saved query (PROTOCOL §4, lww+diff on
//! `name_i18n`). The name is validated before any transaction opens; the store then writes
//! the outbox op in one strict transaction, coalescing into the query's waiting op, so a
//! refused edit writes nothing and an accepted one is durable when the call returns.

use crate::engine::clock::{Clock, Random};
use crate::engine::ids::random_id;
use crate::engine::push::edit_error::EditError;
use crate::engine::store::outbox::{OutboxOp, OutboxStore, RenameIntent};
use crate::protocol::Kind;
use serde_json::{Map, Value};

/// Largest serialized `name_i18n` accepted, in bytes: names are labels, and every byte is
/// pushed and pulled by every device of the user.
pub const MAX_NAME_BYTES: usize = 4 * 1024;

/// Checks a new `name_i18n`: an object of language → string with a non-blank `default`,
/// no empty language key, at most [`MAX_NAME_BYTES`] serialized. Returns the object.
pub fn validate_name(name_i18n: &Value) -> Result<Map<String, Value>, EditError> {
    let invalid = |why: String| Err(EditError::InvalidName(why));
    let Value::Object(name) = name_i18n else {
        return invalid("name_i18n must be an object of language to string".into());
    };
    match name.get("default") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => return invalid("the default name is empty".into()),
        _ => return invalid("name_i18n needs a string `default`".into()),
    }
    if name.contains_key("") {
        return invalid("a language key is empty".into());
    }
    if let Some((lang, _)) = name.iter().find(|(_, v)| !v.is_string()) {
        return invalid(format!("the name for `{lang}` is not a string"));
    }
    let size = serde_json::to_string(name).map_or(usize::MAX, |s| s.len());
    if size > MAX_NAME_BYTES {
        return invalid(format!(
            "name_i18n is {size} bytes serialized, more than {MAX_NAME_BYTES}"
        ));
    }
    Ok(name.clone())
}

/// Renames the locally held query `query_id`: validates `name_i18n`, then one durable
/// outbox write (coalesced into the query's waiting op if there is one). Returns the op as
/// stored; `not_found` when the query is not held locally.
pub async fn rename_query<S: OutboxStore, C: Clock, R: Random>(
    store: &S,
    clock: &C,
    random: &R,
    query_id: &str,
    name_i18n: &Value,
) -> Result<OutboxOp, EditError> {
    let name = validate_name(name_i18n)?;
    if query_id.is_empty() {
        return Err(EditError::NotFound("empty query id".into()));
    }
    let intent = RenameIntent {
        query_id: query_id.to_string(),
        name_i18n: name,
        new_op_id: random_id("op_", random),
        now_ms: clock.now_ms(),
    };
    store
        .enqueue_rename(&intent)
        .await?
        .ok_or_else(|| EditError::NotFound(format!("query {query_id} is not held locally")))
}

/// The general "local edit" entry point: `patch` on the row `id` of the kind named `kind`.
/// Anything but a `Query` patched with exactly `{"name_i18n": …}` is refused with
/// `not_editable` before anything is read or written.
pub async fn edit<S: OutboxStore, C: Clock, R: Random>(
    store: &S,
    clock: &C,
    random: &R,
    kind: &str,
    id: &str,
    patch: &Value,
) -> Result<OutboxOp, EditError> {
    if kind != Kind::Query.as_str() {
        return Err(EditError::NotEditable(format!(
            "{kind} rows are read-only on the device; only Query.name_i18n is editable"
        )));
    }
    match patch {
        Value::Object(fields) if fields.len() == 1 => match fields.get("name_i18n") {
            Some(name) => rename_query(store, clock, random, id, name).await,
            None => Err(not_editable_fields(fields)),
        },
        Value::Object(fields) => Err(not_editable_fields(fields)),
        _ => Err(EditError::NotEditable(
            "a patch must be an object holding only name_i18n".into(),
        )),
    }
}

fn not_editable_fields(fields: &Map<String, Value>) -> EditError {
    let names: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|f| *f != "name_i18n")
        .collect();
    EditError::NotEditable(format!(
        "only name_i18n of a Query is editable; refused fields: {names:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_rules() {
        assert!(validate_name(&json!({"default": "Weekly", "fr": "Hebdo"})).is_ok());
        for bad in [
            json!("Weekly"),
            json!({}),
            json!({"default": ""}),
            json!({"default": "  "}),
            json!({"default": 3}),
            json!({"fr": "Hebdo"}),
            json!({"default": "x", "fr": null}),
            json!({"default": "x", "": "y"}),
            json!({"default": "x".repeat(MAX_NAME_BYTES)}),
        ] {
            let e = validate_name(&bad).unwrap_err();
            assert_eq!(e.code(), "invalid_name", "{bad}");
        }
        // Exactly at the limit is accepted: {"default":"…"} is 14 bytes of framing.
        let at_limit = json!({"default": "x".repeat(MAX_NAME_BYTES - 14)});
        assert!(validate_name(&at_limit).is_ok());
    }
}
