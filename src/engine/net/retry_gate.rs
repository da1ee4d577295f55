//! `Retry-After` is binding (PROTOCOL §9.5): once a server answered a request with 429 or
//! 503 and a `Retry-After` (delta-seconds or an HTTP date), no request to that endpoint
//! leaves before the time — not the retry inside the same call, and not the next call,
//! whatever started it (a manual sync, autosync, a timer, a focus or online trigger).
//!
//! [`GatedTransport`] wraps the real transport, so every path goes through it without each
//! loop keeping its own books. A request held by the gate is answered locally as a 429 whose
//! `Retry-After` is the time left: the pull and push loops then do what they do with any 429
//! (sleep through a short wait, return `rate_limited` for a long one), and nothing reaches
//! the network. There is no cap: a server that asks for two hours gets two hours.

use crate::engine::clock::Clock;
use crate::engine::net::retry::retry_after_ms;
use crate::engine::net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use std::cell::RefCell;

/// The endpoint a request goes to: its path without the query.
fn route_of(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or_default()
}

/// A [`Transport`] that holds back requests a server asked to delay.
pub struct GatedTransport<T, C> {
    inner: T,
    clock: C,
    /// Per route, the time (ms since the epoch) before which nothing may be sent there. A few
    /// routes at most: a vector, not a map type of its own (≈ 5 KB of wasm each).
    held_until: RefCell<Vec<(String, u64)>>,
}

impl<T: Transport, C: Clock> GatedTransport<T, C> {
    pub fn new(inner: T, clock: C) -> Self {
        GatedTransport {
            inner,
            clock,
            held_until: RefCell::new(Vec::new()),
        }
    }

    /// The transport requests go through once the gate lets them.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The latest time any endpoint is held until, if it is after `now_ms` (`status().retryAt`).
    pub fn retry_at(&self, now_ms: u64) -> Option<u64> {
        self.held_until
            .borrow()
            .iter()
            .map(|(_, until)| *until)
            .filter(|until| *until > now_ms)
            .max()
    }

    fn held(&self, route: &str, now_ms: u64) -> Option<u64> {
        let mut held = self.held_until.borrow_mut();
        let at = held.iter().position(|(r, _)| r == route)?;
        if held[at].1 > now_ms {
            return Some(held[at].1);
        }
        held.remove(at);
        None
    }
}

impl<T: Transport, C: Clock> Transport for GatedTransport<T, C> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let route = route_of(&request.path_and_query).to_string();
        let now = self.clock.now_ms();
        if let Some(until) = self.held(&route, now) {
            let seconds_left = (until - now).div_ceil(1000);
            return Ok(HttpResponse {
                status: 429,
                retry_after: Some(seconds_left.to_string()),
                body: Vec::new(),
            });
        }
        let response = self.inner.send(request).await?;
        if matches!(response.status, 429 | 503) {
            let answered = self.clock.now_ms();
            let wait = response
                .retry_after
                .as_deref()
                .and_then(|v| retry_after_ms(v, answered));
            if let Some(wait) = wait.filter(|w| *w > 0) {
                let until = answered.saturating_add(wait);
                let mut held = self.held_until.borrow_mut();
                match held.iter_mut().find(|(r, _)| *r == route) {
                    Some((_, slot)) => *slot = (*slot).max(until),
                    None => held.push((route, until)),
                }
            }
        }
        Ok(response)
    }
}
