//! Settling a conflict (PROTOCOL §4 409, §5 412) the way the user chose:
//! - keep local: the local edit is re-queued on top of the server's version — a new rename
//!   op with `expected_version = server.version`, or the command again with a new
//!   `command_id` (a new `Idempotency-Key`, or the server would replay its stored 412) and
//!   `If-Match: server.version`;
//! - accept server: nothing is re-queued; for a query the local name simply stops
//!   overlaying the row and pull brings the server's name.
//!
//! The conflict is marked resolved in the same transaction as the re-queue and is kept,
//! immutable, for audit; a resolved or unknown id is `not_found`.

use crate::engine::clock::{Clock, Random};
use crate::engine::ids::random_id;
use crate::engine::push::edit_error::EditError;
use crate::engine::store::error::StoreError;
use crate::engine::store::outbox::{
    Conflict, ConflictSource, DeferredCommand, OutboxStore, Requeue, Resolution,
};
use serde_json::Value;

/// A settled conflict and what it re-queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The conflict as now stored (resolution and time set).
    pub conflict: Conflict,
    pub requeue: Option<Requeue>,
}

/// `"keepLocal"` / `"acceptServer"` (the JS names).
pub fn parse_resolution(name: &str) -> Option<Resolution> {
    match name {
        "keepLocal" => Some(Resolution::KeepLocal),
        "acceptServer" => Some(Resolution::AcceptServer),
        _ => None,
    }
}

/// Resolves the open conflict `id`.
pub async fn resolve_conflict<S: OutboxStore, C: Clock, R: Random>(
    store: &S,
    clock: &C,
    random: &R,
    id: &str,
    resolution: Resolution,
) -> Result<Resolved, EditError> {
    let not_found = || EditError::NotFound(format!("no open conflict {id}"));
    let mut conflict = store
        .all_conflicts()
        .await?
        .into_iter()
        .find(|c| c.id == id && c.resolution.is_none())
        .ok_or_else(not_found)?;
    let now_ms = clock.now_ms();
    let requeue = match resolution {
        Resolution::AcceptServer => None,
        Resolution::KeepLocal => Some(requeue_of(&conflict, now_ms, random)?),
    };
    if !store
        .resolve_conflict(id, resolution, now_ms, requeue.as_ref())
        .await?
    {
        // Resolved by another context between the read and the write.
        return Err(not_found());
    }
    conflict.resolution = Some(resolution);
    conflict.resolved_at_ms = Some(now_ms);
    Ok(Resolved { conflict, requeue })
}

/// The edit a keep-local resolution sends again.
fn requeue_of(
    conflict: &Conflict,
    now_ms: u64,
    random: &impl Random,
) -> Result<Requeue, EditError> {
    let corrupt = |why: &str| {
        EditError::Storage(StoreError::Corrupt(format!(
            "conflict {}: {why}",
            conflict.id
        )))
    };
    let server_version = conflict
        .server
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| corrupt("no server version"))?;
    Ok(match &conflict.source {
        ConflictSource::Op { .. } => Requeue::Op {
            op_id: random_id("op_", random),
            query_id: conflict.entity_id.clone(),
            expected_version: server_version,
            name_i18n: conflict
                .local
                .get("name_i18n")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| corrupt("no local name"))?,
            now_ms,
        },
        ConflictSource::Command { command } => Requeue::Command(DeferredCommand {
            seq: 0,
            command_id: random_id("cmd_", random),
            if_match: Some(server_version.to_string()),
            created_at_ms: now_ms,
            ..command.clone()
        }),
    })
}
