//! Writes a pull page's JSON straight from stored row text.
//!
//! Rows are stored as the compact JSON serde_json wrote, so kinds with nothing to strip
//! (Widget, WidgetSnapshot, MetricDefinition, Projection) are spliced into the page as they
//! are, with no parse and re-serialize: snapshots are most of every cold start and up to
//! 64 KB each. The output is exactly what `PullPage::to_json_string` produces for the same
//! items (tests parse every page with the client's `parse_pull_page`).

use std::fmt::Write as _;
use sync_core::protocol::Kind;

/// One item of a page, its row already in wire JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireItem {
    Reset(Kind),
    Tombstone(Kind, String),
    Upsert {
        kind: Kind,
        row_json: String,
        version: u64,
    },
    Append {
        kind: Kind,
        row_json: String,
    },
}

fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The whole `200 OK` body.
pub fn page_json(items: &[WireItem], next_cursor: &str, drained: bool) -> String {
    let rows: usize = items
        .iter()
        .map(|i| match i {
            WireItem::Upsert { row_json, .. } | WireItem::Append { row_json, .. } => row_json.len(),
            _ => 0,
        })
        .sum();
    let mut out = String::with_capacity(rows + items.len() * 64 + next_cursor.len() + 64);
    out.push_str("{\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Keys in the order serde_json's map writes them (kind, op, row/id, version).
        let _ = match item {
            WireItem::Reset(kind) => write!(out, "{{\"kind\":\"{kind}\",\"op\":\"reset\"}}"),
            WireItem::Tombstone(kind, id) => {
                write!(
                    out,
                    "{{\"id\":{},\"kind\":\"{kind}\",\"op\":\"tombstone\"}}",
                    quoted(id)
                )
            }
            WireItem::Upsert {
                kind,
                row_json,
                version,
            } => write!(
                out,
                "{{\"kind\":\"{kind}\",\"op\":\"upsert\",\"row\":{row_json},\"version\":{version}}}"
            ),
            WireItem::Append { kind, row_json } => {
                write!(
                    out,
                    "{{\"kind\":\"{kind}\",\"op\":\"append\",\"row\":{row_json}}}"
                )
            }
        };
    }
    let _ = write!(
        out,
        "],\"nextCursor\":{},\"drained\":{drained}}}",
        quoted(next_cursor)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sync_core::protocol::{parse_pull_page, PullItem, PullPage};

    #[test]
    fn matches_the_protocol_serializer() {
        let row = json!({"id":"dsh_1","name_i18n":{"default":"Ops \"A\""}});
        let snap = json!({"widgetId":"wid_1","paramsHash":"sha256:x","rows":[{"value":1.5}],"generatedAt":"2026-01-01T00:00:00Z"});
        let items = vec![
            WireItem::Reset(Kind::Widget),
            WireItem::Upsert {
                kind: Kind::Dashboard,
                row_json: row.to_string(),
                version: 4,
            },
            WireItem::Append {
                kind: Kind::WidgetSnapshot,
                row_json: snap.to_string(),
            },
            WireItem::Tombstone(Kind::DqAlertOpen, "dqc_\"1".into()),
        ];
        let body = page_json(&items, "c.1", false);
        let typed = PullPage {
            items: vec![
                PullItem::Reset { kind: Kind::Widget },
                PullItem::Upsert {
                    kind: Kind::Dashboard,
                    row: row.as_object().cloned().unwrap(),
                    version: 4,
                },
                PullItem::Append {
                    kind: Kind::WidgetSnapshot,
                    row: snap.as_object().cloned().unwrap(),
                },
                PullItem::Tombstone {
                    kind: Kind::DqAlertOpen,
                    id: "dqc_\"1".into(),
                },
            ],
            next_cursor: "c.1".into(),
            drained: false,
        };
        assert_eq!(parse_pull_page(body.as_bytes()).unwrap(), typed);
        assert_eq!(body, typed.to_json_string());
    }
}
