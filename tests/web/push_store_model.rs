//! `IdbStore`'s `OutboxStore` methods called directly, side by side with `MemoryStore` (the
//! reference semantics), with random and often inconsistent arguments the engine would
//! never produce: batches of unknown or repeated seqs, settlements with arbitrary versions
//! (so a settled op can meet a newer row, or rebase ops on any version), duplicates,
//! unknown keys, commands and conflicts that do not exist, rows replaced and wiped between
//! calls. Every call must answer the same (refusals included, message for message) and
//! leave the same state. `push_differential.rs` does the same through the engine.

use super::idb_fixtures::fresh_identity;
use serde_json::{json, Map, Value};
use sync_core::engine::{
    ApplyPlan, CommandSettlement, Conflict, ConflictSource, DeadLetter, DeferredCommand,
    MemoryStore, Method, OpSettlement, OutboxStore, PushBatch, RenameIntent, Requeue, Resolution,
    Store, StoredRow,
};
use sync_core::protocol::Kind;
use sync_core::web::IdbStore;
use wasm_bindgen_test::wasm_bindgen_test;

const QUERIES: u64 = 2;

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.below(items.len() as u64) as usize].clone())
        }
    }
}

fn query_id(i: u64) -> String {
    format!("qry_{i}")
}

fn name(s: &str) -> Map<String, Value> {
    json!({ "default": s }).as_object().cloned().unwrap()
}

fn query_row(i: u64, version: u64, label: &str) -> StoredRow {
    StoredRow {
        kind: Kind::Query,
        key: query_id(i),
        version,
        row: json!({"id": query_id(i), "ownerId": "usr_m", "name_i18n": {"default": label}})
            .as_object()
            .cloned()
            .unwrap(),
    }
}

fn command(step: u64) -> DeferredCommand {
    DeferredCommand {
        seq: 0,
        command_id: format!("cmd_{step}"),
        method: if step % 2 == 0 {
            Method::Put
        } else {
            Method::Post
        },
        path: format!("/api/v1/analytics/dashboards/dsh_{step}"),
        body: (step % 3 != 0).then(|| json!({"name_i18n": {"default": format!("D{step}")}})),
        if_match: (step % 2 == 0).then(|| step.to_string()),
        created_at_ms: step,
    }
}

fn conflict(id: String, step: u64, with_command: bool) -> Conflict {
    Conflict {
        id,
        kind: Kind::Query,
        entity_id: query_id(step % QUERIES),
        local: json!({"name_i18n": {"default": format!("L{step}")}}),
        server: json!({"version": step % 7, "name_i18n": {"default": "S"}}),
        source: if with_command {
            ConflictSource::Command {
                command: DeferredCommand {
                    seq: step,
                    ..command(step)
                },
            }
        } else {
            ConflictSource::Op {
                op_id: format!("op_{step}"),
            }
        },
        created_at_ms: step,
        resolution: None,
        resolved_at_ms: None,
    }
}

fn dead_letter(id: String, step: u64) -> DeadLetter {
    DeadLetter {
        id,
        source: "op".into(),
        kind: Kind::Query,
        entity_id: query_id(step % QUERIES),
        status: 400 + (step % 30) as u16,
        reason: format!("reason {step}"),
        payload: json!({"step": step}),
        failed_at_ms: step,
    }
}

/// Both stores, the reference first.
struct Pair {
    memory: MemoryStore,
    idb: IdbStore,
}

macro_rules! both {
    ($pair:expr, $s:ident => $call:expr) => {{
        let expected = {
            let $s = &$pair.memory;
            format!("{:?}", $call.await)
        };
        let got = {
            let $s = &$pair.idb;
            format!("{:?}", $call.await)
        };
        (expected, got)
    }};
}

/// Everything either store holds, as text.
async fn state<S: Store + OutboxStore>(s: &S) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        s.outbox().await,
        s.in_flight_batch().await,
        s.commands().await,
        s.all_conflicts().await,
        s.dead_letters().await,
        s.rows(Kind::Query).await,
        s.meta().await,
    )
}

