//! What an authoring command's handler is given ([`Author`], [`CommandInput`]) and how its
//! answer is written: the `If-Match` rule and the entity as the author's devices see it.
//! Shared by `dashboard.rs` and `widget.rs`; `mod.rs` runs the command around them.

use crate::idempotency::Answer;
use crate::privacy;
use crate::users::UserRecord;
use axum::http::StatusCode;
use serde_json::{Map, Value};
use sync_core::protocol::{Kind, Row};

/// The authenticated author of a command.
#[derive(Debug, Clone)]
pub struct Author {
    pub tenant: String,
    pub user: UserRecord,
    pub now_ms: i64,
}

/// A command's request, as its handler needs it.
#[derive(Debug, Clone)]
pub struct CommandInput {
    pub body: Map<String, Value>,
    pub if_match: Option<String>,
}

/// The version an `If-Match` value names: `"3"`, `W/"3"` or a bare `3`; `*` matches any.
pub fn if_match_matches(value: &str, version: u64) -> bool {
    let v = value.trim();
    if v == "*" {
        return true;
    }
    let v = v.strip_prefix("W/").unwrap_or(v);
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    v.parse::<u64>().ok() == Some(version)
}

/// A row as the author's devices see it, with its version: the body of every answer.
pub fn entity_json(kind: Kind, mut row: Row, version: u64, user_id: &str) -> Value {
    privacy::strip(kind, &mut row, user_id);
    row.insert("version".into(), Value::from(version));
    Value::Object(row)
}

/// A `2xx` answer carrying the entity.
pub fn entity_answer(
    status: StatusCode,
    kind: Kind,
    row: Row,
    version: u64,
    user_id: &str,
) -> Answer {
    Answer::json(status, &entity_json(kind, row, version, user_id))
}
