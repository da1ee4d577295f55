//! Deferred authoring commands (PROTOCOL §5): dashboard and widget authoring is online-only
//! on the server, so offline the device queues the request durably and replays it in order
//! later. This file validates and queues a command and says how it goes on the wire; the
//! replay itself is in `push/command_replay.rs`.

use crate::engine::clock::{Clock, Random};
use crate::engine::ids::random_id;
use crate::engine::net::transport::{HttpRequest, Method};
use crate::engine::push::edit_error::EditError;
use crate::engine::store::outbox::{DeferredCommand, OutboxStore};
use crate::protocol::Kind;
use serde_json::Value;

/// Every authoring endpoint lives under this path (PROTOCOL §5).
pub const COMMAND_PATH_PREFIX: &str = "/api/v1/analytics/dashboards";
/// Largest serialized command body accepted, in bytes. Dashboards and widgets are small;
/// a larger body is a bug that would otherwise sit in storage and be replayed forever.
pub const MAX_COMMAND_BODY_BYTES: usize = 256 * 1024;

/// One of the three authoring routes, the only requests a command may become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandRoute {
    /// `POST /api/v1/analytics/dashboards`
    CreateDashboard,
    /// `PUT /api/v1/analytics/dashboards/{id}`
    UpdateDashboard(String),
    /// `POST /api/v1/analytics/dashboards/{id}/widgets`
    CreateWidget(String),
}

