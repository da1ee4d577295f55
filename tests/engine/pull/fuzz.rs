//! Fuzz-style property tests: no page body — arbitrary bytes, arbitrary JSON, or a valid
//! page with one value replaced — can panic the engine, and whatever the strict parser
//! refuses writes nothing.

use crate::support::log_gen::{op, realise};
use crate::support::*;
use proptest::prelude::*;
use serde_json::json;
use sync_core::engine::{
    apply_page, plan_page, pull, state_request, MemoryStore, PullConfig, ScriptedTransport, Store,
};
use sync_core::protocol::{parse_pull_page, Kind, PullItem};

fn config(retention: usize) -> PullConfig {
    PullConfig {
        retention,
        ..PullConfig::new(USER)
    }
}

proptest! {
    #![proptest_config(proptest_config(256))]

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
    let mut config = config(12);
    config.retry.max_attempts = 1;
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
