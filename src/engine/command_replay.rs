//! Replaying deferred authoring commands (PROTOCOL §5) in queue order, each with its
//! method, path, JSON body, `If-Match` and `Idempotency-Key: <command_id>`:
//! - 2xx → done (the effect reaches every device through pull);
//! - 412 `precondition_failed` with `current` → a conflict for a merge prompt;
//! - any other 4xx (403 included: the user may not author that entity) → a dead letter;
//! - 401 once retried; network, timeout, 408, 5xx, 429 → retried with backoff, then the
//!   replay stops with a retryable error and the command (and those after it) stay queued,
//!   so the order is kept.

use super::clock::{Clock, Random};
use super::commands::{command_request, command_target};
use super::ids::random_id;
use super::outbox_store::{
    CommandSettlement, Conflict, ConflictSource, DeadLetter, DeferredCommand, OutboxStore,
};
use super::privacy::strip_value;
use super::push::PushContext;
use super::push_error::PushError;
use super::push_exchange::{error_name, exchange};
use super::push_report::{PushProgress, PushReport};
use super::transport::{HttpResponse, Transport};
use serde_json::Value;

/// Replays every queued command, in order.
pub(crate) async fn replay_commands<S, T, C, R>(
    store: &S,
    cx: &PushContext<'_, T, C, R>,
    report: &mut PushReport,
    progress: &mut dyn FnMut(&PushProgress),
) -> Result<(), PushError>
where
    S: OutboxStore,
    T: Transport,
    C: Clock,
    R: Random,
{
    for command in store.commands().await? {
        let request = command_request(&command);
        let outcome = exchange(
            cx.transport,
            cx.clock,
            cx.random,
            cx.config,
            &request,
            &mut report.retries,
            |response| {
                Ok(read_command_answer(
                    response,
                    &command,
                    cx.clock.now_ms(),
                    cx.random,
                    &cx.config.user_id,
                ))
            },
        )
        .await?;
        store.settle_command(command.seq, &outcome).await?;
        match &outcome {
            CommandSettlement::Done => report.commands_done += 1,
            CommandSettlement::Conflict(c) => {
                report.conflicts += 1;
                report.new_conflicts.push(c.id.clone());
            }
            CommandSettlement::DeadLetter(_) => report.dead_letters += 1,
        }
        progress(&report.progress());
    }
    Ok(())
}

/// What a 2xx or 4xx (not 401/408/429) answer means for `command`.
pub fn read_command_answer(
    response: &HttpResponse,
    command: &DeferredCommand,
    now_ms: u64,
    random: &impl Random,
    user_id: &str,
) -> CommandSettlement {
    let (kind, entity_id) = command_target(command);
    if (200..=299).contains(&response.status) {
        return CommandSettlement::Done;
    }
    let error = error_name(response);
    if response.status == 412 {
        if let Some(current) = current_state(&response.body) {
            return CommandSettlement::Conflict(Conflict {
                id: random_id("cfl_", random),
                kind,
                entity_id,
                local: command.body.clone().unwrap_or(Value::Null),
                server: strip_value(kind, current, user_id),
                source: ConflictSource::Command {
                    command: command.clone(),
                },
                created_at_ms: now_ms,
                resolution: None,
                resolved_at_ms: None,
            });
        }
        // Without the server's version a merge could only fail again: a dead letter says
        // so instead of a conflict that cannot be resolved.
    }
    CommandSettlement::DeadLetter(DeadLetter {
        id: random_id("dlt_", random),
        source: "command".into(),
        kind,
        entity_id,
        status: response.status,
        reason: error,
        payload: serde_json::to_value(command).unwrap_or(Value::Null),
        failed_at_ms: now_ms,
    })
}

/// `current` of a 412 body, when it is an object with an integer `version`.
fn current_state(body: &[u8]) -> Option<Value> {
    let mut body: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
    let current = body.remove("current")?;
    current.get("version")?.as_u64()?;
    Some(current)
}
