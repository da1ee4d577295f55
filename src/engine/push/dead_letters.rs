//! What the user can do with a dead letter (API.md `requeueDeadLetter` / `dropDeadLetter`).
//!
//! A dead letter is an op or command the server refused for good (§4: a per-op 4xx other
//! than 409; §9.6: a command-specific 4xx). Often the cause is fixed elsewhere later (the
//! query's field became editable again, the dashboard now exists), so the user may send it
//! once more:
//! - an op is put back at the END of the queue as a NEW op (new op id: a sent op is
//!   immutable, §9.4, and the server already answered the old id), re-based on the version
//!   of the query the device holds now — read by the store inside the same transaction;
//! - a command is put back at the end as a new command (new command id, which is also its
//!   `Idempotency-Key`: with the old one the server would replay its stored refusal);
//! - the dead letter is removed in that same strict transaction, so it is never both queued
//!   and dead-lettered, nor lost in between.
//!
//! Dropping removes it for good. An unknown (or already handled) id is `not_found`.

use crate::engine::clock::{Clock, Random};
use crate::engine::ids::random_id;
use crate::engine::push::commands::new_command;
use crate::engine::push::edit_error::EditError;
use crate::engine::push::rename::validate_name;
use crate::engine::store::error::StoreError;
use crate::engine::store::outbox::{
    DeadLetter, DeadLetterRequeue, OutboxStore, Pending, RequeueOutcome,
};
use serde_json::Value;

/// The stored dead letter `id`, or `not_found`.
async fn find<S: OutboxStore>(store: &S, id: &str) -> Result<DeadLetter, EditError> {
    store
        .dead_letters()
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| unknown(id))
}

fn unknown(id: &str) -> EditError {
    EditError::NotFound(format!("no dead letter {id}"))
}

/// Puts the dead letter `id` back at the end of the queue; resolves with what was queued.
pub async fn requeue_dead_letter<S: OutboxStore, C: Clock, R: Random>(
    store: &S,
    clock: &C,
    random: &R,
    id: &str,
) -> Result<Pending, EditError> {
    let dead = find(store, id).await?;
    let requeue = requeue_of(&dead, clock.now_ms(), random)?;
    match store.requeue_dead_letter(id, &requeue).await? {
        RequeueOutcome::Queued(pending) => Ok(pending),
        // Handled by another context between the read and the write.
        RequeueOutcome::UnknownDeadLetter => Err(unknown(id)),
        RequeueOutcome::QueryNotHeld => Err(EditError::NotFound(format!(
            "query {} is no longer held locally, so its rename cannot be re-sent; drop the dead letter {id}",
            dead.entity_id
        ))),
    }
}

/// Removes the dead letter `id` for good; resolves with it as it was stored.
pub async fn drop_dead_letter<S: OutboxStore>(
    store: &S,
    id: &str,
) -> Result<DeadLetter, EditError> {
    let dead = find(store, id).await?;
    if !store.drop_dead_letter(id).await? {
        return Err(unknown(id));
    }
    Ok(dead)
}

/// The new op or command for `dead`, from the payload stored with it (the op as sent, or
/// the command as queued). A payload that cannot be read back is corrupt storage.
fn requeue_of(
    dead: &DeadLetter,
    now_ms: u64,
    random: &impl Random,
) -> Result<DeadLetterRequeue, EditError> {
    let corrupt = |why: String| {
        EditError::Storage(StoreError::Corrupt(format!(
            "dead letter {}: {why}",
            dead.id
        )))
    };
    let payload = &dead.payload;
    match dead.source.as_str() {
        "op" => {
            // An op as sent (`patch.name_i18n`) or as queued (`name_i18n`).
            let name = payload
                .get("patch")
                .and_then(|p| p.get("name_i18n"))
                .or_else(|| payload.get("name_i18n"))
                .ok_or_else(|| corrupt("no name_i18n in the op".into()))?;
            let name_i18n = validate_name(name).map_err(|e| corrupt(e.to_string()))?;
            Ok(DeadLetterRequeue::Op {
                op_id: random_id("op_", random),
                query_id: dead.entity_id.clone(),
                name_i18n,
                now_ms,
            })
        }
        "command" => {
            let text = |field: &str| payload.get(field).and_then(Value::as_str);
            let method = text("method").ok_or_else(|| corrupt("no method".into()))?;
            let path = text("path").ok_or_else(|| corrupt("no path".into()))?;
            let body = payload.get("body").filter(|b| !b.is_null()).cloned();
            let if_match = text("ifMatch").map(str::to_string);
            // Re-checked like a new command: a stored one must not widen the allowed routes.
            let command = new_command(method, path, body, if_match, now_ms, random)?;
            Ok(DeadLetterRequeue::Command(command))
        }
        other => Err(corrupt(format!("unknown source {other:?}"))),
    }
}
