//! `POST /api/v1/analytics/dashboards` and `PUT /api/v1/analytics/dashboards/{id}`.
//!
//! Editable: `name_i18n`, `tables`, `layout`, `sharedWith` (user and role entries) by anyone
//! who sees the dashboard; `scope`, `role`, `propertyId` only by its owner (for a non-owner
//! they may be sent unchanged). The server sets `id` (create), `ownerId` (create: the
//! author), `updatedAt` and `version`. Server-only share entries (embeds) survive a
//! `sharedWith` update, because devices never see them and so can never send them back.
//! Visibility changes bump epochs through `log::upsert`, so devices that lose the
//! dashboard reset and devices that gain one with widgets refill.

use super::command::{entity_answer, entity_json, if_match_matches, Author, CommandInput};
use super::fields::{self, only_fields};
use crate::error::ApiError;
use crate::idempotency::Answer;
use crate::log;
use crate::seed::rng::stable_id;
use crate::sql::Sql;
use crate::timefmt::format_ms;
use crate::visibility::dashboard_visible;
use axum::http::StatusCode;
use serde_json::{json, Value};
use sync_core::protocol::{Kind, Row};

const EDITABLE: [&str; 7] = [
    "name_i18n",
    "scope",
    "role",
    "propertyId",
    "sharedWith",
    "tables",
    "layout",
];
const OWNER_ONLY: [&str; 3] = ["scope", "role", "propertyId"];
const SCOPES: [&str; 4] = ["own", "role", "tenant", "property"];

pub fn create(conn: &dyn Sql, author: &Author, input: &CommandInput) -> Result<Answer, ApiError> {
    only_fields(&input.body, &EDITABLE)?;
    if !input.body.contains_key("name_i18n") {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "name_i18n is required",
        ));
    }
    let tenant = author.tenant.as_str();
    let next = log::last_position(conn, tenant)?.unwrap_or(0) + 1;
    // Unique per tenant: positions are never reused, even across re-seeds.
    let id = stable_id("dsh_", &["authored", tenant, &next.to_string()]);
    if log::current(conn, tenant, Kind::Dashboard, &id)?.is_some() {
        return Err(ApiError::Internal(format!(
            "minted dashboard id {id} exists"
        )));
    }
    let mut row: Row = json!({"id": id, "ownerId": author.user.id, "scope": "own",
                              "sharedWith": [], "tables": []})
    .as_object()
    .cloned()
    .unwrap_or_default();
    apply_fields(conn, author, &mut row, input)?;
    row.insert("updatedAt".into(), format_ms(author.now_ms).into());
    let written = log::upsert(conn, tenant, Kind::Dashboard, &row, author.now_ms)?;
    Ok(entity_answer(
        StatusCode::CREATED,
        Kind::Dashboard,
        row,
        written.version,
        &author.user.id,
    ))
}

pub fn update(
    conn: &dyn Sql,
    author: &Author,
    id: &str,
    input: &CommandInput,
) -> Result<Answer, ApiError> {
    let (mut row, version) = visible_dashboard(conn, author, id)?;
    let if_match = input
        .if_match
        .as_deref()
        .ok_or(ApiError::PreconditionRequired)?;
    only_fields(&input.body, &EDITABLE)?;
    let is_owner = row.get("ownerId").and_then(Value::as_str) == Some(author.user.id.as_str());
    if !is_owner {
        if let Some(field) = OWNER_ONLY
            .iter()
            .find(|f| input.body.get(**f).is_some_and(|v| row.get(**f) != Some(v)))
        {
            return Err(ApiError::unprocessable(
                "field_not_editable",
                format!("only the dashboard's owner may change `{field}`"),
            ));
        }
    }
    let before = row.clone();
    apply_fields(conn, author, &mut row, input)?;
    if !if_match_matches(if_match, version) {
        return Err(ApiError::PreconditionFailed {
            current: entity_json(Kind::Dashboard, before, version, &author.user.id),
        });
    }
    row.insert("updatedAt".into(), format_ms(author.now_ms).into());
    let written = log::upsert(conn, &author.tenant, Kind::Dashboard, &row, author.now_ms)?;
    Ok(entity_answer(
        StatusCode::OK,
        Kind::Dashboard,
        row,
        written.version,
        &author.user.id,
    ))
}

/// The live dashboard `id` as stored, with its version, when the author may see it;
/// `404` otherwise (an invisible dashboard answers exactly like a missing one).
pub fn visible_dashboard(
    conn: &dyn Sql,
    author: &Author,
    id: &str,
) -> Result<(Row, u64), ApiError> {
    let not_found = || ApiError::NotFound(format!("dashboard {id}"));
    let stored = log::current(conn, &author.tenant, Kind::Dashboard, id)?
        .filter(|d| !d.deleted)
        .ok_or_else(not_found)?;
    let row: Row = serde_json::from_str(&stored.body)?;
    if !dashboard_visible(&row, &author.user) {
        return Err(not_found());
    }
    Ok((row, stored.version))
}

/// Validates and writes each field of the body into `row`, then checks that the scope has
/// what it needs.
fn apply_fields(
    conn: &dyn Sql,
    author: &Author,
    row: &mut Row,
    input: &CommandInput,
) -> Result<(), ApiError> {
    let scope_err = |why: String| ApiError::unprocessable("invalid_scope", why);
    for (field, value) in &input.body {
        let value = match field.as_str() {
            "name_i18n" => fields::name(field, value)?,
            "scope" => {
                let scope = value.as_str().filter(|s| SCOPES.contains(s));
                scope
                    .ok_or_else(|| scope_err(format!("scope must be one of {SCOPES:?}")))?
                    .into()
            }
            "role" => fields::text(value, "invalid_scope", field)?.into(),
            "propertyId" => {
                let property = fields::text(value, "invalid_scope", field)?;
                if !author.user.sees_property(property) {
                    return Err(scope_err(format!("you may not see property {property}")));
                }
                property.into()
            }
            "sharedWith" => {
                let mut entries = fields::shares(conn, &author.tenant, value)?;
                // Keep what only the server holds (embed entries).
                if let Some(Value::Array(old)) = row.get("sharedWith") {
                    entries.extend(old.iter().filter(|e| !is_device_share(e)).cloned());
                }
                Value::Array(entries)
            }
            "tables" => fields::tables(conn, &author.tenant, value)?,
            "layout" if value.is_object() || value.is_array() => value.clone(),
            "layout" => {
                return Err(ApiError::unprocessable(
                    "invalid_layout",
                    "layout must be an object or an array",
                ))
            }
            other => {
                return Err(ApiError::unprocessable(
                    "field_not_editable",
                    format!("`{other}` cannot be set"),
                ))
            }
        };
        row.insert(field.clone(), value);
    }
    let needs = match row.get("scope").and_then(Value::as_str) {
        Some("own") => "ownerId",
        Some("role") => "role",
        Some("property") => "propertyId",
        _ => "scope",
    };
    if row.get(needs).and_then(Value::as_str).is_none() {
        return Err(scope_err(format!("this scope needs `{needs}`")));
    }
    Ok(())
}

/// A share entry devices may hold (and therefore send back).
fn is_device_share(entry: &Value) -> bool {
    matches!(
        entry.get("kind").and_then(Value::as_str),
        Some("user" | "role")
    )
}
