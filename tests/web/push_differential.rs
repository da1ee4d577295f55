//! `IdbStore` against the reference semantics of `MemoryStore`, differentially: two worlds,
//! identical but for the store, run the same random scenario through the real engine —
//! renames, pushes through the engine's §4-exact fake server with faults (lost responses,
//! network failures, 5xx, 429, cut bodies), server-side renames and deletions, pulls,
//! conflict resolutions, requeued and dropped dead letters, deferred commands against changed
//! dashboards, and "crashes" (a
//! batch stored in flight and never settled). After every step both worlds must have
//! answered the same and hold the same outbox, in-flight batch, commands, conflicts, dead
//! letters and Query rows. Ids, times and jitter come from seeded fakes, so any difference
//! is a difference between the stores.

use super::idb_fixtures::fresh_identity;
use sync_core::engine::build_batch;
use sync_core::engine::{
    drop_dead_letter, enqueue_command, pull, push, rename_query, requeue_dead_letter,
    resolve_conflict, Backoff, Clock, Conflict, DeadLetter, DeferredCommand, Fault, Jitter,
    ManualClock, MemoryStore, OutboxOp, OutboxStore, PullConfig, PushBatch, PushConfig, PushServer,
    Resolution, RetryPolicy, ScriptedTransport, SeededRandom, ServerLog, Store, StoredRow,
    SyncMeta,
};
use sync_core::protocol::Kind;
use sync_core::web::IdbStore;
use wasm_bindgen_test::wasm_bindgen_test;

const USER: &str = "usr_alice";
const T0: u64 = 1_767_225_600_000;
const QUERIES: usize = 6;
const DASHBOARD: &str = "dsh_1";

/// One store with its own fake server, clock and random source.
struct World<S> {
    store: S,
    transport: ScriptedTransport,
    clock: ManualClock,
    random: SeededRandom,
}

impl<S: Store + OutboxStore> World<S> {
    async fn new(store: S) -> Self {
        let server = PushServer::new(ServerLog::default());
        for i in 0..QUERIES {
            server.add_query(&query_id(i), USER, &format!("Q{i}"));
        }
        server.add_dashboard(DASHBOARD, "Revenue");
        let world = World {
            store,
            transport: ScriptedTransport::with_server(server),
            clock: ManualClock::new(T0),
            random: SeededRandom::new(11),
        };
        world.step(&Action::Pull).await;
        world
    }

    fn server(&self) -> &PushServer {
        self.transport.server().unwrap()
    }

