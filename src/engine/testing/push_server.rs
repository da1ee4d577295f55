//! An in-memory model of a server's write side, exact to PROTOCOL §4 and §5, over a
//! [`ServerLog`] so every accepted write reaches devices through pull. Native tests and the
//! model-based test push against it through [`crate::engine::ScriptedTransport::with_server`]; the
//! reference server in `server/` is the real thing the browser tests use.
//!
//! §4 as the contract says: at most 50 ops (`400 too_many_ops`); the `Idempotency-Key` must
//! be the hex SHA-256 of the op ids; a repeated key returns the stored first answer and
//! applies nothing; an op id already applied (under any key) gets its first result again
//! and is never applied twice; per op: unknown query → 404, a patch of anything but
//! `name_i18n` → 422, `expectedVersion` ≠ current → 409 with `current`, else the name is
//! applied, the version bumped and an upsert appended to the log. Authoring (§5) is in
//! `testing/push_server_authoring.rs`.
//!
//! Admin hooks change state behind the device's back (server-side renames, deletions) and
//! inject faults, including "applied but the response was lost".

use crate::engine::net::transport::{HttpRequest, HttpResponse, Method, TransportError};
use crate::engine::testing::server_log::ServerLog;
use crate::protocol::push::{CurrentState, PushOp, PushRequest, PushResult, MAX_PUSH_OPS};
use crate::protocol::{Kind, PullItem, Row};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

/// A versioned entity as the server holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEntity {
    pub version: u64,
    pub row: Row,
}

/// A fault injected into the next write request (push or authoring); pulls are not
/// affected.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and no effect.
    Status(u16),
    /// `429` with this `Retry-After`, no effect.
    RateLimit(String),
    /// The request never reaches the server.
    Network,
    /// The server processes the request (applies, stores the answer under its key), then
    /// the response is lost.
    LoseResponse,
    /// The server processes the request, then the body arrives cut in half.
    TruncateResponse,
}

/// A change of a query's name, in the order the server made them.
#[derive(Debug, Clone, PartialEq)]
pub enum NameChange {
    /// A device's op was applied.
    Op {
        op_id: String,
        query_id: String,
        name_i18n: Map<String, Value>,
        version: u64,
    },
    /// Renamed on the server (another device, an admin).
    Server { query_id: String, version: u64 },
}

/// Server state; the authoring half lives in `testing/push_server_authoring.rs`.
#[derive(Debug, Default)]
pub(super) struct ServerState {
    pub queries: BTreeMap<String, ServerEntity>,
    pub dashboards: BTreeMap<String, ServerEntity>,
    pub widgets: BTreeMap<String, ServerEntity>,
    /// First result of every applied op, by op id.
    pub applied_ops: BTreeMap<String, PushResult>,
    /// Times each op id / command key took effect (must never exceed 1).
    pub applications: BTreeMap<String, u32>,
    /// First answer per `Idempotency-Key`.
    pub answers: BTreeMap<String, HttpResponse>,
    pub faults: VecDeque<Fault>,
    pub history: Vec<NameChange>,
    pub next_id: u64,
}

/// The fake server.
#[derive(Debug, Default)]
pub struct PushServer {
    pub(super) log: ServerLog,
    pub(super) state: RefCell<ServerState>,
}

pub(super) fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        body: body.to_string().into_bytes(),
    }
}

pub(super) fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn refused(op: &PushOp, status: u16, error: &str) -> PushResult {
    PushResult {
        op_id: op.op_id.clone(),
        id: op.id.clone(),
        ok: false,
        version: None,
        status: Some(status),
        error: Some(error.to_string()),
        current: None,
    }
}

impl PushServer {
    /// A server whose pull log starts as `log`.
    pub fn new(log: ServerLog) -> Self {
        PushServer {
            log,
            state: RefCell::default(),
        }
    }

    /// The pull log every accepted write is appended to.
    pub fn log(&self) -> &ServerLog {
        &self.log
    }

    /// Creates a saved query at version 1 (and logs it).
    pub fn add_query(&self, id: &str, owner_id: &str, name: &str) {
        let row = json!({"id": id, "ownerId": owner_id, "name_i18n": {"default": name}});
        let entity = ServerEntity {
            version: 1,
            row: row.as_object().cloned().unwrap_or_default(),
        };
        self.publish(Kind::Query, &entity);
        self.state.borrow_mut().queries.insert(id.into(), entity);
    }

    /// Renames a query on the server (another device did it), bumping its version; the
    /// device's next op on the old version gets a 409. Returns the new version.
    pub fn rename_on_server(&self, id: &str, name: &str) -> Option<u64> {
        let mut state = self.state.borrow_mut();
        let q = state.queries.get_mut(id)?;
        q.version += 1;
        q.row.insert("name_i18n".into(), json!({ "default": name }));
        let (version, entity) = (q.version, q.clone());
        state.history.push(NameChange::Server {
            query_id: id.into(),
            version,
        });
        drop(state);
        self.publish(Kind::Query, &entity);
        Some(version)
    }

    /// Deletes a query on the server: later ops on it get a 404.
    pub fn delete_query(&self, id: &str) -> bool {
        let removed = self.state.borrow_mut().queries.remove(id).is_some();
        if removed {
            self.log.extend([PullItem::Tombstone {
                kind: Kind::Query,
                id: id.into(),
            }]);
        }
        removed
    }

