//! What a push response means for each op of the batch (PROTOCOL §4, §9.3–§9.4), as a pure
//! function from the answer to the settlements the store applies in one transaction:
//! - `ok` → applied: the op leaves the queue, its new version and name are stored;
//! - 409 with `current` → a conflict (local name, server state stripped by §7), the op
//!   leaves the queue;
//! - any other per-op 4xx → a dead letter with the status and reason; it never blocks the
//!   ops behind it;
//! - a transient per-op status (408, 429, 5xx) → the op was not applied: it keeps its place
//!   and is resent under a new opId, so its batch gets a new `Idempotency-Key`.
//!
//! Whole-request answers never dead-letter an op (only per-op results do):
//! - 403 → access revoked, the batch is kept;
//! - `400 too_many_ops` or 413 → split the batch in halves ([`BatchAnswer::Split`]);
//! - `400 bad_identity` → this client is misconfigured: surfaced, the batch kept;
//! - a 2xx whose body is JSON but not a results list with exactly one result per op sent
//!   (a body that is not JSON at all is retried like a 5xx, as §3 says of truncated bodies,
//!   and ends the call as a retryable `bad_response`), or any other 4xx (a proxy's 404 page, 405, 415, 413 of one op…) → [`Refusal::Rejected`]:
//!   the batch is kept, every op stays queued in order, pushing pauses.
//!
//! A whole-request 409 (an `Idempotency-Key` still being processed) is `Err`: the exchange
//! retries it like a 5xx.

use crate::engine::clock::Random;
use crate::engine::ids::random_id;
use crate::engine::net::transport::HttpResponse;
use crate::engine::pull::privacy::strip_value;
use crate::engine::push::exchange::Refusal;
use crate::engine::store::outbox::{Conflict, ConflictSource, DeadLetter, OpSettlement};
use crate::protocol::push::{PushOp, PushResponse, PushResult};
use serde_json::{json, Map, Value};

/// The settlements of one answered batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    pub settlements: Vec<OpSettlement>,
    /// `seq` of ops answered with a transient status, left for a later call.
    pub retried: Vec<u64>,
}

/// How the server answered a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchAnswer {
    /// One result per op.
    Settled(Settled),
    /// `too_many_ops` or 413 for a batch of more than one op: send it in halves.
    Split,
    /// The batch is kept and the call ends.
    Refused(Refusal),
}

/// Reads a 2xx or 4xx (not 401/408/429) answer to the batch that carried `sent`.
/// `Err(detail)` means a transient answer: the request should be retried.
pub fn read_batch_answer(
    response: &HttpResponse,
    sent: &[(u64, PushOp)],
    now_ms: u64,
    random: &impl Random,
    user_id: &str,
) -> Result<BatchAnswer, String> {
    let status = response.status;
    let rejected = |detail: String| Ok(BatchAnswer::Refused(Refusal::Rejected { status, detail }));
    match status {
        200..=299 => match crate::json::from_slice::<PushResponse>(&response.body) {
            Ok(parsed) => match settle_results(sent, &parsed.results, now_ms, random, user_id) {
                Ok(settled) => Ok(BatchAnswer::Settled(settled)),
                Err(detail) => rejected(detail),
            },
            // Not even JSON: most likely cut off on the way (PROTOCOL §3), so it is retried
            // with backoff; the ops stay queued whatever happens.
            Err(e) if e.is_not_json() => Err(format!("push response: {e}")),
            Err(e) => rejected(format!("push response: {e}")),
        },
        403 => Ok(BatchAnswer::Refused(Refusal::Forbidden)),
        409 => Err("whole-request 409".into()),
        _ => {
            let error = response.error_name();
            let too_large = status == 413 || (status == 400 && error == "too_many_ops");
            if too_large && sent.len() > 1 {
                Ok(BatchAnswer::Split)
            } else if status == 400 && error == "bad_identity" {
                Ok(BatchAnswer::Refused(Refusal::BadRequest { status, error }))
            } else {
                rejected(error)
            }
        }
    }
}

