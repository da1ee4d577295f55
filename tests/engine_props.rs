//! Property tests of the pull path: delivery order does not matter, replays change nothing,
//! retention and dedupe match a reference model, and no body can panic the engine or write.
#![cfg(not(target_arch = "wasm32"))]

mod engine_common;

use engine_common::*;
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::engine::{
    apply_page, plan_page, pull, state_request, MemoryStore, PullConfig, PullError,
    ScriptedTransport, ServerLog, Store, StoreError,
};
use sync_core::protocol::{parse_pull_page, Kind, PullItem};

/// An abstract server-log entry; realised into contract items by [`realise`].
#[derive(Debug, Clone)]
enum Op {
    /// Upsert key `key` of kind number `kind`, version moved by `delta` from the newest
    /// version the log has sent for it (so lower, equal and higher versions all occur).
    Upsert {
        kind: u8,
        key: u8,
        delta: i8,
    },
    Tombstone {
        kind: u8,
        key: u8,
    },
    /// A new snapshot `gap` minutes after the widget's previous one, or (`reemit`) an exact
    /// copy of one the widget already had in its current history.
    Append {
        widget: u8,
        gap: u8,
        params: bool,
        value: u8,
        reemit: Option<u8>,
    },
    Reset {
        kind: u8,
    },
}

const VERSIONED: [Kind; 6] = [
    Kind::Dashboard,
    Kind::Widget,
    Kind::MetricDefinition,
    Kind::Query,
    Kind::Projection,
    Kind::DqAlertOpen,
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 0u8..3, -1i8..3).prop_map(|(kind, key, delta)| Op::Upsert { kind, key, delta }),
        1 => (0u8..6, 0u8..3).prop_map(|(kind, key)| Op::Tombstone { kind, key }),
        5 => (0u8..3, 1u8..4, any::<bool>(), 0u8..3, proptest::option::weighted(0.25, any::<u8>()))
            .prop_map(|(widget, gap, params, value, reemit)| Op::Append { widget, gap, params, value, reemit }),
        1 => (0u8..7).prop_map(|kind| Op::Reset { kind }),
    ]
}

fn versioned_row(kind: Kind, key: &str, version: u64) -> PullItem {
    match kind {
        Kind::Dashboard => upsert(
            kind,
            version,
            json!({"id": key, "name_i18n": {"default": key},
            "embedUrl": "x", "sharedWith": [{"kind": "user", "id": "usr_b"}, {"kind": "link", "id": "l"}],
            "tables": ["p0"], "v": version}),
        ),
        Kind::Widget => widget(key, version, "d0", "m0"),
        Kind::MetricDefinition => metric(key, version),
        Kind::Query => upsert(
            kind,
            version,
            json!({"id": key, "ownerId": if version % 2 == 0 { USER } else { "usr_bob" },
            "name_i18n": {"default": format!("{key} v{version}")}, "sql_template": "select 1"}),
        ),
        Kind::Projection => projection(key, version, "2026-01-01T00:00:00Z", version as f64),
        _ => upsert(
            kind,
            version,
            json!({"id": key, "checkKey": "k", "severity": "info",
            "observedAt": "2026-01-01T00:00:00Z", "observedValue": version}),
        ),
    }
}

