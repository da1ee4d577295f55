//! The outbox rules, decided once for every store — what `ApplyPlan` is to a pulled page.
//!
//! Each outbox write is one strict transaction: the store reads what a rule needs inside it
//! (the Query row's version, the queued ops of that query, the batch in flight), calls the
//! planner here, and persists the plan in the same transaction. So coalescing a rename,
//! settling a push batch (rebasing, conflicts, dead letters, the in-flight marks) and putting
//! a requeued op or command at the end of the queue are written once; `MemoryStore` and
//! `IdbStore` only read and write.

use crate::engine::sorting::sort_by_key;
use crate::engine::store::cache::StoredRow;
use crate::engine::store::error::StoreError;
use crate::engine::store::outbox::{
    Conflict, DeadLetter, DeadLetterRequeue, DeferredCommand, OpSettlement, OutboxOp, Pending,
    PushBatch, RenameIntent, Requeue,
};
use crate::protocol::Kind;
use serde_json::{Map, Value};

fn aborted(why: String) -> StoreError {
    StoreError::Aborted(why)
}

/// A never-sent rename op: queued by a rename, a resolved conflict or a requeued dead letter.
fn fresh_op(
    op_id: &str,
    query_id: &str,
    name_i18n: &Map<String, Value>,
    now_ms: u64,
    seq: u64,
    expected_version: u64,
) -> OutboxOp {
    OutboxOp {
        seq,
        op_id: op_id.to_string(),
        kind: Kind::Query,
        entity_id: query_id.to_string(),
        expected_version,
        name_i18n: name_i18n.clone(),
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
        in_flight: false,
        sent: false,
    }
}

/// What a rename writes: `op`, new (it took the next `seq`) or the query's waiting op with
/// the new name.
#[derive(Debug, Clone, PartialEq)]
pub struct RenamePlan {
    pub op: OutboxOp,
    /// The op is new and took the next `seq`: the store also writes its sequence counter.
    pub new: bool,
}

/// A rename of a held query (`held_version`; `None` when the query is not held: nothing is
/// written). Coalesces into the newest op of the query that waits (neither in flight nor ever
/// sent), else queues a new op on the held version. `same_query` are the queued ops of the
/// query; `next_seq` hands out the next sequence number.
pub fn plan_rename(
    intent: &RenameIntent,
    held_version: Option<u64>,
    same_query: &[OutboxOp],
    next_seq: impl FnOnce() -> Result<u64, StoreError>,
) -> Result<Option<RenamePlan>, StoreError> {
    let Some(version) = held_version else {
        return Ok(None);
    };
    let waiting = same_query
        .iter()
        .filter(|op| op.kind == Kind::Query && op.entity_id == intent.query_id)
        .filter(|op| !op.in_flight && !op.sent)
        .max_by_key(|op| op.seq);
    if let Some(op) = waiting {
        let mut op = op.clone();
        op.name_i18n = intent.name_i18n.clone();
        op.updated_at_ms = intent.now_ms;
        return Ok(Some(RenamePlan { op, new: false }));
    }
    let op = fresh_op(
        &intent.new_op_id,
        &intent.query_id,
        &intent.name_i18n,
        intent.now_ms,
        next_seq()?,
        version,
    );
    Ok(Some(RenamePlan { op, new: true }))
}

impl Requeue {
    /// What the requeue queues, as stored with `seq`.
    pub fn queued(&self, seq: u64) -> Pending {
        match self {
            Requeue::Op {
                op_id,
                query_id,
                expected_version,
                name_i18n,
                now_ms,
            } => Pending::Op(fresh_op(
                op_id,
                query_id,
                name_i18n,
                *now_ms,
                seq,
                *expected_version,
            )),
            Requeue::Command(command) => Pending::Command(DeferredCommand {
                seq,
                ..command.clone()
            }),
        }
    }
}

/// An applied rename on the held Query row: its new version and name.
pub fn apply_rename(row: &mut StoredRow, version: u64, name_i18n: &Map<String, Value>) {
    row.version = version;
    row.row
        .insert("name_i18n".into(), Value::Object(name_i18n.clone()));
}

impl DeadLetterRequeue {
    /// The query whose held version a requeued op is made on; `None` for a command.
    pub fn query_id(&self) -> Option<&str> {
        match self {
            DeadLetterRequeue::Op { query_id, .. } => Some(query_id),
            DeadLetterRequeue::Command(_) => None,
        }
    }

