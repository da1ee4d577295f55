//! A [`Transport`] that plays back a script: queued responses and transport errors, answered
//! in order, then (optionally) a [`ServerLog`] that serves pages by cursor, or a
//! [`PushServer`] that also takes pushes and authoring commands. Every request is recorded,
//! so tests can check exactly what the engine sent and how often.

use crate::engine::net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::engine::testing::push_server::PushServer;
use crate::engine::testing::server_log::ServerLog;
use std::cell::RefCell;
use std::collections::VecDeque;

/// Scripted answers first, then the server or the log; with neither left, every request
/// fails as a network error (what an unreachable server looks like).
#[derive(Debug, Default)]
pub struct ScriptedTransport {
    script: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    requests: RefCell<Vec<HttpRequest>>,
    log: Option<ServerLog>,
    server: Option<PushServer>,
}

impl ScriptedTransport {
    pub fn new() -> Self {
        ScriptedTransport::default()
    }

    /// Falls back to `log` once the script is used up.
    pub fn with_log(log: ServerLog) -> Self {
        ScriptedTransport {
            log: Some(log),
            ..ScriptedTransport::default()
        }
    }

    /// Falls back to `server` (pull, push and authoring) once the script is used up.
    pub fn with_server(server: PushServer) -> Self {
        ScriptedTransport {
            server: Some(server),
            ..ScriptedTransport::default()
        }
    }

    /// The log behind the script (the server's, with [`Self::with_server`]), to add
    /// server-side changes between pulls.
    pub fn log(&self) -> Option<&ServerLog> {
        self.log
            .as_ref()
            .or_else(|| self.server.as_ref().map(PushServer::log))
    }

    /// The server behind the script, for admin changes, faults and checks.
    pub fn server(&self) -> Option<&PushServer> {
        self.server.as_ref()
    }

    /// Queues any outcome.
    pub fn push(&self, outcome: Result<HttpResponse, TransportError>) -> &Self {
        self.script.borrow_mut().push_back(outcome);
        self
    }

    /// Queues a response with `status` and `body`.
    pub fn respond(&self, status: u16, body: impl Into<Vec<u8>>) -> &Self {
        self.push(Ok(HttpResponse {
            status,
            retry_after: None,
            body: body.into(),
        }))
    }

    /// Queues a `429` with a `Retry-After` header.
    pub fn rate_limit(&self, retry_after: &str) -> &Self {
        self.push(Ok(HttpResponse {
            status: 429,
            retry_after: Some(retry_after.to_string()),
            body: Vec::new(),
        }))
    }

    /// Queues a transport failure.
    pub fn fail(&self, error: TransportError) -> &Self {
        self.push(Err(error))
    }

    /// Scripted outcomes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.script.borrow().len()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.borrow().clone()
    }
}

impl Transport for ScriptedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.borrow_mut().push(request.clone());
        if let Some(outcome) = self.script.borrow_mut().pop_front() {
            return outcome;
        }
        match (&self.server, &self.log) {
            (Some(server), _) => server.respond(&request),
            (None, Some(log)) => Ok(log.respond(&request)),
            (None, None) => Err(TransportError::Network("script exhausted".into())),
        }
    }
}
