//! Replaying deferred authoring commands (PROTOCOL §5, §9.6, §9.7) in queue order, each with
//! its method, path, JSON body, `If-Match` and `Idempotency-Key: <command_id>`:
//! - a stored command outside the three authoring routes (queued by an older client) is
//!   never sent: it becomes a dead letter `bad_command` (status 0);
//! - 2xx → done (the effect reaches every device through pull);
//! - 412 `precondition_failed` with `current` → a conflict for a merge prompt (`current`
//!   stripped by §7 first);
//! - 400, 404, 409, 412 without `current`, 422 — answers about the command itself → a dead
//!   letter with the reason;
//! - 403 → access revoked, pushing pauses, the command stays queued;
//! - any other 4xx (a proxy's 405/413/415 page…) → `push_rejected`, the command stays;
//! - 401 once retried; network, timeout, 408, 5xx, 429 → retried with backoff, then the
//!   replay stops with a retryable error.
//!
//! Whenever the replay stops, the command and those after it stay queued, in order.

use crate::engine::clock::{Clock, Random};
use crate::engine::ids::random_id;
use crate::engine::net::transport::{HttpResponse, Transport};
use crate::engine::pull::privacy::strip_value;
use crate::engine::push::commands::{command_request, command_route, command_target};
use crate::engine::push::context::PushContext;
use crate::engine::push::error::PushError;
use crate::engine::push::exchange::{exchange, Refusal};
use crate::engine::push::report::{PushProgress, PushReport};
use crate::engine::store::cache::Store;
use crate::engine::store::outbox::{
    CommandSettlement, Conflict, ConflictSource, DeadLetter, DeferredCommand, OutboxStore,
};
use serde_json::Value;

/// Replays every queued command, in order.
pub(crate) async fn replay_commands<S, T, C, R>(
    store: &S,
    cx: &PushContext<'_, T, C, R>,
    report: &mut PushReport,
    progress: &mut dyn FnMut(&PushProgress),
) -> Result<(), PushError>
where
    S: Store + OutboxStore,
    T: Transport,
    C: Clock,
    R: Random,
{
    for command in store.commands().await? {
        if command_route(command.method, &command.path).is_none() {
            let refused = local_refusal(&command, cx.clock.now_ms(), cx.random);
            store.settle_command(command.seq, &refused).await?;
            report.dead_letters += 1;
            progress(&report.progress());
            continue;
        }
        let request = command_request(&command);
        let answer = exchange(
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
        let outcome = match answer {
            CommandAnswer::Settled(outcome) => outcome,
            CommandAnswer::Refused(refusal) => return Err(refusal.end_call(store).await),
        };
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

/// How the server answered a command. (Built once per request: the size difference between
/// the variants costs nothing worth a box.)
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum CommandAnswer {
    /// An answer about the command: it leaves the queue.
    Settled(CommandSettlement),
    /// 403, or an answer that is not about the command: it stays queued and the call ends.
    Refused(Refusal),
}

/// The dead letter of a stored command this client refuses to send.
fn local_refusal(
    command: &DeferredCommand,
    now_ms: u64,
    random: &impl Random,
) -> CommandSettlement {
    let (kind, entity_id) = command_target(command);
    CommandSettlement::DeadLetter(DeadLetter {
        id: random_id("dlt_", random),
        source: "command".into(),
        kind,
        entity_id,
        status: 0,
        reason: "bad_command".into(),
        payload: serde_json::to_value(command).unwrap_or(Value::Null),
        failed_at_ms: now_ms,
    })
}

/// What a 2xx or 4xx (not 401/408/429) answer means for `command`.
pub fn read_command_answer(
    response: &HttpResponse,
    command: &DeferredCommand,
    now_ms: u64,
    random: &impl Random,
    user_id: &str,
) -> CommandAnswer {
    let (kind, entity_id) = command_target(command);
    if (200..=299).contains(&response.status) {
        return CommandAnswer::Settled(CommandSettlement::Done);
    }
    let error = response.error_name();
    match response.status {
        400 | 404 | 409 | 412 | 422 => {}
        403 => return CommandAnswer::Refused(Refusal::Forbidden),
        status => {
            return CommandAnswer::Refused(Refusal::Rejected {
                status,
                detail: error,
            })
        }
    }
    if response.status == 412 {
        if let Some(current) = current_state(&response.body) {
            return CommandAnswer::Settled(CommandSettlement::Conflict(Conflict {
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
            }));
        }
        // Without the server's version a merge could only fail again: a dead letter says
        // so instead of a conflict that cannot be resolved.
    }
    CommandAnswer::Settled(CommandSettlement::DeadLetter(DeadLetter {
        id: random_id("dlt_", random),
        source: "command".into(),
        kind,
        entity_id,
        status: response.status,
        reason: error,
        payload: serde_json::to_value(command).unwrap_or(Value::Null),
        failed_at_ms: now_ms,
    }))
}

/// `current` of a 412 body, when it is an object with an integer `version`.
fn current_state(body: &[u8]) -> Option<Value> {
    let mut body: serde_json::Map<String, Value> = crate::json::from_slice(body).ok()?;
    let current = body.remove("current")?;
    current.get("version")?.as_u64()?;
    Some(current)
}
