//! Fuzz-style property tests of the push-side decoders (PROTOCOL §4, §5, §9.3): whatever a
//! server or proxy answers — arbitrary bytes, arbitrary JSON, a valid answer with one value
//! replaced, under any status — nothing panics, the answer is a typed outcome, a
//! whole-request answer never settles an op, and through the whole push loop every queued op
//! either settles exactly once or stays queued in order. `PROPTEST_CASES` raises the budget
//! (`make fuzz`).

use crate::support::push::*;
use crate::support::replace_somewhere;
use proptest::prelude::*;
use serde_json::{json, Value};
use sync_core::engine::{read_batch_answer, BatchAnswer, Refusal};
use sync_core::engine::{read_command_answer, CommandAnswer};
use sync_core::engine::{DeferredCommand, HttpResponse, Method, OpSettlement, SeededRandom};
use sync_core::protocol::push::PushOp;
use sync_core::protocol::Kind;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..5).prop_map(Value::from),
        prop_oneof![
            Just("op_0".to_string()),
            Just("qry_000".to_string()),
            Just("version".to_string()),
            ".{0,8}".prop_map(|s| s),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("results".to_string()),
                    Just("opId".to_string()),
                    Just("id".to_string()),
                    Just("ok".to_string()),
                    Just("status".to_string()),
                    Just("version".to_string()),
                    Just("current".to_string()),
                    Just("error".to_string()),
                    "[a-z]{1,6}".prop_map(|s| s),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(207),
        Just(400),
        Just(403),
        Just(404),
        Just(409),
        Just(412),
        Just(413),
        Just(422),
        100u16..600,
    ]
}

fn sent() -> Vec<(u64, PushOp)> {
    (0..2)
        .map(|i| {
            let op: PushOp = serde_json::from_value(json!({
                "opId": format!("op_{i}"), "kind": "Query", "id": format!("qry_00{i}"),
                "expectedVersion": 1, "patch": {"name_i18n": {"default": "N"}}
            }))
            .unwrap();
            (i + 1, op)
        })
        .collect()
}

fn valid_answer() -> Value {
    json!({"results": [
        {"opId": "op_0", "id": "qry_000", "ok": true, "version": 2},
        {"opId": "op_1", "id": "qry_001", "ok": false, "status": 409, "error": "version_conflict",
         "current": {"version": 3, "name_i18n": {"default": "S"}, "sql_template": "x"}}
    ]})
}

fn check_batch_answer(status: u16, body: Vec<u8>) -> Result<(), TestCaseError> {
    let sent = sent();
    let response = HttpResponse {
        status,
        retry_after: None,
        body,
    };
    let random = SeededRandom::new(1);
    match read_batch_answer(&response, &sent, 0, &random, "usr_alice") {
        Ok(BatchAnswer::Settled(settled)) => {
            prop_assert!((200..300).contains(&status));
            prop_assert_eq!(settled.settlements.len(), sent.len());
            for s in &settled.settlements {
                if let OpSettlement::Conflict { conflict, .. } = s {
                    prop_assert!(conflict.server.get("sql_template").is_none());
                }
            }
        }
        Ok(BatchAnswer::Split) => prop_assert!(status == 400 || status == 413),
        Ok(BatchAnswer::Refused(Refusal::Forbidden)) => prop_assert_eq!(status, 403),
        Ok(BatchAnswer::Refused(_)) | Err(_) => {}
    }
    Ok(())
}

fn command() -> DeferredCommand {
    DeferredCommand {
        seq: 1,
        command_id: "cmd_1".into(),
        method: Method::Put,
        path: "/api/v1/analytics/dashboards/dsh_1".into(),
        body: Some(json!({"name_i18n": {"default": "D"}})),
        if_match: Some("3".into()),
        created_at_ms: 0,
    }
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn push_answers_of_arbitrary_bytes_never_panic(
        status in status(),
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        check_batch_answer(status, body)?;
    }

    #[test]
    fn push_answers_of_arbitrary_or_mutated_json_never_panic(
        status in status(),
        value in json_value(),
        path in proptest::collection::vec(any::<u8>(), 1..6),
        replacement in json_value(),
    ) {
        check_batch_answer(status, value.to_string().into_bytes())?;
        let mut mutated = valid_answer();
        replace_somewhere(&mut mutated, &path, replacement);
        check_batch_answer(status, mutated.to_string().into_bytes())?;
    }

    #[test]
    fn command_answers_never_panic_and_keep_the_command_unless_about_it(
        status in status(),
        value in json_value(),
        bytes in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let random = SeededRandom::new(2);
        for body in [value.to_string().into_bytes(), bytes.clone()] {
            let response = HttpResponse { status, retry_after: None, body };
            match read_command_answer(&response, &command(), 0, &random, "usr_alice") {
                CommandAnswer::Settled(_) => prop_assert!(
                    (200..300).contains(&status) || [400, 404, 409, 412, 422].contains(&status)
                ),
                CommandAnswer::Refused(Refusal::Forbidden) => prop_assert_eq!(status, 403),
                CommandAnswer::Refused(Refusal::Rejected { status: s, .. }) => {
                    prop_assert_eq!(s, status)
                }
                CommandAnswer::Refused(Refusal::BadRequest { .. }) => {
                    prop_assert!(false, "a command is never refused as bad_request")
                }
            }
        }
    }

    /// Through the whole push loop: whatever the server answers, no op is lost or settled
    /// twice, and whole-request answers dead-letter nothing.
    #[test]
    fn a_push_against_arbitrary_answers_loses_no_op(
        answers in proptest::collection::vec((status(), json_value()), 1..4),
    ) {
        let mut h = PushHarness::scripted(3);
        h.config.retry.max_attempts = 2;
        for i in 0..3 {
            h.rename(&query_id(i), &format!("N{i}")).unwrap();
        }
        for (status, body) in &answers {
            h.transport.respond(*status, body.to_string());
        }
        let _ = h.push();
        let queued = h.ops().len();
        let settled = h.conflicts().len() + h.dead_letters().len()
            + (0..3).filter(|i| h.stored(&query_id(*i)).is_some_and(|(v, _)| v > 1)).count();
        prop_assert_eq!(queued + settled, 3, "{:?}", answers);
        let seqs: Vec<u64> = h.ops().iter().map(|o| o.seq).collect();
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        prop_assert_eq!(seqs, sorted);
        for d in h.dead_letters() {
            prop_assert_eq!(d.kind, Kind::Query);
            prop_assert!(d.status != 0);
        }
    }
}
