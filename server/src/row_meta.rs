//! What the server derives from a row before writing it: validation beyond the wire
//! shape (what visibility and ordering rely on) and the indexed columns of `rows`.

use crate::error::ApiError;
use crate::timefmt::{parse_ms, DAY_MS};
use serde_json::Value;
use sync_core::protocol::pull::validate_row;
use sync_core::protocol::{Kind, Row};

/// Open alerts older than this are no longer replicated (seed 000 §1: "last 7 d").
pub const ALERT_MAX_AGE_MS: i64 = 7 * DAY_MS;

const SCOPES: [&str; 4] = ["own", "role", "tenant", "property"];
const WIDGET_TYPES: [&str; 5] = ["kpi", "timeseries", "breakdown", "funnel", "heatmap"];
const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

/// The indexed columns of a row, derived from its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowMeta {
    pub key: String,
    pub parent_id: Option<String>,
    pub owner_id: Option<String>,
    pub ts_ms: Option<i64>,
    pub bytes_scanned: Option<i64>,
}

fn bad(reason: impl Into<String>) -> ApiError {
    ApiError::BadRequest(reason.into())
}

fn str_field<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    row.get(field).and_then(Value::as_str)
}

fn time_field(row: &Row, field: &str) -> Result<i64, ApiError> {
    str_field(row, field)
        .and_then(parse_ms)
        .ok_or_else(|| bad(format!("row.{field} must be an RFC 3339 time")))
}

/// Validates a row of `kind` for writing (the contract's shape plus what visibility needs)
/// and derives its indexed columns.
pub fn row_meta(kind: Kind, row: &Row) -> Result<RowMeta, ApiError> {
    validate_row(kind, row).map_err(bad)?;
    let owned = |f: &str| str_field(row, f).map(str::to_string);
    let mut meta = RowMeta {
        key: kind.key_field().and_then(owned).unwrap_or_default(),
        ..RowMeta::default()
    };
    match kind {
        Kind::Dashboard => {
            let scope = str_field(row, "scope").unwrap_or_default();
            let needs = match scope {
                "own" => "ownerId",
                "role" => "role",
                "property" => "propertyId",
                "tenant" => "scope",
                _ => return Err(bad(format!("row.scope must be one of {SCOPES:?}"))),
            };
            if str_field(row, needs).is_none() {
                return Err(bad(format!("a `{scope}` dashboard needs row.{needs}")));
            }
        }
        Kind::Widget => {
            if !str_field(row, "type").is_some_and(|t| WIDGET_TYPES.contains(&t)) {
                return Err(bad(format!("row.type must be one of {WIDGET_TYPES:?}")));
            }
            meta.parent_id = owned("dashboardId");
        }
        Kind::WidgetSnapshot => {
            let widget = owned("widgetId").unwrap_or_default();
            let generated_at = str_field(row, "generatedAt").unwrap_or_default();
            meta.ts_ms = Some(time_field(row, "generatedAt")?);
            meta.key = format!("{widget}|{generated_at}");
            meta.parent_id = Some(widget);
            meta.bytes_scanned = row
                .get("provenance")
                .and_then(|p| p.get("bytesScanned"))
                .and_then(Value::as_i64);
        }
        Kind::Query => meta.owner_id = owned("ownerId"),
        Kind::DqAlertOpen => {
            if !str_field(row, "severity").is_some_and(|s| SEVERITIES.contains(&s)) {
                return Err(bad(format!("row.severity must be one of {SEVERITIES:?}")));
            }
            meta.ts_ms = Some(time_field(row, "observedAt")?);
        }
        Kind::MetricDefinition | Kind::Projection => {}
    }
    Ok(meta)
}

/// An alert that is resolved or too old is stored deleted, so devices get its tombstone.
pub fn alert_closed(row: &Row, observed_ms: Option<i64>, now_ms: i64) -> bool {
    let resolved = str_field(row, "status").is_some_and(|s| s != "open");
    resolved || observed_ms.is_some_and(|t| t < now_ms - ALERT_MAX_AGE_MS)
}