    /// Runs one action; returns what the engine answered, for comparison.
    async fn step(&self, action: &Action) -> String {
        self.clock.advance(1_000);
        let (c, r) = (&self.clock, &self.random);
        match action {
            Action::Rename(i, name) => {
                let value = serde_json::json!({ "default": name });
                format!(
                    "{:?}",
                    rename_query(&self.store, c, r, &query_id(*i), &value).await
                )
            }
            Action::Push(max_attempts) => {
                let config = PushConfig {
                    retry: RetryPolicy {
                        max_attempts: *max_attempts,
                        backoff: Backoff {
                            base_ms: 10,
                            cap_ms: 50,
                            jitter: Jitter::Full,
                        },
                        ..RetryPolicy::default()
                    },
                    ..PushConfig::default()
                };
                let pushed = push(&self.store, &self.transport, c, r, &config, &mut |_| {}).await;
                format!("{pushed:?}")
            }
            Action::Pull => {
                let config = PullConfig::new(USER);
                let pulled = pull(&self.store, &self.transport, c, r, &config, &mut |_| {}).await;
                format!("{:?}", pulled.map(|p| (p.pages, p.applied, p.drained)))
            }
            Action::ServerRename(i) => {
                format!("{:?}", self.server().rename_on_server(&query_id(*i), "S"))
            }
            Action::ServerDelete(i) => format!("{}", self.server().delete_query(&query_id(*i))),
            Action::Fault(f) => {
                self.server().inject(f.clone());
                String::new()
            }
            Action::Resolve(resolution) => {
                let open = self.store.all_conflicts().await.unwrap();
                match open.iter().find(|c| c.resolution.is_none()) {
                    None => "none open".into(),
                    Some(conflict) => format!(
                        "{:?}",
                        resolve_conflict(&self.store, c, r, &conflict.id, *resolution).await
                    ),
                }
            }
            Action::Requeue | Action::Drop => {
                let dead = self.store.dead_letters().await.unwrap();
                let Some(oldest) = dead.first() else {
                    return "no dead letter".into();
                };
                if matches!(action, Action::Requeue) {
                    format!(
                        "{:?}",
                        requeue_dead_letter(&self.store, c, r, &oldest.id).await
                    )
                } else {
                    format!("{:?}", drop_dead_letter(&self.store, &oldest.id).await)
                }
            }
            Action::Command => {
                let held = self.store.row(Kind::Dashboard, DASHBOARD).await.unwrap();
                let version = held.map_or(1, |d| d.version);
                let queued = enqueue_command(
                    &self.store,
                    c,
                    r,
                    "PUT",
                    &format!("/api/v1/analytics/dashboards/{DASHBOARD}"),
                    Some(serde_json::json!({"name_i18n": {"default": "Local title"}})),
                    Some(version.to_string()),
                )
                .await;
                format!("{queued:?}")
            }
            Action::ServerEditDashboard => format!(
                "{:?}",
                self.server()
                    .edit_dashboard_on_server(DASHBOARD, "Server title")
            ),
            Action::EmptyAnswer => {
                let queued = !self.store.outbox().await.unwrap().is_empty();
                if !queued {
                    return "nothing queued".into();
                }
                self.transport.respond(200, r#"{"results":[]}"#);
                let mut config = PushConfig::default();
                config.retry.max_attempts = 1;
                let pushed = push(&self.store, &self.transport, c, r, &config, &mut |_| {}).await;
                format!("{pushed:?}")
            }
            Action::Crash => {
                // A push that stored its batch and died before settling it.
                if self.store.in_flight_batch().await.unwrap().is_some() {
                    return "already in flight".into();
                }
                let ops: Vec<OutboxOp> = self.store.outbox().await.unwrap();
                if ops.is_empty() {
                    return "nothing queued".into();
                }
                let batch = build_batch(&ops[..ops.len().min(50)], self.clock.now_ms()).unwrap();
                format!("{:?}", self.store.begin_batch(&batch).await)
            }
        }
    }

    async fn state(&self) -> State {
        State {
            outbox: self.store.outbox().await.unwrap(),
            in_flight: self.store.in_flight_batch().await.unwrap(),
            commands: self.store.commands().await.unwrap(),
            conflicts: self.store.all_conflicts().await.unwrap(),
            dead_letters: self.store.dead_letters().await.unwrap(),
            queries: self.store.rows(Kind::Query).await.unwrap(),
            dashboards: self.store.rows(Kind::Dashboard).await.unwrap(),
            meta: self.store.meta().await.unwrap(),
        }
    }
}

#[derive(Debug, PartialEq)]
struct State {
    outbox: Vec<OutboxOp>,
    in_flight: Option<PushBatch>,
    commands: Vec<DeferredCommand>,
    conflicts: Vec<Conflict>,
    dead_letters: Vec<DeadLetter>,
    queries: Vec<StoredRow>,
    dashboards: Vec<StoredRow>,
    meta: SyncMeta,
}

#[derive(Debug, Clone)]
enum Action {
    Rename(usize, String),
    Push(u32),
    Pull,
    ServerRename(usize),
    ServerDelete(usize),
    Fault(Fault),
    Resolve(Resolution),
    /// Requeue the oldest dead letter.
    Requeue,
    /// Drop the oldest dead letter.
    Drop,
    Command,
    ServerEditDashboard,
    Crash,
    /// A push whose batch is answered `200 {"results": []}`: every op left unanswered.
    EmptyAnswer,
}

fn query_id(i: usize) -> String {
    format!("qry_{i:03}")
}

/// A small deterministic generator for the scenario (the worlds have their own).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn action(&mut self, step: usize) -> Action {
        let q = self.below(QUERIES as u64) as usize;
        match self.below(100) {
            0..=30 => Action::Rename(q, format!("N{step}")),
            31..=33 => Action::Requeue,
            34 => Action::Drop,
            35..=54 => Action::Push(1 + self.below(3) as u32),
            55..=61 => Action::Pull,
            62..=67 => Action::ServerRename(q),
            68..=69 => Action::ServerDelete(q),
            70..=79 => Action::Fault(match self.below(7) {
                0 => Fault::LoseResponse,
                1 => Fault::Network,
                2 => Fault::Status(503),
                3 => Fault::TruncateResponse,
                4 => Fault::Status(422),
                5 => Fault::LoseResponse,
                _ => Fault::RateLimit("0".into()),
            }),
            80..=86 => Action::Resolve(if self.below(2) == 0 {
                Resolution::KeepLocal
            } else {
                Resolution::AcceptServer
            }),
            87..=91 => Action::Command,
            92..=94 => Action::ServerEditDashboard,
            95..=96 => Action::EmptyAnswer,
            _ => Action::Crash,
        }
    }
}

#[wasm_bindgen_test]
async fn idb_store_answers_every_push_scenario_exactly_like_the_memory_store() {
    let (mut conflicts, mut dead_letters) = (0, 0);
    for seed in 1_u64..=5 {
        let identity = fresh_identity();
        let memory = World::new(MemoryStore::new()).await;
        let idb = World::new(IdbStore::open(&identity).await.unwrap()).await;
        assert_eq!(
            idb.state().await,
            memory.state().await,
            "after the first pull"
        );
        let mut lcg = Lcg(seed);
        let mut history = Vec::new();
        for step in 0..100 {
            let action = lcg.action(step);
            history.push(action.clone());
            let expected = memory.step(&action).await;
            let got = idb.step(&action).await;
            assert_eq!(got, expected, "seed {seed}, step {step}: {history:?}");
            assert_eq!(
                idb.state().await,
                memory.state().await,
                "seed {seed}, step {step}: {history:?}"
            );
        }
        let state = memory.state().await;
        conflicts += state.conflicts.len();
        dead_letters += state.dead_letters.len();
        idb.store.close();
        IdbStore::delete_database(&identity).await.unwrap();
    }
    // The scenarios must have exercised the interesting paths.
    assert!(
        conflicts > 0 && dead_letters > 0,
        "{conflicts} {dead_letters}"
    );
}
