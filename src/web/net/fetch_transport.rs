//! [`FetchTransport`]: the engine's [`Transport`] on the Fetch API.
//!
//! - Identity headers on every request; `Authorization: Bearer …` from the host's token
//!   callback, called per request and never stored (PROTOCOL §1), and bounded in time
//!   (`net/host_token.rs`, §9.9). No callback, or a callback resolving to nothing, sends no
//!   `Authorization` header.
//! - A timeout through `AbortController` covers the whole exchange, body included; an abort
//!   caused by it is reported as [`TransportError::Timeout`].
//! - The body is read completely as bytes; a body cut off mid-stream is a
//!   [`TransportError::Network`], never a short `Ok`.
//! - Everything is resolved through the global scope (gloo-net's `fetch` binding, our timers),
//!   so it works in a window and in a dedicated worker.
//!
//! gloo-net builds and sends the request. The host's optional `fetch` override, reading the
//! body and header validation use web-sys directly: gloo-net has no custom-fetch hook, and
//! its helpers panic on a non-`Error` rejection or an invalid header, which a host-supplied
//! `fetch` or a user-typed `If-Match` could produce.

use crate::engine::check_path;
use crate::engine::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use crate::protocol::identity::{Identity, DEVICE_HEADER, TENANT_HEADER, USER_HEADER};
use crate::web::global_scope::{clear_timeout, set_timeout};
use crate::web::net::host_token::{bounded_token, describe, DEFAULT_TOKEN_TIMEOUT_MS};
use gloo_net::http::RequestBuilder;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

/// Default time a request may take, body included.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// Sends engine requests to one sync server with `fetch`.
#[derive(Debug, Clone)]
pub struct FetchTransport {
    base_url: String,
    identity: Identity,
    get_token: Option<Function>,
    fetch: Option<Function>,
    timeout_ms: u32,
    token_timeout_ms: u32,
    on_reachability: Option<Function>,
}

impl FetchTransport {
    /// A transport for `base_url` (e.g. `http://127.0.0.1:8787`) acting as `identity`.
    pub fn new(base_url: &str, identity: Identity) -> FetchTransport {
        FetchTransport {
            base_url: base_url.trim_end_matches('/').to_string(),
            identity,
            get_token: None,
            fetch: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            token_timeout_ms: DEFAULT_TOKEN_TIMEOUT_MS,
            on_reachability: None,
        }
    }

    /// The host's `getToken`: called with no arguments before every request, returns a
    /// string or a Promise of one (`null`/`undefined`/`""`: send no `Authorization`).
    pub fn with_token_callback(mut self, get_token: Function) -> FetchTransport {
        self.get_token = Some(get_token);
        self
    }

    /// A `fetch`-compatible function to use instead of the global one (API.md `fetch`).
    /// It is called as `fetch(request)` with a `Request` and must resolve to a `Response`.
    pub fn with_fetch(mut self, fetch: Function) -> FetchTransport {
        self.fetch = Some(fetch);
        self
    }

    /// How long one request may take, body included, before it is aborted.
    pub fn with_timeout_ms(mut self, timeout_ms: u32) -> FetchTransport {
        self.timeout_ms = timeout_ms;
        self
    }

    /// How long the host's token callback may take before the request fails as
    /// `token_timeout` (PROTOCOL §9.9).
    pub fn with_token_timeout_ms(mut self, timeout_ms: u32) -> FetchTransport {
        self.token_timeout_ms = timeout_ms;
        self
    }

    /// `(reachable: boolean, detail: string)`, called after every request that reached the
    /// network: `true` when a complete response arrived (any status), `false` on a network
    /// error or a timeout. The engine retries such failures quietly inside one call, for
    /// minutes with the defaults; this is how the host's status learns at once that the
    /// server does not answer. It must not call back into the module synchronously.
    pub fn with_reachability_callback(mut self, callback: Function) -> FetchTransport {
        self.on_reachability = Some(callback);
        self
    }

    fn report_reachability(&self, outcome: &Result<HttpResponse, TransportError>) {
        let Some(callback) = &self.on_reachability else {
            return;
        };
        let (reachable, detail) = match outcome {
            Ok(_) => (true, String::new()),
            Err(TransportError::Network(detail)) => (false, detail.clone()),
            Err(TransportError::Timeout) => (false, TransportError::Timeout.to_string()),
            // Token failures happen before anything is sent.
            Err(TransportError::Token(_) | TransportError::TokenTimeout) => return,
        };
        // A throwing host callback must not fail the request.
        let _ = callback.call2(&JsValue::UNDEFINED, &reachable.into(), &detail.into());
    }

    /// Asks the host for a token, bounded in time. Not stored anywhere.
    async fn token(&self) -> Result<Option<String>, TransportError> {
        match &self.get_token {
            None => Ok(None),
            Some(get_token) => bounded_token(get_token, self.token_timeout_ms).await,
        }
    }

