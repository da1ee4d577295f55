//! Canonical JSON and the snapshot rows digest (PROTOCOL §6).
//!
//! Dedupe compares a new snapshot with the newest held one by `paramsHash` and the SHA-256
//! of the canonical JSON of `rows`. The canonical form must not depend on how a map happens
//! to iterate (serde_json's `preserve_order` feature can be switched on by any crate in the
//! build), so keys are sorted here explicitly: object keys in byte order (code point order),
//! no whitespace, strings escaped as serde_json and `JSON.stringify` both escape them, and
//! numbers written as JavaScript writes them (`es_number.rs`), so the browser build, which
//! digests the objects `JSON.parse` made (`src/web/page_decode.js`), computes the same digest.

use super::es_number::write_es_number;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Writes the canonical JSON of `value` to `out`. Strings go through `serde_json`'s own
/// writer without an intermediate `String` per value.
pub fn write_canonical<W: Write>(value: &Value, out: &mut W) -> io::Result<()> {
    match value {
        Value::Null => out.write_all(b"null"),
        Value::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
        Value::Number(n) => write_es_number(n.as_f64().unwrap_or(f64::NAN), out),
        Value::String(s) => serde_json::to_writer(&mut *out, s).map_err(io::Error::from),
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical(item, out)?;
            }
            out.write_all(b"]")
        }
        Value::Object(map) => write_canonical_object(map, out),
    }
}

/// Writes the canonical JSON of an object (a row) to `out`.
pub fn write_canonical_object<W: Write>(
    map: &serde_json::Map<String, Value>,
    out: &mut W,
) -> io::Result<()> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    // A map without `preserve_order` iterates sorted already; sorting a sorted list is one
    // linear pass.
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.write_all(b"{")?;
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, k).map_err(io::Error::from)?;
        out.write_all(b":")?;
        write_canonical(v, out)?;
    }
    out.write_all(b"}")
}

/// The canonical JSON of `value` as a string.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and everything written is UTF-8 JSON.
    let _ = write_canonical(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
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

/// Feeds what is written straight into a SHA-256, through a small buffer so the hasher
/// sees blocks rather than one call per token.
struct HashWriter {
    hasher: Sha256,
    buf: [u8; 256],
    len: usize,
}

impl HashWriter {
    fn flush_buf(&mut self) {
        self.hasher.update(&self.buf[..self.len]);
        self.len = 0;
    }

    fn finish(mut self) -> [u8; 32] {
        self.flush_buf();
        self.hasher.finalize().into()
    }
}

impl Write for HashWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.len + data.len() > self.buf.len() {
            self.flush_buf();
        }
        match self.buf.get_mut(self.len..self.len + data.len()) {
            Some(room) => {
                room.copy_from_slice(data);
                self.len += data.len();
            }
            None => self.hasher.update(data),
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hex SHA-256 of a canonical JSON text someone else wrote (the browser's page decoder
/// writes it from the objects `JSON.parse` made; equal to [`rows_digest`] of the same rows).
pub fn text_digest(canonical: &str) -> String {
    to_hex(&Sha256::digest(canonical.as_bytes()))
}

/// Hex SHA-256 of the canonical JSON of a snapshot's `rows` array, hashed as it is
/// written (no canonical text is built).
pub fn rows_digest(rows: &[Value]) -> String {
    let mut w = HashWriter {
        hasher: Sha256::new(),
        buf: [0; 256],
        len: 0,
    };
    let mut write = || -> io::Result<()> {
        w.write_all(b"[")?;
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_canonical(row, &mut w)?;
        }
        w.write_all(b"]")
    };
    // The hash writer never fails.
    let _ = write();
    to_hex(&w.finish())
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
        // Numbers as JavaScript writes them: `12.0` and `12` are one number there.
        let v: Value = serde_json::from_str(r#"[12.0, 12, -0.0, 1e21, 1E-7, 0.5]"#).unwrap();
        assert_eq!(canonical_json(&v), "[12,12,0,1e+21,1e-7,0.5]");
    }

    /// A number is the double nearest to its text, as `JSON.parse` reads it in the browser's
    /// decoder: serde_json's default parser can land one unit off (its `float_roundtrip`
    /// feature reads exactly), and the rows digest would then differ between the two decoders.
    #[test]
    fn numbers_are_read_exactly_before_they_are_written() {
        let text = "[123456789012345680000,0.30000000000000004,2.2250738585072014e-308]";
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(canonical_json(&v), text);
    }

    #[test]
    fn streamed_digest_is_the_digest_of_the_canonical_text() {
        let long = "x\u{1}\"é".repeat(300);
        let rows: Vec<Value> = (0..40)
            .map(|i| {
                json!({"z": format!("é\"{i}\n"), "a": f64::from(i) * 1.5, "n": null,
                            "b": [true, {"y": -i, "L": if i == 7 { long.as_str() } else { "" }}]})
            })
            .collect();
        let text = canonical_json(&Value::Array(rows.clone()));
        assert!(text.len() > 4096);
        assert_eq!(rows_digest(&rows), to_hex(&Sha256::digest(text.as_bytes())));
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