    /// The query as the server holds it.
    pub fn query(&self, id: &str) -> Option<ServerEntity> {
        self.state.borrow().queries.get(id).cloned()
    }

    /// Every query the server holds.
    pub fn queries(&self) -> BTreeMap<String, ServerEntity> {
        self.state.borrow().queries.clone()
    }

    /// Queues a fault for the next write request.
    pub fn inject(&self, fault: Fault) {
        self.state.borrow_mut().faults.push_back(fault);
    }

    /// Drops faults not consumed yet.
    pub fn clear_faults(&self) {
        self.state.borrow_mut().faults.clear();
    }

    /// Times each op id or command key took effect.
    pub fn applications(&self) -> BTreeMap<String, u32> {
        self.state.borrow().applications.clone()
    }

    /// Every name change, in the order the server made them.
    pub fn history(&self) -> Vec<NameChange> {
        self.state.borrow().history.clone()
    }

    pub(super) fn publish(&self, kind: Kind, entity: &ServerEntity) {
        self.log.extend([PullItem::Upsert {
            kind,
            row: entity.row.clone(),
            version: entity.version,
        }]);
    }

    /// Answers one request as the server (and the network in front of it) would.
    pub fn respond(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let route = request.path_and_query.split('?').next().unwrap_or_default();
        if request.method == Method::Get {
            return Ok(if route == "/internal/sync/pull" {
                self.log.respond(request)
            } else {
                json_response(404, &json!({"error": "not_found"}))
            });
        }
        let fault = self.state.borrow_mut().faults.pop_front();
        match &fault {
            Some(Fault::Status(status)) => {
                return Ok(json_response(*status, &json!({"error": "injected"})))
            }
            Some(Fault::RateLimit(after)) => {
                return Ok(HttpResponse {
                    status: 429,
                    retry_after: Some(after.clone()),
                    body: Vec::new(),
                })
            }
            Some(Fault::Network) => return Err(TransportError::Network("injected".into())),
            _ => {}
        }
        let response = if route == "/internal/sync/push" {
            self.push(request)
        } else if route.starts_with(crate::engine::push::commands::COMMAND_PATH_PREFIX) {
            self.author(request, route)
        } else {
            json_response(404, &json!({"error": "not_found"}))
        };
        match fault {
            Some(Fault::LoseResponse) => Err(TransportError::Network("response lost".into())),
            Some(Fault::TruncateResponse) => {
                let mut cut = response;
                cut.body.truncate(cut.body.len() / 2);
                Ok(cut)
            }
            _ => Ok(response),
        }
    }

    fn push(&self, request: &HttpRequest) -> HttpResponse {
        let Some(key) = header(request, "Idempotency-Key") else {
            return json_response(400, &json!({"error": "missing_idempotency_key"}));
        };
        if let Some(first) = self.state.borrow().answers.get(key) {
            return first.clone();
        }
        let parsed = request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<PushRequest>(b).ok());
        let Some(parsed) = parsed else {
            return json_response(400, &json!({"error": "bad_request"}));
        };
        if parsed.ops.len() > MAX_PUSH_OPS {
            return json_response(400, &json!({"error": "too_many_ops"}));
        }
        if parsed.idempotency_key() != key {
            return json_response(400, &json!({"error": "bad_idempotency_key"}));
        }
        let results: Vec<PushResult> = parsed.ops.iter().map(|op| self.apply_op(op)).collect();
        let response = json_response(200, &json!({ "results": results }));
        self.state
            .borrow_mut()
            .answers
            .insert(key.to_string(), response.clone());
        response
    }

    fn apply_op(&self, op: &PushOp) -> PushResult {
        let mut state = self.state.borrow_mut();
        if let Some(first) = state.applied_ops.get(&op.op_id) {
            return first.clone();
        }
        if op.kind != Kind::Query {
            return refused(op, 422, "kind_not_editable");
        }
        let Some(query) = state.queries.get_mut(&op.id) else {
            return refused(op, 404, "not_found");
        };
        if op.patch.len() != 1 {
            return refused(op, 422, "field_not_editable");
        }
        let name = match op.patch.get("name_i18n") {
            Some(Value::Object(n)) if n.get("default").is_some_and(Value::is_string) => n.clone(),
            Some(_) => return refused(op, 422, "invalid_name"),
            None => return refused(op, 422, "field_not_editable"),
        };
        if op.expected_version != query.version {
            let mut fields = Map::new();
            if let Some(n) = query.row.get("name_i18n") {
                fields.insert("name_i18n".into(), n.clone());
            }
            return PushResult {
                current: Some(CurrentState {
                    version: query.version,
                    fields,
                }),
                ..refused(op, 409, "version_conflict")
            };
        }
        query.version += 1;
        query
            .row
            .insert("name_i18n".into(), Value::Object(name.clone()));
        let entity = query.clone();
        let result = PushResult {
            op_id: op.op_id.clone(),
            id: op.id.clone(),
            ok: true,
            version: Some(entity.version),
            status: None,
            error: None,
            current: None,
        };
        *state.applications.entry(op.op_id.clone()).or_default() += 1;
        state.applied_ops.insert(op.op_id.clone(), result.clone());
        state.history.push(NameChange::Op {
            op_id: op.op_id.clone(),
            query_id: op.id.clone(),
            name_i18n: name,
            version: entity.version,
        });
        drop(state);
        self.publish(Kind::Query, &entity);
        result
    }
}
