//! The authoring endpoints (PROTOCOL §5): create a dashboard, update one under `If-Match`,
//! add a widget. Online-only on the server; the client queues them offline and replays
//! them in order with `Idempotency-Key: <command id>`.
//!
//! Every command runs the same way: identity, token and access binding as for pull
//! (`400`/`401`/`403`), an optional `Idempotency-Key` (a key already answered for this
//! (tenant, user) returns the stored first answer and changes nothing), the tenant's next
//! injected `command` fault, then the command in one transaction. Its answer — success or
//! a `4xx` refusal — is stored under the key in that same transaction; a refused command
//! leaves no trace but its answer (its writes run in a savepoint that is rolled back).
//! Every accepted write goes through the change log, so it reaches devices through pull,
//! with epochs bumped where a visibility change needs a reset (`audience`).

mod command;
mod dashboard;
mod fields;
mod widget;

pub use command::{entity_answer, entity_json, if_match_matches, Author, CommandInput};

use crate::auth;
use crate::error::ApiError;
use crate::faults::FaultTarget;
use crate::idempotency::{self, Answer, KeyRef, Scope};
use crate::log::write_transaction;
use crate::routes::push::idempotency_key;
use crate::sql::{savepoint, Sql};
use crate::state::AppState;
use crate::write_faults::answer_under_fault;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::Router;
use serde_json::{Map, Value};

/// Where the authoring endpoints live.
pub const DASHBOARDS_PATH: &str = "/api/v1/analytics/dashboards";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(DASHBOARDS_PATH, post(create_dashboard))
        .route(&format!("{DASHBOARDS_PATH}/{{id}}"), put(update_dashboard))
        .route(
            &format!("{DASHBOARDS_PATH}/{{id}}/widgets"),
            post(add_widget),
        )
}

async fn create_dashboard(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    run_command(app, headers, body, dashboard::create).await
}

async fn update_dashboard(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    run_command(app, headers, body, move |conn, author, input| {
        dashboard::update(conn, author, &id, input)
    })
    .await
}

async fn add_widget(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    run_command(app, headers, body, move |conn, author, input| {
        widget::add(conn, author, &id, input)
    })
    .await
}

/// Authenticates, honours the idempotency key and the injected fault, and runs `command`
/// in one transaction.
async fn run_command<F>(app: AppState, headers: HeaderMap, body: Bytes, command: F) -> Response
where
    F: FnOnce(&dyn Sql, &Author, &CommandInput) -> Result<Answer, ApiError> + Send + 'static,
{
    let checked = async {
        let (identity, user) = auth::authorize(&app.db, &headers).await?;
        let key = idempotency_key(&headers)?;
        let if_match = match headers.get(header::IF_MATCH) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| ApiError::BadRequest("If-Match is not ASCII".into()))?
                    .to_string(),
            ),
        };
        Ok::<_, ApiError>((identity.tenant_id, user, key, if_match))
    };
    let (tenant, user, key, if_match) = match checked.await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let author = Author {
        tenant: tenant.clone(),
        user,
        now_ms: app.clock.now_ms(),
    };
    let work = app.db.call(move |conn| {
        write_transaction(conn, &author.tenant.clone(), |tx| {
            let at = key.as_deref().map(|key| KeyRef {
                tenant: &author.tenant,
                user: &author.user.id,
                scope: Scope::Command,
                key,
            });
            if let Some(at) = at {
                if let Some(first) = idempotency::replay(tx, at)? {
                    return Ok(first);
                }
            }
            let outcome = parse_body(&body).and_then(|body| {
                let input = CommandInput { body, if_match };
                savepoint(tx, |sp| command(sp, &author, &input))
            });
            let answer = match outcome {
                Ok(answer) => answer,
                Err(e) if is_refusal(&e) => {
                    let (status, body) = e.parts();
                    Answer::json(status, &body)
                }
                Err(e) => return Err(e),
            };
            if let Some(at) = at {
                idempotency::store(tx, at, &answer, author.now_ms)?;
            }
            Ok(answer)
        })
    });
    answer_under_fault(&app, &tenant, FaultTarget::Command, work).await
}

/// A `4xx` the command decided on (stored under its key); server failures are not stored,
/// so a retry can still succeed.
fn is_refusal(e: &ApiError) -> bool {
    !matches!(e, ApiError::Database(_) | ApiError::Internal(_))
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("body must be a JSON object".into())),
        Err(e) => Err(ApiError::BadRequest(format!("body: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::if_match_matches;

    #[test]
    fn if_match_forms() {
        assert!(if_match_matches("\"3\"", 3));
        assert!(if_match_matches("W/\"3\"", 3));
        assert!(if_match_matches("3", 3));
        assert!(if_match_matches("*", 9));
        assert!(!if_match_matches("\"2\"", 3));
        assert!(!if_match_matches("\"x\"", 3));
    }
}
