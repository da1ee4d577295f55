//! The authoring endpoints of the fake [`PushServer`] (PROTOCOL §5): create a dashboard,
//! update one under `If-Match`, add a widget. A repeated `Idempotency-Key` gets the first
//! answer and changes nothing; every accepted write is appended to the pull log.

use crate::engine::net::transport::{HttpRequest, HttpResponse, Method};
use crate::engine::testing::push_server::{header, json_response, PushServer, ServerEntity};
use crate::protocol::{Kind, Row};
use serde_json::{json, Value};

/// The version an `If-Match` value names: `"3"`, `W/"3"` or a bare `3`.
fn etag_version(value: &str) -> Option<u64> {
    let v = value.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    v.parse().ok()
}

impl PushServer {
    /// Creates a dashboard at version 1 (and logs it).
    pub fn add_dashboard(&self, id: &str, name: &str) {
        let row = json!({"id": id, "name_i18n": {"default": name}, "scope": "own",
                         "sharedWith": [], "tables": [], "updatedAt": "2026-01-01T00:00:00Z"});
        let entity = ServerEntity {
            version: 1,
            row: row.as_object().cloned().unwrap_or_default(),
        };
        self.publish(Kind::Dashboard, &entity);
        self.state.borrow_mut().dashboards.insert(id.into(), entity);
    }

    /// Changes a dashboard's name on the server (another user edited it), bumping its
    /// version; a queued update made on the old version then gets a 412.
    pub fn edit_dashboard_on_server(&self, id: &str, name: &str) -> Option<u64> {
        let entity = {
            let mut state = self.state.borrow_mut();
            let d = state.dashboards.get_mut(id)?;
            d.version += 1;
            d.row.insert("name_i18n".into(), json!({ "default": name }));
            d.clone()
        };
        self.publish(Kind::Dashboard, &entity);
        Some(entity.version)
    }

    /// The dashboard as the server holds it.
    pub fn dashboard(&self, id: &str) -> Option<ServerEntity> {
        self.state.borrow().dashboards.get(id).cloned()
    }

    /// Widgets created through authoring, by id.
    pub fn widgets(&self) -> Vec<ServerEntity> {
        self.state.borrow().widgets.values().cloned().collect()
    }

    pub(super) fn author(&self, request: &HttpRequest, route: &str) -> HttpResponse {
        let key = header(request, "Idempotency-Key").map(str::to_string);
        if let Some(first) = key
            .as_ref()
            .and_then(|k| self.state.borrow().answers.get(k).cloned())
        {
            return first;
        }
        let response = self.author_once(request, route);
        if let Some(key) = key {
            let mut state = self.state.borrow_mut();
            if (200..300).contains(&response.status) {
                *state.applications.entry(key.clone()).or_default() += 1;
            }
            state.answers.insert(key, response.clone());
        }
        response
    }

    fn author_once(&self, request: &HttpRequest, route: &str) -> HttpResponse {
        let rest = route
            .strip_prefix(crate::engine::push::commands::COMMAND_PATH_PREFIX)
            .unwrap_or_default();
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let body: Option<Row> = request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok());
        let Some(body) = body else {
            return json_response(400, &json!({"error": "bad_request"}));
        };
        match (request.method, segments.as_slice()) {
            (Method::Post, []) => {
                if !body.get("name_i18n").is_some_and(Value::is_object) {
                    return json_response(422, &json!({"error": "invalid_dashboard"}));
                }
                let id = self.mint("dsh_srv");
                let mut row = body;
                row.insert("id".into(), json!(id));
                for (field, default) in [
                    ("scope", json!("own")),
                    ("sharedWith", json!([])),
                    ("tables", json!([])),
                ] {
                    row.entry(field).or_insert(default);
                }
                self.store(Kind::Dashboard, &id, ServerEntity { version: 1, row });
                json_response(201, &json!({"id": id, "version": 1}))
            }
            (Method::Put, [id]) => {
                let Some(mut entity) = self.dashboard(id) else {
                    return json_response(404, &json!({"error": "not_found"}));
                };
                let Some(expected) = header(request, "If-Match") else {
                    return json_response(428, &json!({"error": "precondition_required"}));
                };
                if etag_version(expected) != Some(entity.version) {
                    let mut current = entity.row.clone();
                    current.insert("version".into(), json!(entity.version));
                    return json_response(
                        412,
                        &json!({"error": "precondition_failed", "current": current}),
                    );
                }
                for (field, value) in body {
                    if field != "id" {
                        entity.row.insert(field, value);
                    }
                }
                entity.version += 1;
                let version = entity.version;
                self.store(Kind::Dashboard, id, entity);
                json_response(200, &json!({"id": id, "version": version}))
            }
            (Method::Post, [dashboard_id, "widgets"]) => {
                if self.dashboard(dashboard_id).is_none() {
                    return json_response(404, &json!({"error": "not_found"}));
                }
                if !body.get("metricKey").is_some_and(Value::is_string) {
                    return json_response(422, &json!({"error": "invalid_widget"}));
                }
                let id = self.mint("wid_srv");
                let mut row = body;
                row.insert("id".into(), json!(id));
                row.insert("dashboardId".into(), json!(dashboard_id));
                self.store(Kind::Widget, &id, ServerEntity { version: 1, row });
                json_response(201, &json!({"id": id, "version": 1}))
            }
            _ => json_response(404, &json!({"error": "not_found"})),
        }
    }

    fn mint(&self, prefix: &str) -> String {
        let mut state = self.state.borrow_mut();
        state.next_id += 1;
        format!("{prefix}{}", state.next_id)
    }

    fn store(&self, kind: Kind, id: &str, entity: ServerEntity) {
        self.publish(kind, &entity);
        let mut state = self.state.borrow_mut();
        let map = if kind == Kind::Widget {
            &mut state.widgets
        } else {
            &mut state.dashboards
        };
        map.insert(id.to_string(), entity);
    }
}

#[cfg(test)]
mod tests {
    use super::etag_version;

    #[test]
    fn etags() {
        assert_eq!(etag_version("\"3\""), Some(3));
        assert_eq!(etag_version("W/\"3\""), Some(3));
        assert_eq!(etag_version("3"), Some(3));
        assert_eq!(etag_version("\"x\""), None);
    }
}
