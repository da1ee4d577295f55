//! The one shape every editable name has (`name_i18n`, `title_i18n`): an object of
//! language → string with a non-blank `default`. Push, authoring and the admin rename all
//! check it here, with the same limits the client applies before it queues an edit, so a
//! name the client accepts is never refused by the server for size.

use serde_json::{Map, Value};

/// Largest serialized name accepted, in bytes (the client's `MAX_NAME_BYTES`).
pub const MAX_NAME_BYTES: usize = 4 * 1024;

/// Returns the name object, or why it is not one.
pub fn validate_name(value: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(name) = value else {
        return Err("must be an object of language to string".into());
    };
    match name.get("default") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => return Err("the default name is empty".into()),
        _ => return Err("needs a string `default`".into()),
    }
    if name.contains_key("") {
        return Err("a language key is empty".into());
    }
    if let Some((lang, _)) = name.iter().find(|(_, v)| !v.is_string()) {
        return Err(format!("the name for `{lang}` is not a string"));
    }
    let size = serde_json::to_string(name).map_or(usize::MAX, |s| s.len());
    if size > MAX_NAME_BYTES {
        return Err(format!(
            "{size} bytes serialized, more than {MAX_NAME_BYTES}"
        ));
    }
    Ok(name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(validate_name(&json!({"default": "A", "fa": "ب"})).is_ok());
        for bad in [
            json!("A"),
            json!({}),
            json!({"default": "  "}),
            json!({"default": 1}),
            json!({"default": "A", "fa": 2}),
            json!({"default": "A", "": "x"}),
            json!({"default": "x".repeat(MAX_NAME_BYTES)}),
        ] {
            assert!(validate_name(&bad).is_err(), "{bad}");
        }
    }
}