    /// What the requeue puts at the end of the queue, as stored with `seq`: an op on the
    /// query's `held_version`, or the command. `None` for an op whose query is not held
    /// (nothing is written; the dead letter stays: `RequeueOutcome::QueryNotHeld`).
    pub fn queued(&self, held_version: Option<u64>, seq: u64) -> Option<Pending> {
        match self {
            DeadLetterRequeue::Op {
                op_id,
                query_id,
                name_i18n,
                now_ms,
            } => Some(Pending::Op(fresh_op(
                op_id,
                query_id,
                name_i18n,
                *now_ms,
                seq,
                held_version?,
            ))),
            DeadLetterRequeue::Command(command) => Some(Pending::Command(DeferredCommand {
                seq,
                ..command.clone()
            })),
        }
    }
}

/// The batch in flight if it is the one named `key`; settling any other is refused.
pub fn batch_in_flight(key: &str, in_flight: Option<PushBatch>) -> Result<PushBatch, StoreError> {
    match in_flight {
        Some(batch) if batch.key == key => Ok(batch),
        _ => Err(aborted(format!("no batch {key} in flight"))),
    }
}

/// A conflict or a dead letter a settlement records.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Conflict(Conflict),
    DeadLetter(DeadLetter),
}

/// The new version and name an applied rename leaves on a held Query row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowUpdate {
    pub query_id: String,
    pub version: u64,
    pub name_i18n: Map<String, Value>,
}

/// What settling a batch writes. Vectors and linear lookups where a batch has a few dozen
/// entries at most: each map type of its own would cost the wasm ≈ 5 KB of B-tree code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettlementPlan {
    /// Seqs of the ops that leave the queue, in settlement order.
    pub removed_ops: Vec<u64>,
    /// Ops that stay and changed (a new op id, a rebased version, the in-flight mark
    /// cleared), as they are to be stored, by seq.
    pub changed_ops: Vec<OutboxOp>,
    /// Query rows that take an applied rename, one per query (the last applied wins).
    pub row_updates: Vec<RowUpdate>,
    /// Conflicts and dead letters, in the order of the settlements.
    pub recorded: Vec<Recorded>,
}

