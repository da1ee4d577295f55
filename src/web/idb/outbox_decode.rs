//! Reading the outbox side's stored records back, field by field.
//!
//! The records are written by `encode` (serde, `idb/outbox_records.rs`) and read back here by
//! hand from one parsed `serde_json::Value` instead of a derived `Deserialize` per record: each
//! derived record cost the wasm a `deserialize_struct` instance of its own (≈ 2-5 KB each,
//! ≈ 21 KB for the six), while this path shares the one `Value` parser the pull path carries
//! anyway (issue 13, size cuts). The rules are those of the derive: every field is required
//! unless it is an `Option` (absent or null is `None`) or named as defaulted; a field of the
//! wrong type is an error; fields nobody reads are ignored.

use crate::engine::OutboxOp;
use crate::protocol::Kind;
use crate::web::idb::error::IdbError;
use crate::web::idb::outbox_records::{
    BatchRecord, CommandRecord, ConflictRecord, DeadLetterRecord, SourceRecord,
};
use crate::web::idb::records::stored;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

/// A record from its stored value; anything this code did not write is [`IdbError::Decode`].
/// Read by hand from one parsed `Value` (the module doc says why).
pub fn decode<T: StoredRecord>(value: &JsValue, what: &str) -> Result<T, IdbError> {
    let value: Value = stored(value, what)?;
    Fields::of(&value, "the record")
        .and_then(|f| T::from_fields(&f))
        .map_err(|e| IdbError::Decode(format!("{what} record: {e}")))
}

/// A record type `decode` can read back from its stored JSON object.
pub trait StoredRecord: Sized {
    /// The record from the fields of its JSON object; the error says which field is wrong.
    fn from_fields(f: &Fields<'_>) -> Result<Self, String>;
}

/// The fields of one stored JSON object.
pub struct Fields<'a>(pub &'a Map<String, Value>);

fn missing(name: &str) -> String {
    format!("missing field `{name}`")
}

fn wrong(name: &str, expected: &str) -> String {
    format!("field `{name}` is not {expected}")
}

impl<'a> Fields<'a> {
    /// The object `value` is, or an error naming `what`.
    pub fn of(value: &'a Value, what: &str) -> Result<Self, String> {
        value
            .as_object()
            .map(Fields)
            .ok_or_else(|| format!("{what} is not an object"))
    }

    fn present(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Result<&'a Value, String> {
        self.0.get(name).ok_or_else(|| missing(name))
    }

    fn u64(&self, name: &str) -> Result<u64, String> {
        self.required(name)?
            .as_u64()
            .ok_or_else(|| wrong(name, "an unsigned integer"))
    }

    fn opt_u64(&self, name: &str) -> Result<Option<u64>, String> {
        self.present(name)
            .map(|v| v.as_u64().ok_or_else(|| wrong(name, "an unsigned integer")))
            .transpose()
    }

    fn string(&self, name: &str) -> Result<String, String> {
        self.required(name)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| wrong(name, "a string"))
    }

    fn opt_string(&self, name: &str) -> Result<Option<String>, String> {
        self.present(name)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong(name, "a string"))
            })
            .transpose()
    }

    fn bool_or_false(&self, name: &str) -> Result<bool, String> {
        match self.0.get(name) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| wrong(name, "a boolean")),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, String> {
        self.required(name)?
            .as_bool()
            .ok_or_else(|| wrong(name, "a boolean"))
    }

    fn kind(&self, name: &str) -> Result<Kind, String> {
        let text = self.required(name)?.as_str();
        text.and_then(|s| s.parse().ok())
            .ok_or_else(|| wrong(name, "a known kind"))
    }

    fn value(&self, name: &str) -> Result<Value, String> {
        self.required(name).cloned()
    }

    fn object(&self, name: &str) -> Result<Map<String, Value>, String> {
        self.required(name)?
            .as_object()
            .cloned()
            .ok_or_else(|| wrong(name, "an object"))
    }

    fn u64s(&self, name: &str) -> Result<Vec<u64>, String> {
        let items = self.required(name)?.as_array();
        items
            .ok_or_else(|| wrong(name, "an array"))?
            .iter()
            .map(|v| v.as_u64().ok_or_else(|| wrong(name, "unsigned integers")))
            .collect()
    }

    fn record<T: StoredRecord>(&self, name: &str) -> Result<T, String> {
        let value = self.required(name)?;
        T::from_fields(&Fields::of(value, name)?)
    }
}

impl StoredRecord for OutboxOp {
    fn from_fields(f: &Fields<'_>) -> Result<Self, String> {
        Ok(OutboxOp {
            seq: f.u64("seq")?,
            op_id: f.string("opId")?,
            kind: f.kind("kind")?,
            entity_id: f.string("entityId")?,
            expected_version: f.u64("expectedVersion")?,
            name_i18n: f.object("name_i18n")?,
            created_at_ms: f.u64("createdAtMs")?,
            updated_at_ms: f.u64("updatedAtMs")?,
            in_flight: f.bool("inFlight")?,
            sent: f.bool_or_false("sent")?,
        })
    }
}

impl StoredRecord for CommandRecord {
    fn from_fields(f: &Fields<'_>) -> Result<Self, String> {
        Ok(CommandRecord {
            seq: f.u64("seq")?,
            command_id: f.string("commandId")?,
            method: f.string("method")?,
            path: f.string("path")?,
            body: f.present("body").cloned(),
            if_match: f.opt_string("ifMatch")?,
            created_at_ms: f.u64("createdAtMs")?,
        })
    }
}

impl StoredRecord for SourceRecord {
    fn from_fields(f: &Fields<'_>) -> Result<Self, String> {
        match f.string("type")?.as_str() {
            "op" => Ok(SourceRecord::Op {
                op_id: f.string("opId")?,
            }),
            "command" => Ok(SourceRecord::Command {
                command: f.record("command")?,
            }),
            _ => Err(wrong("type", "\"op\" or \"command\"")),
        }
    }
}

impl StoredRecord for ConflictRecord {
    fn from_fields(f: &Fields<'_>) -> Result<Self, String> {
        Ok(ConflictRecord {
            id: f.string("id")?,
            order: f.u64("order")?,
            kind: f.kind("kind")?,
            entity_id: f.string("entityId")?,
            local: f.value("local")?,
            server: f.value("server")?,
            source: f.record("source")?,
            created_at_ms: f.u64("createdAtMs")?,
            resolution: f.opt_string("resolution")?,
            resolved_at_ms: f.opt_u64("resolvedAtMs")?,
        })
    }
}

impl StoredRecord for DeadLetterRecord {
    fn from_fields(f: &Fields<'_>) -> Result<Self, String> {
        let status = f.u64("status")?;
        Ok(DeadLetterRecord {
            id: f.string("id")?,
            order: f.u64("order")?,
            source: f.string("source")?,
            kind: f.kind("kind")?,
            entity_id: f.string("entityId")?,
            status: u16::try_from(status).map_err(|_| wrong("status", "a status code"))?,
            reason: f.string("reason")?,
            payload: f.value("payload")?,
            failed_at_ms: f.u64("failedAtMs")?,
        })
    }
}

impl StoredRecord for BatchRecord {
    fn from_fields(f: &Fields<'_>) -> Result<Self, String> {
        Ok(BatchRecord {
            key: f.string("key")?,
            op_seqs: f.u64s("opSeqs")?,
            body: f.string("body")?,
            created_at_ms: f.u64("createdAtMs")?,
        })
    }
}
