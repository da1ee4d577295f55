//! Model-based test of the push path against a server that implements PROTOCOL §4 exactly
//! (`PushServer`: version check, an op id applied at most once even under another key,
//! `Idempotency-Key` replays answered from the stored first answer).
//!
//! Random sequences of renames, pushes under injected faults (lost responses after the
//! server applied, truncated bodies, 503, network errors, 429), pages that die mid-push,
//! server-side renames and deletions (conflicts and 404s), pulls and conflict resolutions
//! both ways. After every step:
//! - every op the device ever created is in exactly one place: the outbox, the conflicts,
//!   the dead letters, or applied by the server and gone from the outbox — never lost,
//!   never twice;
//! - the server applied no op twice, and applied each op with the latest name coalesced
//!   into it;
//! - per query, the server applied the device's ops in the order the user made those
//!   edits (a keep-local resolution counts as a new edit);
//! - an op the server applied is either settled or still in flight, never waiting;
//! - a conflict only ever concerns a query the server changed behind the device's back
//!   (a device never conflicts with its own earlier edits, e.g. one made while another
//!   was in flight).
//!
//! At the end the faults stop, pushes drain the outbox, a pull runs, and every local query
//! (version and name) must equal the server's.

use crate::support::push::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::engine::{ConflictSource, Fault, NameChange, Requeue, Resolution};

const QUERIES: usize = 4;

#[derive(Debug, Clone)]
enum FaultKind {
    Lose,
    Truncate,
    Unavailable,
    Network,
    RateLimited,
}

#[derive(Debug, Clone)]
enum Action {
    Rename { query: usize, name: u8 },
    Push { faults: Vec<FaultKind> },
    Crash,
    ServerRename { query: usize },
    ServerDelete { query: usize },
    Pull,
    Resolve { pick: usize, keep_local: bool },
}

fn fault_kind() -> impl Strategy<Value = FaultKind> {
    prop_oneof![
        3 => Just(FaultKind::Lose),
        1 => Just(FaultKind::Truncate),
        1 => Just(FaultKind::Unavailable),
        2 => Just(FaultKind::Network),
        1 => Just(FaultKind::RateLimited),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => (0..QUERIES, 0u8..6).prop_map(|(query, name)| Action::Rename { query, name }),
        5 => prop::collection::vec(fault_kind(), 0..3).prop_map(|faults| Action::Push { faults }),
        1 => Just(Action::Crash),
        2 => (0..QUERIES).prop_map(|query| Action::ServerRename { query }),
        1 => (0..QUERIES).prop_map(|query| Action::ServerDelete { query }),
        2 => Just(Action::Pull),
        2 => (0usize..4, any::<bool>()).prop_map(|(pick, keep_local)| Action::Resolve { pick, keep_local }),
    ]
}

/// What the test knows about every op the device created.
#[derive(Default)]
struct Model {
    /// op id → (query, index of the latest edit carried, latest name).
    ops: BTreeMap<String, (String, u64, String)>,
    edits: u64,
    server_renames: u64,
    /// Queries the server changed behind the device's back (renamed or deleted).
    touched_on_server: BTreeSet<String>,
}

impl Model {
    fn record(&mut self, op_id: &str, query: &str, name: &str) {
        self.edits += 1;
        self.ops
            .insert(op_id.into(), (query.into(), self.edits, name.into()));
    }
}

fn check(h: &PushHarness, model: &Model) -> Result<(), TestCaseError> {
    let outbox = h.outbox();
    let in_outbox: BTreeMap<String, bool> = outbox
        .ops
        .values()
        .map(|o| (o.op_id.clone(), o.in_flight))
        .collect();
    let conflicted: Vec<String> = outbox
        .conflicts
        .iter()
        .filter_map(|c| match &c.source {
            ConflictSource::Op { op_id } => Some(op_id.clone()),
            ConflictSource::Command { .. } => None,
        })
        .collect();
    let dead: Vec<String> = outbox
        .dead_letters
        .iter()
        .filter_map(|d| d.payload["opId"].as_str().map(str::to_string))
        .collect();
    let applications = h.server().applications();
    for (op, times) in &applications {
        prop_assert_eq!(*times, 1, "{} applied {} times", op, times);
    }
    let history = h.server().history();
    let mut last_edit: BTreeMap<String, u64> = BTreeMap::new();
    for change in &history {
        if let NameChange::Op {
            op_id,
            query_id,
            name_i18n,
            ..
        } = change
        {
            let (query, edit, name) = &model.ops[op_id];
            prop_assert_eq!(query, query_id);
            prop_assert_eq!(
                name_i18n["default"].as_str(),
                Some(name.as_str()),
                "{} applied with a stale name",
                op_id
            );
            let previous = last_edit.insert(query.clone(), *edit).unwrap_or(0);
            prop_assert!(previous < *edit, "{} applied out of edit order", op_id);
        }
    }
    for op in model.ops.keys() {
        let applied = applications.contains_key(op);
        let places = usize::from(in_outbox.contains_key(op))
            + conflicted.iter().filter(|c| *c == op).count()
            + dead.iter().filter(|d| *d == op).count()
            + usize::from(applied && !in_outbox.contains_key(op));
        prop_assert_eq!(places, 1, "op {} is in {} places", op, places);
        if applied {
            prop_assert!(
                in_outbox.get(op).is_none_or(|in_flight| *in_flight),
                "{} applied but waiting to be sent again",
                op
            );
            prop_assert!(!conflicted.contains(op) && !dead.contains(op));
        }
    }
    // A single device never conflicts with itself: every conflict needs a server change.
    for c in &outbox.conflicts {
        prop_assert!(
            model.touched_on_server.contains(&c.entity_id),
            "conflict on {} which only this device changed",
            c.entity_id
        );
    }
    Ok(())
}

