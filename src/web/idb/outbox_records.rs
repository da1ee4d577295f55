//! Stored shapes of the outbox side (schema v3) and their conversion to and from JS values.
//!
//! The engine's types (`Conflict`, …) are what the engine thinks with; these records are what
//! sits on disk, spelled out field by field where the two differ (a command's method by its
//! HTTP name, the order of conflicts and dead letters). A rename op is stored as the engine's
//! `OutboxOp` serializes (camelCase, `name_i18n` as on rows), field for field the record it
//! used to have; the fixtures of earlier versions (`tests/web/push_idb_fixtures.rs`) hold the
//! format. Records are plain JS objects, as `idb/records.rs` writes them too, so devtools shows
//! them as they are. Every integer is checked to fit a JS number exactly before it is written:
//! a rounded `seq` or version would corrupt the queue.

use crate::engine::{
    Conflict, ConflictSource, DeadLetter, DeferredCommand, Method, PushBatch, Resolution,
};
use crate::protocol::Kind;
use crate::web::idb::error::IdbError;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// Largest integer a JS number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// A queued deferred command; `method` is stored as its HTTP name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRecord {
    pub seq: u64,
    pub command_id: String,
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
    pub if_match: Option<String>,
    pub created_at_ms: u64,
}

impl From<&DeferredCommand> for CommandRecord {
    fn from(c: &DeferredCommand) -> Self {
        CommandRecord {
            seq: c.seq,
            command_id: c.command_id.clone(),
            method: c.method.as_str().to_string(),
            path: c.path.clone(),
            body: c.body.clone(),
            if_match: c.if_match.clone(),
            created_at_ms: c.created_at_ms,
        }
    }
}

impl TryFrom<CommandRecord> for DeferredCommand {
    type Error = IdbError;

    fn try_from(r: CommandRecord) -> Result<Self, IdbError> {
        let method = match r.method.as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            other => {
                return Err(IdbError::Decode(format!(
                    "command {}: unknown method {other}",
                    r.seq
                )))
            }
        };
        Ok(DeferredCommand {
            seq: r.seq,
            command_id: r.command_id,
            method,
            path: r.path,
            body: r.body,
            if_match: r.if_match,
            created_at_ms: r.created_at_ms,
        })
    }
}

/// Where a conflict came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SourceRecord {
    #[serde(rename_all = "camelCase")]
    Op { op_id: String },
    #[serde(rename_all = "camelCase")]
    Command { command: CommandRecord },
}

/// A conflict, open (`resolution` null) or resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    pub id: String,
    /// Recording order: conflicts are listed oldest first.
    pub order: u64,
    pub kind: Kind,
    pub entity_id: String,
    pub local: Value,
    pub server: Value,
    pub source: SourceRecord,
    pub created_at_ms: u64,
    /// `"keepLocal"` / `"acceptServer"`, or null while open.
    pub resolution: Option<String>,
    pub resolved_at_ms: Option<u64>,
}

fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::KeepLocal => "keepLocal",
        Resolution::AcceptServer => "acceptServer",
    }
}

impl ConflictRecord {
    pub fn new(c: &Conflict, order: u64) -> Self {
        ConflictRecord {
            id: c.id.clone(),
            order,
            kind: c.kind,
            entity_id: c.entity_id.clone(),
            local: c.local.clone(),
            server: c.server.clone(),
            source: match &c.source {
                ConflictSource::Op { op_id } => SourceRecord::Op {
                    op_id: op_id.clone(),
                },
                ConflictSource::Command { command } => SourceRecord::Command {
                    command: command.into(),
                },
            },
            created_at_ms: c.created_at_ms,
            resolution: c.resolution.map(|r| resolution_name(r).to_string()),
            resolved_at_ms: c.resolved_at_ms,
        }
    }

    /// Marks the record resolved.
    pub fn resolve(&mut self, resolution: Resolution, now_ms: u64) {
        self.resolution = Some(resolution_name(resolution).to_string());
        self.resolved_at_ms = Some(now_ms);
    }
}

impl TryFrom<ConflictRecord> for Conflict {
    type Error = IdbError;