/// Turns ops into a log a server could send: per widget, snapshots in chronological order
/// (re-emits are exact copies of earlier ones of the same history).
fn realise(ops: &[Op]) -> Vec<PullItem> {
    let mut versions: BTreeMap<(Kind, u8), u64> = BTreeMap::new();
    let mut clock: BTreeMap<u8, u32> = BTreeMap::new();
    let mut history: BTreeMap<u8, Vec<PullItem>> = BTreeMap::new();
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Upsert { kind, key, delta } => {
                let kind = VERSIONED[usize::from(*kind) % 6];
                let newest = versions.entry((kind, *key)).or_insert(0);
                let v = (*newest as i64 + i64::from(*delta)).max(1) as u64;
                *newest = (*newest).max(v);
                let prefix = &kind.as_str()[..1].to_lowercase();
                out.push(versioned_row(kind, &format!("{prefix}{key}"), v));
            }
            Op::Tombstone { kind, key } => {
                let kind = VERSIONED[usize::from(*kind) % 6];
                let prefix = &kind.as_str()[..1].to_lowercase();
                out.push(tombstone(kind, &format!("{prefix}{key}")));
                if kind == Kind::Widget {
                    history.remove(key);
                }
            }
            Op::Append {
                widget,
                gap,
                params,
                value,
                reemit,
            } => {
                let past = history.entry(*widget).or_default();
                match reemit {
                    Some(i) if !past.is_empty() => {
                        out.push(past[usize::from(*i) % past.len()].clone());
                    }
                    _ => {
                        let t = clock.entry(*widget).or_insert(0);
                        *t += u32::from(*gap);
                        let item = snapshot(
                            &format!("w{widget}"),
                            *t,
                            if *params { "p" } else { "q" },
                            json!(value),
                        );
                        past.push(item.clone());
                        out.push(item);
                    }
                }
            }
            Op::Reset { kind } => {
                let kind = Kind::ALL[usize::from(*kind) % 7];
                out.push(reset(kind));
                if kind == Kind::WidgetSnapshot {
                    history.clear();
                }
            }
        }
    }
    out
}

fn config(retention: usize) -> PullConfig {
    PullConfig {
        retention,
        ..PullConfig::new(USER)
    }
}

fn pull_to_drained(
    store: &MemoryStore,
    log: ServerLog,
    config: &PullConfig,
) -> sync_core::engine::PullReport {
    let transport = ScriptedTransport::with_log(log);
    let clock = sync_core::engine::ManualClock::new(T0);
    let random = sync_core::engine::SeededRandom::new(1);
    block_on(pull(
        store,
        &transport,
        &clock,
        &random,
        config,
        &mut |_| {},
    ))
    .unwrap()
}

