//! Canonical JSON and the snapshot rows digest (PROTOCOL §6).
//!
//! Dedupe compares a new snapshot with the newest held one by `paramsHash` and the SHA-256
//! of the canonical JSON of `rows`. The canonical form must not depend on how a map happens
//! to iterate (serde_json's `preserve_order` feature can be switched on by any crate in the
//! build), so keys are sorted here explicitly: object keys in byte order, no whitespace,
//! strings and numbers written exactly as serde_json writes them.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Appends the canonical JSON of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // Serializing a string cannot fail; the fallback keeps this total anyway.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// The canonical JSON of `value` as a string.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Hex SHA-256 of the canonical JSON of a snapshot's `rows` array.
pub fn rows_digest(rows: &[Value]) -> String {
    let mut text = String::from("[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        write_canonical(row, &mut text);
    }
    text.push(']');
    to_hex(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v = json!({"b": [1, {"z": null, "a": "x\"y"}], "a": 1.5, "é": true, "B": false});
        assert_eq!(
            canonical_json(&v),
            r#"{"B":false,"a":1.5,"b":[1,{"a":"x\"y","z":null}],"é":true}"#
        );
    }

    #[test]
    fn digest_ignores_key_order_but_not_values() {
        let a: Value = serde_json::from_str(r#"[{"x":1,"y":"2"}]"#).unwrap();
        let b: Value = serde_json::from_str(r#"[ { "y" : "2", "x" : 1 } ]"#).unwrap();
        let c: Value = serde_json::from_str(r#"[{"x":1,"y":"3"}]"#).unwrap();
        let (a, b, c) = (
            a.as_array().unwrap(),
            b.as_array().unwrap(),
            c.as_array().unwrap(),
        );
        assert_eq!(rows_digest(a), rows_digest(b));
        assert_ne!(rows_digest(a), rows_digest(c));
        // SHA-256 of "[]".
        assert_eq!(
            rows_digest(&[]),
            "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
        );
    }
}