/// Maps per-op results onto the ops sent. `Err` when the results are not exactly one per op
/// sent (a result for an op not sent, two for one op, or one missing), or break the
/// contract (`ok` without `version`, 409 without `current`, an unknown status).
pub fn settle_results(
    sent: &[(u64, PushOp)],
    results: &[PushResult],
    now_ms: u64,
    random: &impl Random,
    user_id: &str,
) -> Result<Settled, String> {
    // A vector, not a map: a batch has at most 50 ops, and a map type of its own would cost
    // the wasm ≈ 5 KB of B-tree code.
    let mut by_op: Vec<(&str, &PushResult)> = Vec::with_capacity(results.len());
    for r in results {
        if !sent.iter().any(|(_, op)| op.op_id == r.op_id) {
            return Err(format!("result for {} which was not sent", r.op_id));
        }
        if by_op.iter().any(|(id, _)| *id == r.op_id) {
            return Err(format!("two results for {}", r.op_id));
        }
        by_op.push((r.op_id.as_str(), r));
    }
    if results.len() != sent.len() {
        return Err(format!(
            "{} results for a batch of {} ops",
            results.len(),
            sent.len()
        ));
    }
    let mut settled = Settled::default();
    for (seq, op) in sent {
        let seq = *seq;
        let Some((_, r)) = by_op.iter().find(|(id, _)| *id == op.op_id) else {
            return Err(format!("no result for {}", op.op_id));
        };
        if r.id != op.id {
            return Err(format!(
                "result for {} names {} not {}",
                op.op_id, r.id, op.id
            ));
        }
        let settlement = if r.ok {
            let new_version = r
                .version
                .ok_or_else(|| format!("ok result for {} without version", op.op_id))?;
            OpSettlement::Applied {
                seq,
                query_id: op.id.clone(),
                applied_on: op.expected_version,
                new_version,
                name_i18n: sent_name(op),
            }
        } else {
            match r.status {
                Some(409) => {
                    let current = r
                        .current
                        .as_ref()
                        .ok_or_else(|| format!("409 for {} without current", op.op_id))?;
                    let server = serde_json::to_value(current).map_err(|e| e.to_string())?;
                    OpSettlement::Conflict {
                        seq,
                        conflict: Conflict {
                            id: random_id("cfl_", random),
                            kind: op.kind,
                            entity_id: op.id.clone(),
                            local: json!({ "name_i18n": sent_name(op) }),
                            server: strip_value(op.kind, server, user_id),
                            source: ConflictSource::Op {
                                op_id: op.op_id.clone(),
                            },
                            created_at_ms: now_ms,
                            resolution: None,
                            resolved_at_ms: None,
                        },
                    }
                }
                Some(408 | 429 | 500..=599) => {
                    settled.retried.push(seq);
                    OpSettlement::Retry {
                        seq,
                        new_op_id: random_id("op_", random),
                    }
                }
                Some(status @ 400..=499) => {
                    let reason = r.error.clone().unwrap_or_else(|| format!("http_{status}"));
                    dead_letter(seq, op, status, &reason, now_ms, random)
                }
                other => {
                    return Err(format!(
                        "refused result for {} with status {other:?}",
                        op.op_id
                    ))
                }
            }
        };
        settled.settlements.push(settlement);
    }
    Ok(settled)
}

/// The name the op carried, as sent.
fn sent_name(op: &PushOp) -> Map<String, Value> {
    op.patch
        .get("name_i18n")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn dead_letter(
    seq: u64,
    op: &PushOp,
    status: u16,
    reason: &str,
    now_ms: u64,
    random: &impl Random,
) -> OpSettlement {
    OpSettlement::DeadLetter {
        seq,
        dead_letter: DeadLetter {
            id: random_id("dlt_", random),
            source: "op".into(),
            kind: op.kind,
            entity_id: op.id.clone(),
            status,
            reason: reason.to_string(),
            payload: serde_json::to_value(op).unwrap_or(Value::Null),
            failed_at_ms: now_ms,
        },
    }
}