/// Settles `batch` (the one in flight) with `settled`, in order:
/// - applied: the op leaves; the new version and name go to the Query row unless it is not
///   held or pull already brought that version or a newer one; waiting ops of that query
///   (not in this batch) made on `applied_on` are rebased to the new version;
/// - 409: the op leaves and its conflict is recorded; final refusal: the op leaves and its
///   dead letter is recorded;
/// - transient: the op stays with its new op id.
///
/// Then every op of the batch still queued loses its in-flight mark. `ops` must hold the
/// batch's ops and every queued op of each applied query (each once); `held` each applied query with its
/// held version (`None` when not held). A settlement of an op that is not in the batch or not
/// queued refuses the whole settlement.
pub fn plan_settlement(
    batch: &PushBatch,
    settled: &[OpSettlement],
    mut ops: Vec<OutboxOp>,
    mut held: Vec<(String, Option<u64>)>,
) -> Result<SettlementPlan, StoreError> {
    let mut plan = SettlementPlan::default();
    // Seqs of the ops still queued that changed.
    let mut changed: Vec<u64> = Vec::new();
    for s in settled {
        let seq = s.seq();
        let queued = ops.iter().position(|op| op.seq == seq);
        let (true, Some(at)) = (batch.op_seqs.contains(&seq), queued) else {
            return Err(aborted(format!("op {seq} is not in batch {}", batch.key)));
        };
        if let OpSettlement::Retry { new_op_id, .. } = s {
            ops[at].op_id = new_op_id.clone();
            changed.push(seq);
            continue;
        }
        ops.remove(at);
        plan.removed_ops.push(seq);
        match s {
            OpSettlement::Applied {
                query_id,
                applied_on,
                new_version,
                name_i18n,
                ..
            } => {
                let version = held.iter_mut().find(|(id, _)| id == query_id);
                if let Some((_, Some(version))) = version {
                    if *version < *new_version {
                        *version = *new_version;
                        let update = RowUpdate {
                            query_id: query_id.clone(),
                            version: *new_version,
                            name_i18n: name_i18n.clone(),
                        };
                        match plan
                            .row_updates
                            .iter_mut()
                            .find(|u| u.query_id == *query_id)
                        {
                            Some(earlier) => *earlier = update,
                            None => plan.row_updates.push(update),
                        }
                    }
                }
                for op in ops.iter_mut() {
                    if op.entity_id == *query_id
                        && !batch.op_seqs.contains(&op.seq)
                        && op.expected_version == *applied_on
                    {
                        op.expected_version = *new_version;
                        changed.push(op.seq);
                    }
                }
            }
            OpSettlement::Conflict { conflict, .. } => {
                plan.recorded.push(Recorded::Conflict(conflict.clone()))
            }
            OpSettlement::DeadLetter { dead_letter, .. } => plan
                .recorded
                .push(Recorded::DeadLetter(dead_letter.clone())),
            OpSettlement::Retry { .. } => {}
        }
    }
    for op in ops.iter_mut() {
        if op.in_flight && batch.op_seqs.contains(&op.seq) {
            op.in_flight = false;
            changed.push(op.seq);
        }
    }
    // Only ops still queued: a removed op's seq may have been marked changed before.
    ops.retain(|op| changed.contains(&op.seq));
    sort_by_key(&mut ops, |op| op.seq);
    plan.changed_ops = ops;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn name(en: &str) -> Map<String, Value> {
        json!({ "en": en }).as_object().unwrap().clone()
    }

    fn op(seq: u64, query: &str, expected: u64, in_flight: bool, sent: bool) -> OutboxOp {
        OutboxOp {
            in_flight,
            sent,
            ..fresh_op(&format!("op{seq}"), query, &name("x"), 1, seq, expected)
        }
    }

    fn intent(query: &str) -> RenameIntent {
        RenameIntent {
            query_id: query.into(),
            name_i18n: name("new"),
            new_op_id: "op_new".into(),
            now_ms: 9,
        }
    }

    #[test]
    fn a_rename_coalesces_into_the_newest_waiting_op_else_queues_on_the_held_version() {
        let sent = op(1, "q", 3, false, true);
        let waiting = op(2, "q", 3, false, false);
        let plan = plan_rename(&intent("q"), Some(3), &[sent.clone(), waiting], || {
            panic!("a coalesced rename takes no seq")
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            (plan.op.seq, plan.new, plan.op.updated_at_ms),
            (2, false, 9)
        );
        assert_eq!(plan.op.name_i18n, name("new"));

        let plan = plan_rename(&intent("q"), Some(4), &[sent], || Ok(7))
            .unwrap()
            .unwrap();
        assert_eq!(
            (plan.op.seq, plan.new, plan.op.expected_version),
            (7, true, 4)
        );
        assert_eq!(
            plan_rename(&intent("q"), None, &[], || Ok(1)).unwrap(),
            None
        );
    }

    #[test]
    fn settling_an_op_outside_the_batch_refuses_the_whole_settlement() {
        let batch = PushBatch {
            key: "k".into(),
            op_seqs: vec![1],
            body: String::new(),
            created_at_ms: 0,
        };
        let ops = vec![op(1, "q", 3, true, true), op(2, "q", 3, false, false)];
        let settled = [OpSettlement::Retry {
            seq: 2,
            new_op_id: "op_retry".into(),
        }];
        assert!(matches!(
            plan_settlement(&batch, &settled, ops, Vec::new()),
            Err(StoreError::Aborted(_))
        ));
        assert!(batch_in_flight("other", Some(batch)).is_err());
    }

    #[test]
    fn an_applied_rename_updates_an_older_row_and_rebases_only_waiting_ops_made_on_its_version() {
        let batch = PushBatch {
            key: "k".into(),
            op_seqs: vec![1, 2],
            body: String::new(),
            created_at_ms: 0,
        };
        let ops = vec![
            op(1, "q", 3, true, true),
            op(2, "r", 5, true, true),
            op(3, "q", 3, false, false),
            op(4, "q", 2, false, false),
        ];
        let settled = [OpSettlement::Applied {
            seq: 1,
            query_id: "q".into(),
            applied_on: 3,
            new_version: 4,
            name_i18n: name("applied"),
        }];
        let held = vec![("q".to_string(), Some(3))];
        let plan = plan_settlement(&batch, &settled, ops, held).unwrap();
        assert_eq!(plan.removed_ops, vec![1]);
        assert_eq!(
            plan.row_updates,
            vec![RowUpdate {
                query_id: "q".into(),
                version: 4,
                name_i18n: name("applied"),
            }]
        );
        // op 3 rebased (made on 3), op 4 untouched (made on 2), op 2 of the batch unsettled
        // loses its in-flight mark.
        assert_eq!(
            plan.changed_ops.iter().map(|op| op.seq).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(plan.changed_ops[1].expected_version, 4);
        assert!(!plan.changed_ops[0].in_flight);

        let newer = vec![("q".to_string(), Some(9))];
        let ops = vec![op(1, "q", 3, true, true)];
        let plan = plan_settlement(&batch, &settled, ops, newer).unwrap();
        assert!(
            plan.row_updates.is_empty(),
            "pull already brought a newer version"
        );
    }
}
