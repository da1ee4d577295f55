//! Wire types of `GET /internal/sync/pull` (PROTOCOL §3) and their strict parser.
//!
//! The parser is the client's first line of defence: a page that is not exactly what the
//! contract allows (unknown kind or op, wrong types, missing keys) is rejected whole, so
//! nothing of it is ever applied.

use super::kind::Kind;
use super::wire_page::{Envelope, Slot, Top};
use serde::Serialize;
use serde_json::{Map, Value};

/// A row as it travels: a JSON object. Fields beyond the contract are kept.
pub type Row = Map<String, Value>;

/// One entry of a pull page, in server log order.
#[derive(Debug, Clone, PartialEq)]
pub enum PullItem {
    /// Insert or replace a versioned row; ignored locally unless `version` is newer.
    Upsert { kind: Kind, row: Row, version: u64 },
    /// Append a `WidgetSnapshot`.
    Append { kind: Kind, row: Row },
    /// Delete the row with this key (`id`, or `key` for keyed kinds).
    Tombstone { kind: Kind, id: String },
    /// Drop every local row of `kind`; the items that follow refill it.
    Reset { kind: Kind },
}

impl PullItem {
    pub fn kind(&self) -> Kind {
        match self {
            PullItem::Upsert { kind, .. }
            | PullItem::Append { kind, .. }
            | PullItem::Tombstone { kind, .. }
            | PullItem::Reset { kind } => *kind,
        }
    }

    /// The wire JSON of this item (what the server sends).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("kind".into(), Value::from(self.kind().as_str()));
        match self {
            PullItem::Upsert { row, version, .. } => {
                o.insert("op".into(), "upsert".into());
                o.insert("row".into(), Value::Object(row.clone()));
                o.insert("version".into(), Value::from(*version));
            }
            PullItem::Append { row, .. } => {
                o.insert("op".into(), "append".into());
                o.insert("row".into(), Value::Object(row.clone()));
            }
            PullItem::Tombstone { id, .. } => {
                o.insert("op".into(), "tombstone".into());
                o.insert("id".into(), Value::from(id.as_str()));
            }
            PullItem::Reset { .. } => {
                o.insert("op".into(), "reset".into());
            }
        }
        Value::Object(o)
    }
}

/// A whole `200 OK` pull body.
#[derive(Debug, Clone, PartialEq)]
pub struct PullPage {
    pub items: Vec<PullItem>,
    pub next_cursor: String,
    pub drained: bool,
}

#[derive(Serialize)]
struct WirePage<'a> {
    items: Vec<Value>,
    #[serde(rename = "nextCursor")]
    next_cursor: &'a str,
    drained: bool,
}