/// One random call, made on both stores.
async fn random_call(pair: &Pair, rng: &mut Lcg, step: u64) -> (String, String) {
    let ops = pair.memory.outbox().await.unwrap();
    let seqs: Vec<u64> = ops.iter().map(|o| o.seq).collect();
    let in_flight = pair.memory.in_flight_batch().await.unwrap();
    match rng.below(10) {
        0 | 1 => {
            let intent = RenameIntent {
                query_id: query_id(rng.below(QUERIES + 1)),
                name_i18n: name(&format!("N{step}")),
                new_op_id: format!("op_{step}"),
                now_ms: step,
            };
            both!(pair, s => s.enqueue_rename(&intent))
        }
        2 => {
            let mut op_seqs: Vec<u64> = seqs.iter().copied().filter(|_| rng.chance(60)).collect();
            if rng.chance(10) {
                op_seqs.push(900 + step);
            }
            let batch = PushBatch {
                key: format!("key_{step}"),
                op_seqs,
                body: format!("body {step}"),
                created_at_ms: step,
            };
            both!(pair, s => s.begin_batch(&batch))
        }
        3 | 4 => {
            let (key, batch_seqs) = match &in_flight {
                Some(b) if !rng.chance(10) => (b.key.clone(), b.op_seqs.clone()),
                _ => (format!("key_none_{step}"), seqs.clone()),
            };
            let mut settled = Vec::new();
            for (i, seq) in batch_seqs.iter().enumerate() {
                let op = ops.iter().find(|o| o.seq == *seq);
                let query = op.map_or(query_id(0), |o| o.entity_id.clone());
                let id = format!("{step}_{i}");
                match rng.below(5) {
                    0 => {}
                    1 | 2 => settled.push(OpSettlement::Applied {
                        seq: *seq,
                        query_id: query,
                        applied_on: op.map_or(1, |o| o.expected_version) + rng.below(2),
                        new_version: 1 + rng.below(6),
                        name_i18n: name(&format!("A{id}")),
                    }),
                    3 => settled.push(OpSettlement::Conflict {
                        seq: *seq,
                        conflict: conflict(format!("cfl_{id}"), step, false),
                    }),
                    _ => settled.push(OpSettlement::DeadLetter {
                        seq: *seq,
                        dead_letter: dead_letter(format!("dlt_{id}"), step),
                    }),
                }
            }
            if rng.chance(8) {
                if let Some(first) = settled.first().cloned() {
                    settled.push(first);
                }
            }
            both!(pair, s => s.settle_batch(&key, &settled))
        }
        5 => both!(pair, s => s.enqueue_command(&command(step))),
        6 => {
            let commands = pair.memory.commands().await.unwrap();
            let seq = match rng.pick(&commands) {
                Some(c) if !rng.chance(10) => c.seq,
                _ => 800 + step,
            };
            let outcome = match rng.below(3) {
                0 => CommandSettlement::Done,
                1 => CommandSettlement::Conflict(conflict(format!("cfl_c{step}"), step, true)),
                _ => CommandSettlement::DeadLetter(dead_letter(format!("dlt_c{step}"), step)),
            };
            both!(pair, s => s.settle_command(seq, &outcome))
        }
        7 => {
            let conflicts = pair.memory.all_conflicts().await.unwrap();
            let id = match rng.pick(&conflicts) {
                Some(c) if !rng.chance(10) => c.id,
                _ => format!("cfl_unknown_{step}"),
            };
            let resolution = if rng.chance(50) {
                Resolution::KeepLocal
            } else {
                Resolution::AcceptServer
            };
            let requeue = match rng.below(3) {
                0 => None,
                1 => Some(Requeue::Op {
                    op_id: format!("op_r{step}"),
                    query_id: query_id(rng.below(QUERIES)),
                    expected_version: rng.below(6),
                    name_i18n: name(&format!("R{step}")),
                    now_ms: step,
                }),
                _ => Some(Requeue::Command(command(step))),
            };
            both!(pair, s => s.resolve_conflict(&id, resolution, step, requeue.as_ref()))
        }
        8 => {
            // What a pull does to the rows the outbox reads and writes.
            let cursor = pair.memory.meta().await.unwrap().cursor;
            let plan = ApplyPlan {
                row_puts: vec![query_row(rng.below(QUERIES), 1 + rng.below(6), "pulled")],
                ..ApplyPlan::default()
            };
            let next = format!("c{step}");
            both!(pair, s => s.commit_page(&plan, cursor.as_deref(), &next))
        }
        _ => {
            if rng.chance(30) {
                both!(pair, s => s.wipe(&[Kind::Query], true))
            } else {
                both!(pair, s => s.outbox())
            }
        }
    }
}

#[wasm_bindgen_test]
async fn outbox_store_calls_answer_exactly_like_the_memory_store() {
    for seed in 1_u64..=3 {
        let identity = fresh_identity();
        let pair = Pair {
            memory: MemoryStore::new(),
            idb: IdbStore::open(&identity).await.unwrap(),
        };
        let plan = ApplyPlan {
            row_puts: (0..QUERIES).map(|i| query_row(i, 1, "start")).collect(),
            ..ApplyPlan::default()
        };
        pair.memory.commit_page(&plan, None, "c0").await.unwrap();
        pair.idb.commit_page(&plan, None, "c0").await.unwrap();
        let mut rng = Lcg(seed);
        for step in 0..200 {
            let (expected, got) = random_call(&pair, &mut rng, step).await;
            assert_eq!(got, expected, "seed {seed} step {step}");
            assert_eq!(
                state(&pair.idb).await,
                state(&pair.memory).await,
                "seed {seed} step {step}"
            );
        }
        pair.idb.close();
        IdbStore::delete_database(&identity).await.unwrap();
    }
}
