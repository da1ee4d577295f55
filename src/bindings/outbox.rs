//! The push side of `SyncCore`: local edits, push, sync, deferred commands, conflicts and
//! dead letters. Thin like the rest of the bindings: JS values are converted (through JSON
//! text, like the stored records), the engine is called over the IndexedDB store and the
//! fetch transport, and every failure becomes one `SyncError` with the engine's `code` and
//! `retryable`.

use super::errors::{bad_request, edit_error, pull_error, push_error};
use super::{run, spawn, to_js, Client, SyncCore};
use crate::engine::{self, EditError, SyncError};
use crate::web::{WebClock, WebRandom};
use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A JS value as JSON (`undefined`, a function or a symbol, which `JSON.stringify` gives no
/// text for, becomes `null`); values JSON cannot hold (a BigInt, a cycle) are `bad_request`.
fn js_json(value: &JsValue, what: &str) -> Result<Value, JsValue> {
    if value.is_undefined() || value.is_function() || value.is_symbol() {
        return Ok(Value::Null);
    }
    crate::json::from_json_of(value).map_err(|e| match e.is_not_json() {
        true => bad_request(&format!("{what} is not JSON")),
        false => bad_request(&format!("{what}: {e}")),
    })
}

/// The argument of `enqueueCommand`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommandOptions {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
    /// A string, or a number (a version) for convenience.
    #[serde(default)]
    if_match: Option<Value>,
}

/// Runs a local write and maps its refusal.
fn edit_call<T, F, Fut>(client: &Rc<Client>, work: F) -> Promise
where
    T: Serialize,
    F: FnOnce(Rc<Client>) -> Fut,
    Fut: std::future::Future<Output = Result<T, EditError>> + 'static,
{
    let fut = work(Rc::clone(client));
    spawn(Box::pin(
        async move { to_js(&fut.await.map_err(edit_error)?) },
    ))
}

#[wasm_bindgen]
impl SyncCore {
    /// Renames a held saved query. Resolves with the queued op once it and the local name
    /// are durably committed together; `invalid_name`, `not_found` otherwise.
    #[wasm_bindgen(js_name = renameQuery)]
    pub fn rename_query(&self, query_id: String, name_i18n: JsValue) -> Promise {
        let name = match js_json(&name_i18n, "name_i18n") {
            Ok(v) => v,
            Err(e) => return Promise::reject(&e),
        };
        edit_call(&self.client, move |c| async move {
            engine::rename_query(&c.store, &WebClock, &WebRandom, &query_id, &name).await
        })
    }

    /// The general local edit: only `edit("Query", id, {name_i18n})` is accepted; anything
    /// else rejects with `not_editable` and writes nothing.
    pub fn edit(&self, kind: String, id: String, patch: JsValue) -> Promise {
        let patch = match js_json(&patch, "patch") {
            Ok(v) => v,
            Err(e) => return Promise::reject(&e),
        };
        edit_call(&self.client, move |c| async move {
            engine::edit(&c.store, &WebClock, &WebRandom, &kind, &id, &patch).await
        })
    }

    /// Pushes queued renames, then replays deferred commands; resolves with the
    /// `PushReport`. `progress`, if given, is called after every settled batch and command.
    pub fn push(&self, progress: Option<Function>) -> Promise {
        run(&self.client, move |c| async move {
            let mut on_progress = |p: &engine::PushProgress| {
                if let (Some(f), Ok(v)) = (&progress, to_js(p)) {
                    // A throwing progress callback must not stop the push.
                    let _ = f.call1(&JsValue::UNDEFINED, &v);
                }
            };
            engine::push(
                &c.store,
                &c.transport,
                &WebClock,
                &WebRandom,
                &c.push_config,
                &mut on_progress,
            )
            .await
            .map_err(push_error)
        })
    }

    /// Push, then pull until drained (`engine::sync`): resolves with `{push, pushError, pull}`;
    /// rejects with a push's final error, or with the pull's error carrying `pushError` when
    /// the push had failed retryably before it.
    pub fn sync(&self) -> Promise {
        run(&self.client, |c| async move {
            let mut kept = c.kept.take();
            let synced = engine::sync_keeping(
                &c.store,
                &c.transport,
                &WebClock,
                &WebRandom,
                &c.push_config,
                &c.config,
                &mut kept,
            )
            .await;
            c.keep(kept);
            match synced {
                Ok(report) => Ok(report),
                Err(SyncError::Push(e)) => Err(push_error(e)),
                Err(SyncError::Pull { error, push_error }) => {
                    let error = pull_error(error);
                    if let Some(Ok(v)) = push_error.as_ref().map(to_js) {
                        let _ = Reflect::set(&error, &"pushError".into(), &v);
                    }
                    Err(error)
                }
            }
        })
    }