impl PullPage {
    /// Serializes the page exactly as the contract shows it.
    pub fn to_json_string(&self) -> String {
        let wire = WirePage {
            items: self.items.iter().map(PullItem::to_json).collect(),
            next_cursor: &self.next_cursor,
            drained: self.drained,
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

/// Why a pull body was rejected. Every variant means: apply nothing of this page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("body is not an object with items, nextCursor and drained")]
    Shape,
    #[error("item {index}: {reason}")]
    Item { index: usize, reason: String },
}

fn item_err(index: usize, reason: impl Into<String>) -> PageError {
    PageError::Item {
        index,
        reason: reason.into(),
    }
}

/// Parses and validates a pull body. Truncated bodies fail as JSON errors.
pub fn parse_pull_page(body: &[u8]) -> Result<PullPage, PageError> {
    let top: Top = serde_json::from_slice(body).map_err(|e| PageError::Json(e.to_string()))?;
    let Top::Object {
        items: Some(Some(raw_items)),
        next_cursor: Some(Value::String(next_cursor)),
        drained: Some(Value::Bool(drained)),
    } = top
    else {
        return Err(PageError::Shape);
    };
    let items = raw_items
        .into_iter()
        .enumerate()
        .map(|(i, slot)| match slot {
            Slot::Item(envelope) => parse_item(i, envelope),
            Slot::NotObject => Err(item_err(i, "not an object")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PullPage {
        items,
        next_cursor,
        drained,
    })
}

fn parse_item(index: usize, o: Envelope) -> Result<PullItem, PageError> {
    let kind = match &o.kind {
        Some(Value::String(s)) => s
            .parse::<Kind>()
            .map_err(|e| item_err(index, e.to_string()))?,
        _ => return Err(item_err(index, "missing kind")),
    };
    let op = match &o.op {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(item_err(index, "missing op")),
    };
    match op {
        "upsert" if kind.is_versioned() => {
            let version = match &o.version {
                Some(v) => v
                    .as_u64()
                    .ok_or_else(|| item_err(index, "version is not a non-negative integer"))?,
                None => return Err(item_err(index, "upsert without version")),
            };
            let row = take_row(index, o.row)?;
            validate_row(kind, &row).map_err(|r| item_err(index, r))?;
            Ok(PullItem::Upsert { kind, row, version })
        }
        "append" if kind == Kind::WidgetSnapshot => {
            let row = take_row(index, o.row)?;
            validate_row(kind, &row).map_err(|r| item_err(index, r))?;
            Ok(PullItem::Append { kind, row })
        }
        "tombstone" if kind.is_versioned() => match o.id {
            Some(Value::String(id)) if !id.is_empty() => Ok(PullItem::Tombstone { kind, id }),
            _ => Err(item_err(index, "tombstone without a string id")),
        },
        "reset" => Ok(PullItem::Reset { kind }),
        other => Err(item_err(
            index,
            format!("op `{other}` not allowed for {kind}"),
        )),
    }
}

fn take_row(index: usize, row: Option<Value>) -> Result<Row, PageError> {
    match row {
        Some(Value::Object(row)) => Ok(row),
        _ => Err(item_err(index, "row is not an object")),
    }
}

fn require_str(row: &Row, field: &str) -> Result<(), String> {
    match row.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err(format!("row.{field} must be a non-empty string")),
    }
}

fn require_opt_str(row: &Row, field: &str) -> Result<(), String> {
    match row.get(field) {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        _ => Err(format!("row.{field} must be a string")),
    }
}

fn require_kind(row: &Row, field: &str, ok: fn(&Value) -> bool, what: &str) -> Result<(), String> {
    match row.get(field) {
        Some(v) if ok(v) => Ok(()),
        _ => Err(format!("row.{field} must be {what}")),
    }
}

/// Checks the fields the engine relies on; other fields pass through untouched.
pub fn validate_row(kind: Kind, row: &Row) -> Result<(), String> {
    if let Some(key) = kind.key_field() {
        require_str(row, key)?;
    }
    match kind {
        Kind::Dashboard => {
            require_kind(row, "name_i18n", Value::is_object, "an object")?;
            if let Some(v) = row.get("tables") {
                let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
                if !ok {
                    return Err("row.tables must be an array of strings".into());
                }
            }
            if let Some(v) = row.get("sharedWith") {
                if !v.is_array() {
                    return Err("row.sharedWith must be an array".into());
                }
            }
        }
        Kind::Widget => {
            require_str(row, "dashboardId")?;
            require_str(row, "metricKey")?;
            require_opt_str(row, "queryId")?;
            if let Some(f) = row.get("freshness") {
                let ok = f.as_object().is_some_and(|f| {
                    f.get("alertAtMinutes").is_none_or(Value::is_number)
                        && f.get("targetMinutes").is_none_or(Value::is_number)
                });
                if !ok {
                    return Err("row.freshness must hold numeric minutes".into());
                }
            }
        }
        Kind::WidgetSnapshot => {
            require_str(row, "widgetId")?;
            require_str(row, "generatedAt")?;
            require_str(row, "paramsHash")?;
            require_kind(row, "rows", Value::is_array, "an array")?;
        }
        Kind::Query => {
            require_str(row, "ownerId")?;
            require_kind(row, "name_i18n", Value::is_object, "an object")?;
        }
        Kind::Projection => {
            require_opt_str(row, "lastSuccessAt")?;
            if let Some(v) = row.get("lagMinutes") {
                if !(v.is_number() || v.is_null()) {
                    return Err("row.lagMinutes must be a number".into());
                }
            }
        }
        Kind::DqAlertOpen => {
            require_str(row, "checkKey")?;
            require_str(row, "severity")?;
        }
        Kind::MetricDefinition => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<PullPage, PageError> {
        parse_pull_page(v.to_string().as_bytes())
    }

    #[test]
    fn parses_the_contract_example() {
        let page = parse(json!({"items":[
            {"kind":"Dashboard","op":"upsert","row":{"id":"dsh_1","name_i18n":{"default":"Ops"}},"version":4},
            {"kind":"WidgetSnapshot","op":"append","row":{"widgetId":"wid_1","paramsHash":"sha256:x","rows":[],"generatedAt":"2026-01-01T00:00:00Z"}},
            {"kind":"DqAlertOpen","op":"tombstone","id":"dqc_1"},
            {"kind":"Widget","op":"reset"}],
            "nextCursor":"c1","drained":false}))
        .unwrap();
        assert_eq!(page.items.len(), 4);
        assert_eq!(page.next_cursor, "c1");
        let again = parse_pull_page(page.to_json_string().as_bytes()).unwrap();
        assert_eq!(again, page);
    }

    #[test]
    fn shapes_and_repeated_or_unknown_fields_are_judged_as_a_json_map_would() {
        let shape = [
            &br#"{"items":{},"nextCursor":"c","drained":true}"#[..],
            br#"{"items":"x","nextCursor":"c","drained":true}"#,
            br#"{"items":[],"nextCursor":"c","drained":"yes"}"#,
            br#"[{"items":[]}]"#,
            b"3",
            b"null",
        ];
        for body in shape {
            assert_eq!(parse_pull_page(body), Err(PageError::Shape));
        }
        assert_eq!(
            parse_pull_page(br#"{"items":[{"kind":"Widget","op":"reset"},[5]],"nextCursor":"c","drained":true}"#),
            Err(PageError::Item { index: 1, reason: "not an object".into() })
        );
        let page = parse_pull_page(
            br#"{"x":{"deep":[1,{"y":null}]},"items":[{"kind":"Dashboard","op":"tombstone","id":"a",
                 "id":"b","extra":[{}]}],"nextCursor":"c","drained":false,"drained":true}"#,
        )
        .unwrap();
        assert!(page.drained);
        assert_eq!(
            page.items,
            vec![PullItem::Tombstone {
                kind: Kind::Dashboard,
                id: "b".into()
            }]
        );
        assert!(matches!(
            parse_pull_page(br#"{"x":[1,],"items":[],"nextCursor":"c","drained":true}"#),
            Err(PageError::Json(_))
        ));
    }

    #[test]
    fn rejects_bad_pages_whole() {
        let bad = [
            json!({"items":[{"kind":"Nope","op":"reset"}],"nextCursor":"c","drained":true}),
            json!({"items":[{"kind":"Widget","op":"append","row":{}}],"nextCursor":"c","drained":true}),
            json!({"items":[{"kind":"Dashboard","op":"upsert","row":{"id":"d"},"version":"4"}],"nextCursor":"c","drained":true}),
            json!({"items":[{"kind":"Dashboard","op":"upsert","row":{"id":"d","name_i18n":{}},"version":-1}],"nextCursor":"c","drained":true}),
            json!({"items":[{"kind":"Widget","op":"upsert","row":{"id":"w","dashboardId":5,"metricKey":"m"},"version":1}],"nextCursor":"c","drained":true}),
            json!({"items":[],"nextCursor":null,"drained":true}),
            json!({"items":[],"nextCursor":"c"}),
            json!([1, 2]),
        ];
        for b in bad {
            assert!(parse(b.clone()).is_err(), "accepted {b}");
        }
        assert!(matches!(
            parse_pull_page(br#"{"items":[{"kind":"Widget","op":"re"#),
            Err(PageError::Json(_))
        ));
    }
}