/// A dashboard id as a route segment: `dsh_` then ASCII letters and digits. Nothing else
/// (no `%`, `.`, `/`, `\\`) can be normalised by a URL parser into another path.
fn is_dashboard_id(segment: &str) -> bool {
    segment
        .strip_prefix("dsh_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The route `method` and `path` name, matched exactly (no query, no trailing slash, no
/// encoded segment), or `None`: PROTOCOL §9.7 closes every other path, so the bearer token
/// can never be sent to another endpoint of the sync origin.
pub fn command_route(method: Method, path: &str) -> Option<CommandRoute> {
    let rest = path.strip_prefix(COMMAND_PATH_PREFIX)?;
    let segments: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.strip_prefix('/')?.split('/').collect()
    };
    match (method, segments.as_slice()) {
        (Method::Post, []) => Some(CommandRoute::CreateDashboard),
        (Method::Put, [id]) if is_dashboard_id(id) => {
            Some(CommandRoute::UpdateDashboard((*id).to_string()))
        }
        (Method::Post, [id, "widgets"]) if is_dashboard_id(id) => {
            Some(CommandRoute::CreateWidget((*id).to_string()))
        }
        _ => None,
    }
}

/// Checks a command before it is queued and returns its method: `POST` or `PUT` (any case)
/// on one of the three [`CommandRoute`]s; `If-Match` visible ASCII; a body of at most
/// [`MAX_COMMAND_BODY_BYTES`]. Anything else is `bad_command`, and nothing is queued.
pub fn validate_command(
    method: &str,
    path: &str,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Result<Method, EditError> {
    let invalid = |why: String| Err(EditError::BadCommand(why));
    let method = match method.to_ascii_uppercase().as_str() {
        "POST" => Method::Post,
        "PUT" => Method::Put,
        other => return invalid(format!("method {other} is not an authoring method")),
    };
    if command_route(method, path).is_none() {
        return invalid(format!(
            "{} {path} is not an authoring route (POST {COMMAND_PATH_PREFIX}, PUT or POST …/widgets \
             on {COMMAND_PATH_PREFIX}/dsh_<letters and digits>)",
            method.as_str()
        ));
    }
    if let Some(v) = if_match {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid("If-Match must be a non-empty visible ASCII value".into());
        }
    }
    if let Some(body) = body {
        let size = serde_json::to_string(body).map_or(usize::MAX, |s| s.len());
        if size > MAX_COMMAND_BODY_BYTES {
            return invalid(format!(
                "body is {size} bytes serialized, more than {MAX_COMMAND_BODY_BYTES}"
            ));
        }
    }
    Ok(method)
}

/// A validated command under a fresh `command_id` (`cmd_` + 32 hex), which is also its
/// `Idempotency-Key`, so a replay after a lost response is not applied twice. Its `seq` is
/// assigned by the store when it is queued.
pub fn new_command(
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<String>,
    now_ms: u64,
    random: &impl Random,
) -> Result<DeferredCommand, EditError> {
    let method = validate_command(method, path, body.as_ref(), if_match.as_deref())?;
    Ok(DeferredCommand {
        seq: 0,
        command_id: random_id("cmd_", random),
        method,
        path: path.to_string(),
        body,
        if_match,
        created_at_ms: now_ms,
    })
}

/// Validates and durably queues an authoring request; it is replayed by the next push.
pub async fn enqueue_command<S: OutboxStore, C: Clock, R: Random>(
    store: &S,
    clock: &C,
    random: &R,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<String>,
) -> Result<DeferredCommand, EditError> {
    let command = new_command(method, path, body, if_match, clock.now_ms(), random)?;
    Ok(store.enqueue_command(&command).await?)
}

/// `If-Match` as sent: an entity tag is quoted (`"3"`); a value the caller already quoted
/// (or a weak tag `W/"3"`) is sent unchanged.
pub fn if_match_header(value: &str) -> String {
    if value.starts_with('"') || value.starts_with("W/\"") {
        value.to_string()
    } else {
        format!("\"{value}\"")
    }
}

/// The request a queued command replays as.
pub fn command_request(command: &DeferredCommand) -> HttpRequest {
    let mut headers = vec![("Idempotency-Key".to_string(), command.command_id.clone())];
    if let Some(v) = &command.if_match {
        headers.push(("If-Match".to_string(), if_match_header(v)));
    }
    HttpRequest {
        method: command.method,
        path_and_query: command.path.clone(),
        headers,
        body: command.body.as_ref().map(Value::to_string),
    }
}

/// The entity a command is about, for its conflict or dead letter: `(Dashboard, id)` for
/// an update, `(Widget, "")` for a new widget, `(Dashboard, "")` for a new dashboard or a
/// stored command outside the routes.
pub fn command_target(command: &DeferredCommand) -> (Kind, String) {
    match command_route(command.method, &command.path) {
        Some(CommandRoute::UpdateDashboard(id)) => (Kind::Dashboard, id),
        Some(CommandRoute::CreateWidget(_)) => (Kind::Widget, String::new()),
        Some(CommandRoute::CreateDashboard) | None => (Kind::Dashboard, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation() {
        let ok = [
            ("POST", "/api/v1/analytics/dashboards"),
            ("put", "/api/v1/analytics/dashboards/dsh_1"),
            ("POST", "/api/v1/analytics/dashboards/dsh_1/widgets"),
        ];
        for (m, p) in ok {
            assert!(
                validate_command(m, p, Some(&json!({})), Some("3")).is_ok(),
                "{p}"
            );
        }
        let bad = [
            ("GET", "/api/v1/analytics/dashboards"),
            ("DELETE", "/api/v1/analytics/dashboards/dsh_1"),
            ("POST", "/api/v1/analytics/dashboardsX"),
            ("POST", "/internal/sync/push"),
            ("POST", "/api/v1/analytics/dashboards/../../admin"),
            ("POST", "/api/v1/analytics/dashboards/a b"),
            ("POST", "/api/v1/analytics/dashboards#x"),
        ];
        for (m, p) in bad {
            let e = validate_command(m, p, None, None).unwrap_err();
            assert_eq!(e.code(), "bad_command", "{m} {p}");
        }
        let p = "/api/v1/analytics/dashboards/dsh_1";
        assert!(validate_command("PUT", p, None, Some("3\r\nX: y")).is_err());
        assert!(validate_command("PUT", p, None, Some("")).is_err());
        let huge = json!({"x": "y".repeat(MAX_COMMAND_BODY_BYTES)});
        assert!(validate_command("PUT", p, Some(&huge), None).is_err());
    }

    #[test]
    fn wire_shape_and_target() {
        assert_eq!(if_match_header("3"), "\"3\"");
        assert_eq!(if_match_header("\"3\""), "\"3\"");
        assert_eq!(if_match_header("W/\"3\""), "W/\"3\"");
        let command = DeferredCommand {
            seq: 1,
            command_id: "cmd_1".into(),
            method: Method::Put,
            path: "/api/v1/analytics/dashboards/dsh_1".into(),
            body: Some(json!({"name_i18n": {"default": "D"}})),
            if_match: Some("4".into()),
            created_at_ms: 0,
        };
        let r = command_request(&command);
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.headers,
            vec![
                ("Idempotency-Key".to_string(), "cmd_1".to_string()),
                ("If-Match".to_string(), "\"4\"".to_string())
            ]
        );
        assert_eq!(r.body.as_deref(), Some(r#"{"name_i18n":{"default":"D"}}"#));
        assert_eq!(command_target(&command), (Kind::Dashboard, "dsh_1".into()));
        let mut c = command.clone();
        c.path = "/api/v1/analytics/dashboards/dsh_1/widgets".into();
        c.method = Method::Post;
        assert_eq!(command_target(&c), (Kind::Widget, String::new()));
        c.path = "/api/v1/analytics/dashboards".into();
        assert_eq!(command_target(&c), (Kind::Dashboard, String::new()));
    }
}