fn run(actions: Vec<Action>) -> Result<(), TestCaseError> {
    let mut h = PushHarness::with_server(QUERIES);
    h.config.batch_size = 2;
    h.config.retry.max_attempts = 2;
    let mut model = Model::default();
    for action in actions {
        match action {
            Action::Rename { query, name } => {
                let name = format!("N{name}");
                match h.rename(&query_id(query), &name) {
                    Ok(op) => model.record(&op.op_id, &op.entity_id, &name),
                    Err(e) => prop_assert_eq!(e.code(), "not_found"),
                }
            }
            Action::Push { faults } => {
                for f in faults {
                    h.server().inject(match f {
                        FaultKind::Lose => Fault::LoseResponse,
                        FaultKind::Truncate => Fault::TruncateResponse,
                        FaultKind::Unavailable => Fault::Status(503),
                        FaultKind::Network => Fault::Network,
                        FaultKind::RateLimited => Fault::RateLimit("1".into()),
                    });
                }
                if let Err(e) = h.push() {
                    prop_assert!(e.retryable(), "push failed for good: {}", e);
                    prop_assert!(
                        h.outbox().in_flight.is_some(),
                        "failed without a kept batch"
                    );
                }
                h.server().clear_faults();
            }
            Action::Crash => {
                h.push_and_crash();
            }
            Action::ServerRename { query } => {
                model.server_renames += 1;
                model.touched_on_server.insert(query_id(query));
                h.server()
                    .rename_on_server(&query_id(query), &format!("S{}", model.server_renames));
            }
            Action::ServerDelete { query } => {
                model.touched_on_server.insert(query_id(query));
                h.server().delete_query(&query_id(query));
            }
            Action::Pull => {
                h.pull().map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            Action::Resolve { pick, keep_local } => {
                let open = h.conflicts();
                if let Some(c) = open.get(pick % open.len().max(1)) {
                    let resolution = if keep_local {
                        Resolution::KeepLocal
                    } else {
                        Resolution::AcceptServer
                    };
                    let resolved = h
                        .resolve(&c.id, resolution)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if let Some(Requeue::Op {
                        op_id,
                        query_id,
                        name_i18n,
                        ..
                    }) = &resolved.requeue
                    {
                        let name = name_i18n["default"].as_str().unwrap_or_default();
                        model.record(op_id, query_id, name);
                    }
                    prop_assert!(h.resolve(&c.id, resolution).is_err());
                }
            }
        }
        check(&h, &model)?;
    }

    // Faults stop: the outbox drains, and the device converges on the server.
    h.server().clear_faults();
    for _ in 0..3 {
        let report = h.push().map_err(|e| TestCaseError::fail(e.to_string()))?;
        if report.batches == 0 {
            break;
        }
    }
    prop_assert!(h.outbox().ops.is_empty(), "outbox not drained");
    prop_assert!(h.outbox().in_flight.is_none());
    h.pull().map_err(|e| TestCaseError::fail(e.to_string()))?;
    check(&h, &model)?;
    let server: BTreeMap<String, (u64, String)> = h
        .server()
        .queries()
        .into_iter()
        .map(|(id, q)| {
            let name = q.row["name_i18n"]["default"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (id, (q.version, name))
        })
        .collect();
    let mut local: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for id in (0..QUERIES).map(query_id) {
        if let Some((version, name, pending)) = h.shown(&id) {
            prop_assert!(!pending, "{} still shows a pending name", id);
            local.insert(id, (version, name));
        }
    }
    prop_assert_eq!(local, server);
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn every_op_ends_exactly_once_and_the_device_converges(
        actions in prop::collection::vec(action(), 1..40)
    ) {
        run(actions)?;
    }
}

/// A fixed scenario of the model, so the interesting interleavings are always exercised
/// whatever the random search finds.
#[test]
fn a_scripted_run_of_the_model() {
    use Action::*;
    run(vec![
        Rename { query: 0, name: 1 },
        Rename { query: 1, name: 1 },
        Rename { query: 2, name: 1 },
        Push {
            faults: vec![FaultKind::Lose, FaultKind::Lose],
        },
        Rename { query: 0, name: 2 },
        Crash,
        Rename { query: 0, name: 3 },
        ServerRename { query: 0 },
        Push {
            faults: vec![FaultKind::Truncate],
        },
        Resolve {
            pick: 0,
            keep_local: true,
        },
        Rename { query: 1, name: 4 },
        ServerDelete { query: 2 },
        Rename { query: 2, name: 5 },
        Push {
            faults: vec![FaultKind::Network, FaultKind::Unavailable],
        },
        Pull,
        Push {
            faults: vec![FaultKind::RateLimited],
        },
        ServerRename { query: 1 },
        Rename { query: 1, name: 0 },
        Push { faults: vec![] },
        Resolve {
            pick: 0,
            keep_local: false,
        },
    ])
    .unwrap();
}