/// 64 cases keep `cargo test` fast; `PROPTEST_CASES=5000` runs a deep search.
fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        // Failures are reported with their minimal input; no regression files in tests/.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Any interleaving of duplicated, replayed, re-ordered and re-paged deliveries, each
    /// applied through the real apply path with the cursor compare-and-set, followed by a
    /// normal pull, ends in exactly the store of one clean pass.
    #[test]
    fn delivery_order_does_not_matter(
        ops in proptest::collection::vec(op(), 0..40),
        page_size in 1usize..6,
        retention in 1usize..4,
        deliveries in proptest::collection::vec((any::<u16>(), 1usize..6), 0..40),
    ) {
        let items = realise(&ops);
        let config = PullConfig { page_size: page_size as u32, ..config(retention) };

        let clean = MemoryStore::new();
        for (cursor, page) in ServerLog::new(items.clone()).clean_pass(page_size) {
            block_on(apply_page(&clean, page, cursor.as_deref(), &config)).unwrap();
        }

        let log = ServerLog::new(items.clone());
        let messy = MemoryStore::new();
        for (start, size) in deliveries {
            let start = usize::from(start) % (items.len() + 1);
            let cursor = (start > 0).then(|| ServerLog::cursor_at(start));
            let page = log.page(cursor.as_deref(), size).unwrap();
            match block_on(apply_page(&messy, page, cursor.as_deref(), &config)) {
                Ok(_) | Err(PullError::Storage(StoreError::CursorMoved)) => {}
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
        let report = pull_to_drained(&messy, log, &config);
        prop_assert!(report.drained);
        prop_assert_eq!(messy.contents(), clean.contents());
    }

    /// Re-planning an applied page against the resulting state and committing it leaves
    /// the store unchanged — for any page, in any order, from any prior state.
    #[test]
    fn reapplying_a_page_changes_nothing(
        before in proptest::collection::vec(op(), 0..25),
        page_ops in proptest::collection::vec(op(), 0..30),
        shuffle in proptest::collection::vec(any::<u16>(), 0..30),
        retention in 1usize..4,
    ) {
        let config = config(retention);
        let store = MemoryStore::new();
        block_on(apply_page(&store, page(realise(&before), "c1", false), None, &config)).unwrap();
        // Not a realistic log: snapshots out of order, versions anywhere.
        let mut items = realise(&page_ops);
        for (i, j) in shuffle.iter().enumerate() {
            if !items.is_empty() {
                let len = items.len();
                items.swap(i % len, usize::from(*j) % len);
            }
        }
        block_on(apply_page(&store, page(items.clone(), "c2", false), Some("c1"), &config)).unwrap();
        let applied = store.contents();
        let writes = store.row_writes();
        let again = block_on(apply_page(&store, page(items.clone(), "c3", false), Some("c2"), &config)).unwrap();
        let mut after = store.contents();
        after.meta.cursor = Some("c2".into());
        prop_assert_eq!(after, applied);
        // Without resets or tombstones (after which the page's rows are written again), a
        // replay writes nothing at all.
        let rewrites = items.iter().any(|i| matches!(i, PullItem::Reset { .. } | PullItem::Tombstone { .. }));
        if !rewrites {
            prop_assert!(again.plan.is_empty(), "{:?}", again.plan);
            prop_assert_eq!(store.row_writes(), writes);
        }
    }

    /// Retention and dedupe against a reference model: per widget, a (widgetId,
    /// generatedAt) seen before is skipped, a snapshot identical to the newest held one is
    /// skipped, and only the newest N are kept — whatever the page boundaries.
    #[test]
    fn retention_matches_the_model(
        appends in proptest::collection::vec((0u8..3, 1u8..4, any::<bool>(), 0u8..2, proptest::option::weighted(0.3, any::<u8>())), 0..60),
        cuts in proptest::collection::vec(1usize..8, 1..20),
        retention in 1usize..5,
    ) {
        let ops: Vec<Op> = appends
            .into_iter()
            .map(|(widget, gap, params, value, reemit)| Op::Append { widget, gap, params, value, reemit })
            .collect();
        let items = realise(&ops);
        let config = config(retention);
        let store = MemoryStore::new();
        // Model: per widget, keys ever offered and the held list (oldest first).
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        let mut held: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        let mut rest = items.as_slice();
        let mut cursor: Option<String> = None;
        let mut n = 0;
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
            rest = tail;
            let writes = store.row_writes();
            let mut model_writes = 0;
            for item in chunk {
                let PullItem::Append { row, .. } = item else { unreachable!() };
                let w = row["widgetId"].as_str().unwrap().to_string();
                let at = row["generatedAt"].as_str().unwrap().to_string();
                let content = (row["paramsHash"].to_string(), row["rows"].to_string());
                if !seen.insert((w.clone(), at.clone())) {
                    continue;
                }
                let list = held.entry(w).or_default();
                if list.last().is_some_and(|(_, p, r)| (p.clone(), r.clone()) == content) {
                    continue;
                }
                list.push((at, content.0, content.1));
                model_writes += 1;
                if list.len() > retention {
                    list.remove(0);
                }
            }
            n += 1;
            let next = format!("c{n}");
            block_on(apply_page(&store, page(chunk.to_vec(), &next, false), cursor.as_deref(), &config)).unwrap();
            cursor = Some(next);
            if model_writes == 0 {
                prop_assert_eq!(store.row_writes(), writes, "model says no write");
            }
            for (w, list) in &held {
                let stored: Vec<String> = block_on(store.snapshots_of(w)).unwrap().into_iter().rev().map(|s| s.generated_at).collect();
                let expected: Vec<String> = list.iter().map(|(at, _, _)| at.clone()).collect();
                prop_assert_eq!(stored, expected, "widget {}", w);
            }
        }
    }

    /// Arbitrary bytes as a page body never panic and never write.
    #[test]
    fn arbitrary_bytes_never_panic_or_write(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_body(body)?;
    }

    /// Arbitrary JSON, and valid pages with one value replaced, never panic; whatever the
    /// strict parser refuses writes nothing.
    #[test]
    fn arbitrary_json_never_panics_or_writes(
        value in json_value(),
        ops in proptest::collection::vec(op(), 1..8),
        path in proptest::collection::vec(any::<u8>(), 1..5),
        replacement in json_value(),
    ) {
        check_body(value.to_string().into_bytes())?;
        let valid = page(realise(&ops), "next", true).to_json_string();
        let mut mutated: serde_json::Value = serde_json::from_str(&valid).unwrap();
        replace_somewhere(&mut mutated, &path, replacement);
        check_body(mutated.to_string().into_bytes())?;
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        prop_oneof![
            Just("Widget".to_string()),
            Just("upsert".to_string()),
            Just("append".to_string()),
            ".{0,8}"
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("items".to_string()),
                    Just("kind".to_string()),
                    Just("op".to_string()),
                    Just("row".to_string()),
                    Just("version".to_string()),
                    Just("nextCursor".to_string()),
                    Just("drained".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the value reached by following `path` (child indices) with `replacement`.
fn replace_somewhere(v: &mut serde_json::Value, path: &[u8], replacement: serde_json::Value) {
    let child = match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            let key = m
                .keys()
                .nth(usize::from(path[0]) % m.len())
                .unwrap()
                .clone();
            m.get_mut(&key)
        }
        serde_json::Value::Array(a) if !a.is_empty() => {
            let len = a.len();
            a.get_mut(usize::from(path[0]) % len)
        }
        _ => None,
    };
    match (child, path.len()) {
        (Some(c), n) if n > 1 => replace_somewhere(c, &path[1..], replacement),
        (Some(c), _) => *c = replacement,
        (None, _) => *v = replacement,
    }
}

fn check_body(body: Vec<u8>) -> Result<(), TestCaseError> {
    let store = MemoryStore::new();
    block_on(apply_page(
        &store,
        page(vec![dashboard("d0", 1, &[])], "c0", false),
        None,
        &config(12),
    ))
    .unwrap();
    let before = store.contents();
    let transport = ScriptedTransport::new();
    transport.respond(200, body.clone());
    let clock = sync_core::engine::ManualClock::new(T0);
    let random = sync_core::engine::SeededRandom::new(3);
    let config = PullConfig {
        max_attempts: 1,
        ..config(12)
    };
    let result = block_on(pull(
        &store,
        &transport,
        &clock,
        &random,
        &config,
        &mut |_| {},
    ));
    if parse_pull_page(&body).is_err() {
        prop_assert_eq!(result.map_err(|e| e.code()), Err("bad_response"));
        prop_assert_eq!(store.contents(), before);
    }
    Ok(())
}

#[test]
fn plan_rejects_hand_built_items_the_parser_would_refuse() {
    let bad = [
        PullItem::Upsert {
            kind: Kind::WidgetSnapshot,
            row: row(json!({"widgetId": "w"})),
            version: 1,
        },
        PullItem::Append {
            kind: Kind::Widget,
            row: row(json!({"id": "w"})),
        },
        PullItem::Tombstone {
            kind: Kind::WidgetSnapshot,
            id: "w".into(),
        },
        PullItem::Upsert {
            kind: Kind::Dashboard,
            row: row(json!({"name": "no id"})),
            version: 1,
        },
        PullItem::Append {
            kind: Kind::WidgetSnapshot,
            row: row(json!({"widgetId": "w", "generatedAt": "t", "paramsHash": "p"})),
        },
    ];
    for item in bad {
        let items = vec![item];
        let state = block_on(MemoryStore::new().local_state(&state_request(&items))).unwrap();
        assert!(plan_page(&items, &state, &config(12)).is_err(), "{items:?}");
    }
}
