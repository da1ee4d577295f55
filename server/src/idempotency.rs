//! Stored first answers per `Idempotency-Key` (PROTOCOL §4, §5).
//!
//! A client that lost a response sends the same request again with the same key; it must
//! get the first answer back, byte for byte, and nothing may be applied a second time.
//! Answers are kept per (tenant, user, scope): a key is only ever looked up for the user
//! who sent it, and push keys (SHA-256 of op ids) and command keys (`cmd_…`) live in
//! separate scopes. The answer is written in the same transaction as the effects it
//! reports, so a crash can never leave one without the other.

use crate::args;
use crate::error::ApiError;
use crate::sql::Sql;
use axum::http::StatusCode;

/// Which endpoint family a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Push,
    Command,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Push => "push",
            Scope::Command => "command",
        }
    }
}

/// Longest key accepted: push keys are 64 hex characters, command ids a little longer.
pub const MAX_KEY_LEN: usize = 200;

/// An answer as sent: status and the exact JSON bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: StatusCode, body: &serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string().into_bytes(),
        }
    }
}

/// The owner and key of a stored answer.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub tenant: &'a str,
    pub user: &'a str,
    pub scope: Scope,
    pub key: &'a str,
}

/// Checks a key's form: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
pub fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadIdempotencyKey(format!(
            "must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        )));
    }
    Ok(())
}

/// The stored first answer for this key, counting the replay; `None` if the key is new.
pub fn replay(conn: &dyn Sql, at: KeyRef<'_>) -> Result<Option<Answer>, ApiError> {
    conn.query_opt(
        "UPDATE idempotent_answers SET replays = replays + 1
         WHERE tenant_id = ?1 AND user_id = ?2 AND scope = ?3 AND key = ?4
         RETURNING status, body",
        args![at.tenant, at.user, at.scope.as_str(), at.key],
    )?
    .map(|r| {
        let status = r.i64(0)?;
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| ApiError::Internal(format!("stored status {status}")))?;
        Ok(Answer {
            status,
            body: r.blob(1)?,
        })
    })
    .transpose()
}

/// Stores the first answer for this key, dropping the user's oldest answers beyond
/// [`crate::push_history::MAX_ANSWERS`].
pub fn store(conn: &dyn Sql, at: KeyRef<'_>, answer: &Answer, now_ms: i64) -> Result<(), ApiError> {
    conn.execute(
        "INSERT INTO idempotent_answers (tenant_id, user_id, scope, key, status, body, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            at.tenant,
            at.user,
            at.scope.as_str(),
            at.key,
            answer.status.as_u16(),
            answer.body,
            now_ms
        ],
    )?;
    crate::push_history::cap_answers(
        conn,
        at.tenant,
        at.user,
        at.scope.as_str(),
        crate::push_history::MAX_ANSWERS,
    )?;
    Ok(())
}