    /// Queues an authoring request `{method, path, body?, ifMatch?}` durably; it is replayed
    /// in order by the next push. Resolves with the queued command.
    #[wasm_bindgen(js_name = enqueueCommand)]
    pub fn enqueue_command(&self, command: JsValue) -> Promise {
        let parsed = js_json(&command, "command").and_then(|v| {
            serde_json::from_value::<CommandOptions>(v)
                .map_err(|e| bad_request(&format!("command: {e}")))
        });
        let command = match parsed {
            Ok(c) => c,
            Err(e) => return Promise::reject(&e),
        };
        let if_match = match command.if_match {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => return Promise::reject(&bad_request("ifMatch must be a string")),
        };
        edit_call(&self.client, move |c| async move {
            engine::enqueue_command(
                &c.store,
                &WebClock,
                &WebRandom,
                &command.method,
                &command.path,
                command.body,
                if_match,
            )
            .await
        })
    }

    /// Queued ops and commands, in the order push sends them (`{type: "op"|"command", …}`).
    pub fn pending(&self) -> Promise {
        edit_call(&self.client, |c| async move {
            Ok(engine::pending(&c.store).await?)
        })
    }

    /// Open conflicts, oldest first: `{id, kind, entityId, local, server, source, …}`.
    pub fn conflicts(&self) -> Promise {
        edit_call(&self.client, |c| async move {
            Ok(engine::open_conflicts(&c.store).await?)
        })
    }

    /// Settles an open conflict with `"keepLocal"` or `"acceptServer"`; resolves with the
    /// conflict as stored. Any other resolution is `bad_request`; an unknown or already
    /// resolved id is `not_found`.
    #[wasm_bindgen(js_name = resolveConflict)]
    pub fn resolve_conflict(&self, id: String, resolution: String) -> Promise {
        let Some(resolution) = engine::parse_resolution(&resolution) else {
            return Promise::reject(&bad_request(&format!(
                "resolution must be \"keepLocal\" or \"acceptServer\", not {resolution:?}"
            )));
        };
        edit_call(&self.client, move |c| async move {
            let resolved =
                engine::resolve_conflict(&c.store, &WebClock, &WebRandom, &id, resolution).await?;
            Ok(resolved.conflict)
        })
    }

    /// Ops and commands that failed for good, oldest first, with status and reason.
    #[wasm_bindgen(js_name = deadLetters)]
    pub fn dead_letters(&self) -> Promise {
        edit_call(&self.client, |c| async move {
            Ok(engine::dead_letters(&c.store).await?)
        })
    }

    /// Puts the dead letter `id` back at the end of the queue (an op as a new op re-based on
    /// the held query version, a command under a new id) and removes it, in one strict
    /// transaction; resolves with the queued item (`{type: "op"|"command", …}`). An unknown
    /// id, or an op whose query is no longer held, is `not_found`.
    #[wasm_bindgen(js_name = requeueDeadLetter)]
    pub fn requeue_dead_letter(&self, id: String) -> Promise {
        edit_call(&self.client, move |c| async move {
            engine::requeue_dead_letter(&c.store, &WebClock, &WebRandom, &id).await
        })
    }

    /// Removes the dead letter `id` for good; resolves with it as it was stored. An unknown
    /// id is `not_found`.
    #[wasm_bindgen(js_name = dropDeadLetter)]
    pub fn drop_dead_letter(&self, id: String) -> Promise {
        edit_call(&self.client, move |c| async move {
            engine::drop_dead_letter(&c.store, &id).await
        })
    }

    /// `{pending, conflicts, deadLetters}` counts, for status displays.
    #[wasm_bindgen(js_name = outboxCounts)]
    pub fn outbox_counts(&self) -> Promise {
        edit_call(&self.client, |c| async move {
            Ok(engine::outbox_counts(&c.store).await?)
        })
    }
}
