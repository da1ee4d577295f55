//! The report and outbox types of the npm package (`pkg/src/types.ts`) against the Rust types
//! the bindings serialize: every field the engine sends is declared, every required declared
//! field is sent, and numbers, booleans, arrays and nulls are declared as such. A field added,
//! renamed or dropped on one side fails here instead of reaching an app as `undefined`.
//!
//! Each Rust type is serialized with every optional part present (`Some`, non-empty), so its
//! JSON shows all its keys; the TypeScript side is read from the interface declarations.

use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use sync_core::engine::{
    Conflict, ConflictSource, DeadLetter, DeferredCommand, Freshness, Method, OutboxCounts,
    OutboxOp, PullProgress, PullReport, PushReport, Resolution,
};
use sync_core::protocol::Kind;

/// `name -> (optional, type)` of every field of `export interface <name> { … }`.
fn interface(source: &str, name: &str) -> BTreeMap<String, (bool, String)> {
    let start = source
        .find(&format!("export interface {name} {{"))
        .unwrap_or_else(|| panic!("pkg/src/types.ts declares no interface {name}"));
    let body = &source[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    let mut fields = BTreeMap::new();
    let mut comment = false;
    for line in body.lines().map(str::trim) {
        if line.starts_with("/*") {
            comment = !line.ends_with("*/");
            continue;
        }
        if comment {
            comment = !line.ends_with("*/");
            continue;
        }
        if line.is_empty() || line.starts_with("//") || line.starts_with('*') {
            continue;
        }
        let (field, ty) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("{name}: {line}"));
        let optional = field.ends_with('?');
        let field = field.trim_end_matches('?').to_string();
        fields.insert(
            field,
            (optional, ty.trim().trim_end_matches(';').to_string()),
        );
    }
    fields
}

/// Every mismatch between the JSON of `value` and the declaration of `name`.
fn drift(source: &str, name: &str, value: &impl Serialize) -> Vec<String> {
    let declared = interface(source, name);
    let Value::Object(sent) = serde_json::to_value(value).unwrap() else {
        panic!("{name} does not serialize to an object");
    };
    let mut problems = Vec::new();
    for (key, v) in &sent {
        let Some((_, ty)) = declared.get(key) else {
            problems.push(format!("{name}.{key} is sent but not declared"));
            continue;
        };
        let fits = match v {
            Value::Number(_) => ty.contains("number"),
            Value::Bool(_) => ty.contains("boolean"),
            Value::Array(_) => ty.ends_with("[]"),
            Value::Null => ty.contains("null"),
            Value::String(_) => !matches!(ty.as_str(), "number" | "boolean") && !ty.ends_with("[]"),
            Value::Object(_) => !matches!(ty.as_str(), "number" | "boolean" | "string"),
        };
        if !fits {
            problems.push(format!("{name}.{key} is sent as {v} but declared {ty}"));
        }
    }
    for (key, (optional, _)) in &declared {
        if !optional && !sent.contains_key(key) {
            problems.push(format!("{name}.{key} is declared required but never sent"));
        }
    }
    problems
}

fn name_i18n() -> serde_json::Map<String, Value> {
    json!({ "default": "Occupancy" })
        .as_object()
        .unwrap()
        .clone()
}

fn command() -> DeferredCommand {
    DeferredCommand {
        seq: 2,
        command_id: "cmd_1".into(),
        method: Method::Post,
        path: "/api/v1/analytics/dashboards".into(),
        body: Some(json!({ "name": "d" })),
        if_match: Some("\"3\"".into()),
        created_at_ms: 1,
    }
}

#[test]
fn the_package_types_declare_what_the_engine_sends() {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/src/types.ts")).unwrap();
    let pull = PullReport {
        snapshots_too_large: vec!["wid_1".into()],
        resets: vec![Kind::Widget],
        changed_kinds: [Kind::Widget].into(),
        ..PullReport::default()
    };
    let push = PushReport {
        new_conflicts: vec!["cfl_1".into()],
        changed_kinds: [Kind::Query].into(),
        ..PushReport::default()
    };
    let op = OutboxOp {
        seq: 1,
        op_id: "op_1".into(),
        kind: Kind::Query,
        entity_id: "qry_1".into(),
        expected_version: 3,
        name_i18n: name_i18n(),
        created_at_ms: 1,
        updated_at_ms: 2,
        in_flight: false,
        sent: false,
    };
    let conflict = Conflict {
        id: "cfl_1".into(),
        kind: Kind::Query,
        entity_id: "qry_1".into(),
        local: json!({ "name_i18n": name_i18n() }),
        server: json!({ "version": 4 }),
        source: ConflictSource::Op {
            op_id: "op_1".into(),
        },
        created_at_ms: 1,
        resolution: Some(Resolution::KeepLocal),
        resolved_at_ms: Some(2),
    };
    let dead_letter = DeadLetter {
        id: "dl_1".into(),
        source: "op".into(),
        kind: Kind::Query,
        entity_id: "qry_1".into(),
        status: 404,
        reason: "not_found".into(),
        payload: json!({}),
        failed_at_ms: 1,
    };
    let freshness = Freshness {
        as_of: Some("2026-01-01T00:00:00Z".into()),
        lag_minutes: Some(5.0),
        stale: false,
        stale_widget_ids: vec!["wid_1".into()],
    };
    let mut problems = Vec::new();
    problems.extend(drift(&source, "PullReport", &pull));
    problems.extend(drift(&source, "PushReport", &push));
    problems.extend(drift(&source, "PullProgress", &PullProgress::default()));
    problems.extend(drift(&source, "OutboxOp", &op));
    problems.extend(drift(&source, "DeferredCommand", &command()));
    problems.extend(drift(&source, "Conflict", &conflict));
    problems.extend(drift(&source, "DeadLetter", &dead_letter));
    problems.extend(drift(&source, "OutboxCounts", &OutboxCounts::default()));
    problems.extend(drift(&source, "Freshness", &freshness));
    assert!(
        problems.is_empty(),
        "pkg/src/types.ts has drifted:\n{}",
        problems.join("\n")
    );
}