    fn try_from(r: ConflictRecord) -> Result<Self, IdbError> {
        let resolution = match r.resolution.as_deref() {
            None => None,
            Some("keepLocal") => Some(Resolution::KeepLocal),
            Some("acceptServer") => Some(Resolution::AcceptServer),
            Some(other) => {
                return Err(IdbError::Decode(format!(
                    "conflict {}: unknown resolution {other}",
                    r.id
                )))
            }
        };
        Ok(Conflict {
            id: r.id,
            kind: r.kind,
            entity_id: r.entity_id,
            local: r.local,
            server: r.server,
            source: match r.source {
                SourceRecord::Op { op_id } => ConflictSource::Op { op_id },
                SourceRecord::Command { command } => ConflictSource::Command {
                    command: command.try_into()?,
                },
            },
            created_at_ms: r.created_at_ms,
            resolution,
            resolved_at_ms: r.resolved_at_ms,
        })
    }
}

/// A dead letter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterRecord {
    pub id: String,
    pub order: u64,
    pub source: String,
    pub kind: Kind,
    pub entity_id: String,
    pub status: u16,
    pub reason: String,
    pub payload: Value,
    pub failed_at_ms: u64,
}

impl DeadLetterRecord {
    pub fn new(d: &DeadLetter, order: u64) -> Self {
        DeadLetterRecord {
            id: d.id.clone(),
            order,
            source: d.source.clone(),
            kind: d.kind,
            entity_id: d.entity_id.clone(),
            status: d.status,
            reason: d.reason.clone(),
            payload: d.payload.clone(),
            failed_at_ms: d.failed_at_ms,
        }
    }
}

impl From<DeadLetterRecord> for DeadLetter {
    fn from(r: DeadLetterRecord) -> Self {
        DeadLetter {
            id: r.id,
            source: r.source,
            kind: r.kind,
            entity_id: r.entity_id,
            status: r.status,
            reason: r.reason,
            payload: r.payload,
            failed_at_ms: r.failed_at_ms,
        }
    }
}

/// The push batch in flight.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecord {
    pub key: String,
    pub op_seqs: Vec<u64>,
    pub body: String,
    pub created_at_ms: u64,
}

impl From<&PushBatch> for BatchRecord {
    fn from(b: &PushBatch) -> Self {
        BatchRecord {
            key: b.key.clone(),
            op_seqs: b.op_seqs.clone(),
            body: b.body.clone(),
            created_at_ms: b.created_at_ms,
        }
    }
}

impl From<BatchRecord> for PushBatch {
    fn from(r: BatchRecord) -> Self {
        PushBatch {
            key: r.key,
            op_seqs: r.op_seqs,
            body: r.body,
            created_at_ms: r.created_at_ms,
        }
    }
}

/// Refuses an integer a JS number would round.
pub fn check_safe(value: u64, what: &str) -> Result<u64, IdbError> {
    if value > MAX_SAFE {
        return Err(IdbError::Encode(format!(
            "{what} {value} does not fit a JS number"
        )));
    }
    Ok(value)
}

/// The stored value of a record, built straight as a JS object (no JSON text, no
/// `serde_json::Value` on the way). Refuses a record holding an integer a JS number would
/// round (a seq, a version, or a number inside a command body): serde-wasm-bindgen's
/// JSON-compatible serializer fails on any integer outside ±(2^53 − 1) and names it.
pub fn encode<T: Serialize>(record: &T) -> Result<JsValue, IdbError> {
    record
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| IdbError::Encode(e.to_string()))
}

/// A counter of `outbox_meta` (absent means 0).
pub fn decode_counter(value: Option<JsValue>, what: &str) -> Result<u64, IdbError> {
    match value.filter(|v| !v.is_undefined()) {
        None => Ok(0),
        Some(v) => {
            let n = v
                .as_f64()
                .ok_or_else(|| IdbError::Decode(format!("{what} is not a number")))?;
            if n < 0.0 || n.fract() != 0.0 || n > MAX_SAFE as f64 {
                return Err(IdbError::Decode(format!("{what} is {n}")));
            }
            Ok(n as u64)
        }
    }
}

/// The next value of a counter, refused once it would leave the exact range of a JS number.
pub fn next_counter(last: u64, what: &str) -> Result<u64, IdbError> {
    check_safe(last.saturating_add(1), what)
}