    fn build(
        &self,
        request: HttpRequest,
        token: Option<String>,
        signal: &AbortSignal,
    ) -> Result<web_sys::Request, TransportError> {
        let url = format!("{}{}", self.base_url, request.path_and_query);
        let method = match request.method {
            Method::Get => gloo_net::http::Method::GET,
            Method::Post => gloo_net::http::Method::POST,
            Method::Put => gloo_net::http::Method::PUT,
        };
        let mut headers: Vec<(String, String)> = vec![
            (TENANT_HEADER.into(), self.identity.tenant_id.clone()),
            (USER_HEADER.into(), self.identity.user_id.clone()),
            (DEVICE_HEADER.into(), self.identity.device_id.clone()),
        ];
        headers.extend(request.headers);
        if let Some(token) = token {
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        if request.body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let mut builder = RequestBuilder::new(&url)
            .method(method)
            .abort_signal(Some(signal));
        for (name, value) in &headers {
            check_header(name, value)?;
            builder = builder.header(name, value);
        }
        let built = match request.body {
            Some(body) => builder.body(body),
            None => builder.build(),
        };
        built
            .map(Into::into)
            .map_err(|e| TransportError::Network(format!("cannot build the request: {e}")))
    }

    /// fetch + full body read, under the caller's abort signal. A host's `fetch` option may
    /// ignore the signal (a wrapper that rebuilds the request from its URL drops it), and so
    /// may the body of the response it returns: both waits are raced against the signal
    /// itself, so the timeout cuts them as it cuts the browser's own fetch.
    async fn exchange(
        &self,
        request: web_sys::Request,
        signal: &AbortSignal,
    ) -> Result<HttpResponse, TransportError> {
        let aborted = aborted(signal);
        let response = match &self.fetch {
            Some(fetch) => {
                let returned = fetch
                    .call1(&js_sys::global(), &request)
                    .map_err(|e| TransportError::Network(describe(&e)))?;
                unless_aborted(&Promise::resolve(&returned), &aborted)
                    .await
                    .map_err(|e| TransportError::Network(describe(&e)))?
                    .dyn_into::<web_sys::Response>()
                    .map_err(|_| {
                        TransportError::Network("the fetch option did not return a Response".into())
                    })?
            }
            None => gloo_net::http::Request::from(request)
                .send()
                .await
                .map_err(|e| TransportError::Network(e.to_string()))?
                .into(),
        };
        let status = response.status();
        let retry_after = response.headers().get("Retry-After").ok().flatten();
        let buffer = response
            .array_buffer()
            .map_err(|e| TransportError::Network(describe(&e)))?;
        let body = unless_aborted(&buffer, &aborted)
            .await
            .map_err(|e| TransportError::Network(format!("body cut off: {}", describe(&e))))?;
        Ok(HttpResponse {
            status,
            retry_after,
            body: Uint8Array::new(&body).to_vec(),
        })
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // The token goes to the sync origin and to the path the engine named, nowhere else
        // (PROTOCOL §9.7): checked before the host is even asked for it.
        check_path(&request.path_and_query).map_err(TransportError::Network)?;
        let token = self.token().await?;
        let controller = AbortController::new()
            .map_err(|e| TransportError::Network(format!("AbortController: {}", describe(&e))))?;
        let signal = controller.signal();
        let request = self.build(request, token, &signal)?;

        let abort = Reflect::get(&controller, &JsValue::from_str("abort"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| TransportError::Network("AbortController.abort is missing".into()))?
            .bind0(&controller);
        let timer = set_timeout(&abort, self.timeout_ms)
            .map_err(|e| TransportError::Network(format!("setTimeout: {}", describe(&e))))?;
        let outcome = self.exchange(request, &signal).await;
        clear_timeout(&timer);

        let outcome = match outcome {
            // Only our timer aborts this signal.
            Err(_) if signal.aborted() => Err(TransportError::Timeout),
            other => other,
        };
        self.report_reachability(&outcome);
        outcome
    }
}

/// A promise that resolves with the `abort` event when `signal` aborts (pending otherwise). It
/// resolves rather than rejects: a rejection nobody awaits (the browser's own fetch rejects
/// first) would reach the page as an unhandled rejection.
fn aborted(signal: &AbortSignal) -> Promise {
    Promise::new(&mut |resolve, _reject| {
        let _ = signal.add_event_listener_with_callback("abort", &resolve);
    })
}

/// Awaits `promise`, or `aborted` if that comes first (then an error: `send` reports it as
/// the timeout, since only its timer aborts the signal).
async fn unless_aborted(promise: &Promise, aborted: &Promise) -> Result<JsValue, JsValue> {
    let value = JsFuture::from(Promise::race(&js_sys::Array::of2(promise, aborted))).await?;
    if value.is_instance_of::<web_sys::Event>() {
        return Err(JsValue::from_str("aborted"));
    }
    Ok(value)
}

/// Rejects header names and values `Headers.append` would throw on (gloo-net would turn the
/// throw into a panic): a value must be visible ASCII, space or tab, without CR/LF.
fn check_header(name: &str, value: &str) -> Result<(), TransportError> {
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let value_ok = value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    if name_ok && value_ok {
        Ok(())
    } else {
        Err(TransportError::Network(format!(
            "header {name:?} has a name or value fetch cannot send"
        )))
    }
}
