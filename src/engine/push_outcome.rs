//! What a push response means for each op of the batch (PROTOCOL §4), as a pure function
//! from the answer to the settlements the store applies in one transaction:
//! - `ok` → applied: the op leaves the queue, its new version and name are stored;
//! - 409 with `current` → a conflict (local name, server state), the op leaves the queue;
//! - any other 4xx → a dead letter with the status and reason; it never blocks the ops
//!   behind it;
//! - no result, or a transient per-op status (408, 429, 5xx) → the op waits for the next
//!   call;
//! - a whole-request 4xx other than 401/403/408/429 (e.g. `400 too_many_ops`) → every op
//!   of the batch to the dead letters, so a batch the server will never take cannot block
//!   the queue. `400 bad_identity` is the exception: it is a misconfiguration of this
//!   client, not of the ops, so it is surfaced and the batch kept.
//!
//! A body that breaks the contract (not JSON, `ok` without `version`, 409 without
//! `current`, a result for an op not in the batch) is an unreadable answer: the exchange
//! retries it like a 5xx.

use super::clock::Random;
use super::ids::random_id;
use super::outbox_store::{Conflict, ConflictSource, DeadLetter, OpSettlement};
use super::push_exchange::error_name;
use super::transport::HttpResponse;
use crate::protocol::push::{PushOp, PushResponse, PushResult};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The settlements of one answered batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    pub settlements: Vec<OpSettlement>,
    /// `seq` of ops left waiting.
    pub unanswered: Vec<u64>,
}

/// How the server answered a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchAnswer {
    /// Per-op results (or a whole-request refusal turned into dead letters).
    Settled(Settled),
    /// 403: access revoked; the batch is kept and pushing pauses.
    Forbidden,
    /// A refusal that says this client is misconfigured; the batch is kept.
    BadRequest { status: u16, error: String },
}

/// Reads a 2xx or 4xx (not 401/408/429) answer to the batch that carried `sent`.
/// `Err(detail)` means the body is unreadable and the request should be retried.
pub fn read_batch_answer(
    response: &HttpResponse,
    sent: &[(u64, PushOp)],
    now_ms: u64,
    random: &impl Random,
) -> Result<BatchAnswer, String> {
    match response.status {
        200..=299 => {
            let parsed: PushResponse = serde_json::from_slice(&response.body)
                .map_err(|e| format!("push response: {e}"))?;
            settle_results(sent, &parsed.results, now_ms, random).map(BatchAnswer::Settled)
        }
        403 => Ok(BatchAnswer::Forbidden),
        status => {
            let error = error_name(response);
            if error == "bad_identity" {
                return Ok(BatchAnswer::BadRequest { status, error });
            }
            let settlements = sent
                .iter()
                .map(|(seq, op)| dead_letter(*seq, op, status, &error, now_ms, random))
                .collect();
            Ok(BatchAnswer::Settled(Settled {
                settlements,
                unanswered: Vec::new(),
            }))
        }
    }
}

/// Maps per-op results onto the ops sent.
pub fn settle_results(
    sent: &[(u64, PushOp)],
    results: &[PushResult],
    now_ms: u64,
    random: &impl Random,
) -> Result<Settled, String> {
    let mut by_op: BTreeMap<&str, &PushResult> = BTreeMap::new();
    for r in results {
        if !sent.iter().any(|(_, op)| op.op_id == r.op_id) {
            return Err(format!("result for {} which was not sent", r.op_id));
        }
        if by_op.insert(r.op_id.as_str(), r).is_some() {
            return Err(format!("two results for {}", r.op_id));
        }
    }
    let mut settled = Settled::default();
    for (seq, op) in sent {
        let seq = *seq;
        let Some(r) = by_op.get(op.op_id.as_str()) else {
            settled.unanswered.push(seq);
            continue;
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
                            server,
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
                    settled.unanswered.push(seq);
                    continue;
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
