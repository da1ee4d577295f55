//! `POST /api/v1/analytics/dashboards/{id}/widgets`: adds a widget to a dashboard the
//! author can see. Required: `type`, `title_i18n`, `metricKey` (a live metric). Optional:
//! `queryId` (one of the author's live queries), `params` (object, default `{}`),
//! `freshness` (`{targetMinutes ≥ 1, alertAtMinutes ≥ targetMinutes}`, default 15/60),
//! `layout` (`{x, y, w ≥ 1, h ≥ 1}`, default `{0,0,3,4}`). The server sets `id`,
//! `dashboardId`, `paramsHash` and `version`. An optional `If-Match` names the version of
//! the dashboard the author saw (`412` with the dashboard when it changed).

use super::command::{entity_answer, entity_json, if_match_matches, Author, CommandInput};
use super::dashboard::visible_dashboard;
use super::fields::{self, only_fields, whole};
use crate::error::ApiError;
use crate::idempotency::Answer;
use crate::log;
use crate::seed::rng::stable_id;
use crate::snapshots::params_hash;
use crate::sql::Sql;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use sync_core::protocol::{Kind, Row};

const EDITABLE: [&str; 7] = [
    "type",
    "title_i18n",
    "metricKey",
    "queryId",
    "params",
    "freshness",
    "layout",
];
const TYPES: [&str; 5] = ["kpi", "timeseries", "breakdown", "funnel", "heatmap"];

fn invalid(why: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_widget", why)
}

pub fn add(
    conn: &dyn Sql,
    author: &Author,
    dashboard_id: &str,
    input: &CommandInput,
) -> Result<Answer, ApiError> {
    let (dashboard, dashboard_version) = visible_dashboard(conn, author, dashboard_id)?;
    only_fields(&input.body, &EDITABLE)?;
    let body = &input.body;
    let tenant = author.tenant.as_str();
    let wtype = body
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| TYPES.contains(t))
        .ok_or_else(|| invalid(format!("type must be one of {TYPES:?}")))?;
    let title = fields::name("title_i18n", body.get("title_i18n").unwrap_or(&Value::Null))?;
    let metric = fields::text(
        body.get("metricKey").unwrap_or(&Value::Null),
        "unknown_metric",
        "metricKey",
    )?;
    if !fields::live(conn, tenant, Kind::MetricDefinition, metric)? {
        return Err(ApiError::unprocessable(
            "unknown_metric",
            format!("no metric {metric}"),
        ));
    }
    let params = match body.get("params") {
        None => json!({}),
        Some(p) if p.is_object() => p.clone(),
        Some(_) => return Err(invalid("params must be an object")),
    };
    let freshness = freshness(body.get("freshness"))?;
    let layout = layout(body.get("layout"))?;
    if let Some(expected) = &input.if_match {
        if !if_match_matches(expected, dashboard_version) {
            return Err(ApiError::PreconditionFailed {
                current: entity_json(
                    Kind::Dashboard,
                    dashboard,
                    dashboard_version,
                    &author.user.id,
                ),
            });
        }
    }
    let next = log::last_position(conn, tenant)?.unwrap_or(0) + 1;
    let id = stable_id("wid_", &["authored", tenant, &next.to_string()]);
    if log::current(conn, tenant, Kind::Widget, &id)?.is_some() {
        return Err(ApiError::Internal(format!("minted widget id {id} exists")));
    }
    let mut row: Row = Map::new();
    row.insert("id".into(), id.into());
    row.insert("dashboardId".into(), dashboard_id.into());
    row.insert("type".into(), wtype.into());
    row.insert("title_i18n".into(), title);
    row.insert("metricKey".into(), metric.into());
    if let Some(q) = body.get("queryId") {
        let query = fields::text(q, "unknown_query", "queryId")?;
        let owned = log::current(conn, tenant, Kind::Query, query)?.is_some_and(|r| {
            !r.deleted && r.meta.owner_id.as_deref() == Some(author.user.id.as_str())
        });
        if !owned {
            return Err(ApiError::unprocessable(
                "unknown_query",
                format!("no query {query} of yours"),
            ));
        }
        row.insert("queryId".into(), query.into());
    }
    row.insert("paramsHash".into(), params_hash(&params).into());
    row.insert("params".into(), params);
    row.insert("freshness".into(), freshness);
    row.insert("layout".into(), layout);
    let written = log::upsert(conn, tenant, Kind::Widget, &row, author.now_ms)?;
    Ok(entity_answer(
        StatusCode::CREATED,
        Kind::Widget,
        row,
        written.version,
        &author.user.id,
    ))
}

fn freshness(value: Option<&Value>) -> Result<Value, ApiError> {
    let Some(value) = value else {
        return Ok(json!({"targetMinutes": 15, "alertAtMinutes": 60}));
    };
    let f = value
        .as_object()
        .ok_or_else(|| invalid("freshness must be an object"))?;
    match (whole(f, "targetMinutes"), whole(f, "alertAtMinutes")) {
        (Some(target), Some(alert)) if target >= 1 && alert >= target && f.len() == 2 => {
            Ok(json!({"targetMinutes": target, "alertAtMinutes": alert}))
        }
        _ => Err(invalid(
            "freshness is {targetMinutes ≥ 1, alertAtMinutes ≥ targetMinutes}",
        )),
    }
}

fn layout(value: Option<&Value>) -> Result<Value, ApiError> {
    let Some(value) = value else {
        return Ok(json!({"x": 0, "y": 0, "w": 3, "h": 4}));
    };
    let bad = || ApiError::unprocessable("invalid_layout", "layout is {x, y, w ≥ 1, h ≥ 1}");
    let l = value.as_object().filter(|l| l.len() == 4).ok_or_else(bad)?;
    match (whole(l, "x"), whole(l, "y"), whole(l, "w"), whole(l, "h")) {
        (Some(x), Some(y), Some(w), Some(h)) if w >= 1 && h >= 1 => {
            Ok(json!({"x": x, "y": y, "w": w, "h": h}))
        }
        _ => Err(bad()),
    }
}
