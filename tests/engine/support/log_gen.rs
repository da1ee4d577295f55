//! Generators of server logs a real server could send (versions that only grow per key on
//! the server, snapshots in chronological order per widget, exact re-sends), for the
//! property tests.

use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use sync_core::protocol::{Kind, PullItem};

/// An abstract server-log entry; realised into contract items by [`realise`].
#[derive(Debug, Clone)]
pub enum Op {
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

pub fn op() -> impl Strategy<Value = Op> {
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
pub fn realise(ops: &[Op]) -> Vec<PullItem> {
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
