//! One open IndexedDB connection and its lifecycle.
//!
//! - Opening runs the schema upgrade ([`crate::web::idb::migration::upgrade`]) inside the `upgradeneeded`
//!   handler; a failing step aborts the upgrade transaction instead of panicking, and the open
//!   fails with that step's error.
//! - Transient open failures (`UnknownError`, `AbortError`, ...) are retried a bounded number
//!   of times with a short pause; a `VersionError` (the database on disk is newer) is not.
//! - An upgrade that does not fit in the origin's quota (schema 7 copies the cache before it
//!   drops the old stores) is run once more without the copy ([`Rekey::Recreate`]): the
//!   cached rows go, the outbox stays, and the next pull fills the cache again — rather than
//!   an app that cannot open its database until the user frees disk space.
//! - On `versionchange` (another tab or worker wants to upgrade or delete the database) the
//!   connection closes itself so that context is not blocked, and on `close` (the browser
//!   dropped it, e.g. storage was cleared) it notes that it is gone. Either way every later
//!   call reports [`IdbError::Closed`] instead of touching a dead handle.
//! - A listener ([`Connection::set_lost_listener`]) hears about either at once, so the app
//!   can be told (`versionchange`: reload, the database was upgraded or deleted elsewhere)
//!   or the connection reopened (`close`) without waiting for the next call to fail.

use crate::web::global_scope::sleep_ms;
use crate::web::idb::error::IdbError;
use crate::web::idb::migration::{self, Rekey};
use idb::{Factory, Request};
use js_sys::Function;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, IdbDatabase, IdbVersionChangeEvent};

/// How many times opening is attempted before giving up.
const OPEN_ATTEMPTS: u32 = 3;
/// Pause before the second attempt; doubled for each later one.
const OPEN_RETRY_DELAY_MS: u32 = 50;

/// Called as `listener(kind, reason)` when the connection is lost: `kind` is `"upgrade"`
/// (another context opens the database at a higher version), `"delete"` (another context
/// deletes it) or `"close"` (the browser closed it, e.g. the site's storage was cleared).
type LostListener = Rc<RefCell<Option<Function>>>;

/// An open connection that knows whether it is still usable.
pub struct Connection {
    db: IdbDatabase,
    /// Why the connection is closed, once it is.
    closed: Rc<RefCell<Option<String>>>,
    lost_listener: LostListener,
    _on_version_change: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

impl Connection {
    /// Opens `name` at schema `version`, upgrading it if it is older, with bounded retries.
    pub async fn open(name: &str, version: u32) -> Result<Connection, IdbError> {
        let mut attempt = 1;
        let mut rekey = Rekey::Copy;
        loop {
            match open_once(name, version, rekey).await {
                Ok(db) => return Ok(Connection::watch(db)),
                Err(IdbError::QuotaExceeded(_)) if rekey == Rekey::Copy => {
                    rekey = Rekey::Recreate;
                }
                Err(error) if attempt < OPEN_ATTEMPTS && retryable(&error) => {
                    sleep_ms(OPEN_RETRY_DELAY_MS << (attempt - 1)).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn watch(db: IdbDatabase) -> Connection {
        let closed: Rc<RefCell<Option<String>>> = Rc::default();
        let lost_listener: LostListener = Rc::default();

        let on_version_change = {
            let closed = Rc::clone(&closed);
            let listener = Rc::clone(&lost_listener);
            let db = db.clone();
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                // Close first: the other context's open or delete waits until we do.
                db.close();
                // `newVersion` is null when the other context deletes the database.
                let deleted = event
                    .dyn_ref::<IdbVersionChangeEvent>()
                    .is_some_and(|e| e.new_version().is_none());
                let (kind, reason) = if deleted {
                    ("delete", "another context deleted the database")
                } else {
                    (
                        "upgrade",
                        "another context opened the database at a newer version",
                    )
                };
                closed.replace(Some(reason.into()));
                tell(&listener, kind, reason);
            })
        };
        let on_close = {
            let closed = Rc::clone(&closed);
            let listener = Rc::clone(&lost_listener);
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
                let reason = "the browser closed the database (storage cleared or failing)";
                closed.replace(Some(reason.into()));
                tell(&listener, "close", reason);
            })
        };
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Connection {
            db,
            closed,
            lost_listener,
            _on_version_change: on_version_change,
            _on_close: on_close,
        }
    }

    /// The live database handle, or [`IdbError::Closed`] once the connection is gone.
    pub fn database(&self) -> Result<&IdbDatabase, IdbError> {
        match self.closed.borrow().as_ref() {
            Some(reason) => Err(IdbError::Closed(reason.clone())),
            None => Ok(&self.db),
        }
    }

    /// Sets (or with `None` removes) the function told when the connection is lost; see
    /// [`LostListener`]. Not called for [`close`](Self::close) by this context.
    pub fn set_lost_listener(&self, listener: Option<Function>) {
        self.lost_listener.replace(listener);
    }

    /// Closes the connection; later calls report [`IdbError::Closed`].
    pub fn close(&self) {
        self.db.close();
        self.closed.replace(Some("closed by this context".into()));
    }
}

/// Calls the lost listener, if any, outside of any borrow (it may call back into the client).
fn tell(listener: &LostListener, kind: &str, reason: &str) {
    let listener = listener.borrow().clone();
    if let Some(f) = listener {
        // A throwing listener is the app's problem; the connection is closed either way.
        let _ = f.call2(&JsValue::UNDEFINED, &kind.into(), &reason.into());
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        self.db.close();
    }
}

/// Deletes the database `name`. Waits while other connections are open: they receive
/// `versionchange` and close themselves.
pub async fn delete(name: &str) -> Result<(), IdbError> {
    let factory = Factory::new()?;
    factory.delete(name)?.await?;
    Ok(())
}

/// Upgrade failures, a full disk and a newer on-disk version are deterministic; anything else
/// (an `UnknownError` from a busy backend, an aborted open) may pass on a second try.
fn retryable(error: &IdbError) -> bool {
    !matches!(
        error,
        IdbError::VersionTooNew(_) | IdbError::Upgrade(_) | IdbError::QuotaExceeded(_)
    )
}

async fn open_once(name: &str, version: u32, rekey: Rekey) -> Result<IdbDatabase, IdbError> {
    let factory = Factory::new()?;
    let mut request = factory.open(name, Some(version))?;
    let upgrade_error: Rc<RefCell<Option<IdbError>>> = Rc::default();
    {
        let upgrade_error = Rc::clone(&upgrade_error);
        request.on_upgrade_needed(move |event| {
            if let Err(error) = run_upgrade(&event, version, rekey, &upgrade_error) {
                // Aborting the versionchange transaction makes the open fail with
                // AbortError and leaves the database at its old version, data intact.
                if let Ok(target) = idb::Event::target(&event) {
                    if let Some(tx) = target.transaction() {
                        let _ = tx.abort();
                    }
                }
                upgrade_error.replace(Some(error));
            }
        });
    }
    let result = request.await;
    if let Some(error) = upgrade_error.take() {
        if let Ok(db) = result {
            db.close();
        }
        return Err(error);
    }
    Ok(result?.into())
}

/// Runs the upgrade steps; a request of theirs that fails later aborts the transaction, and
/// if the browser says it was for lack of space, `failure` is told (the open itself only
/// reports `AbortError`).
fn run_upgrade(
    event: &idb::event::VersionChangeEvent,
    version: u32,
    rekey: Rekey,
    failure: &Rc<RefCell<Option<IdbError>>>,
) -> Result<(), IdbError> {
    let from = event.old_version()?;
    let db: IdbDatabase = idb::DatabaseEvent::database(event)?.into();
    let tx: web_sys::IdbTransaction = idb::Event::target(event)?
        .transaction()
        .ok_or_else(|| IdbError::Upgrade("upgradeneeded without a transaction".into()))?
        .into();
    // Freed when it runs; an upgrade that does not abort leaves it behind (once per open that
    // upgrades).
    let on_abort = {
        let tx = tx.clone();
        let failure = Rc::clone(failure);
        Closure::once_into_js(move || {
            let error = tx.error().map(|e| IdbError::from_js(e.as_ref()));
            if let Some(quota @ IdbError::QuotaExceeded(_)) = error {
                failure.borrow_mut().get_or_insert(quota);
            }
        })
    };
    tx.set_onabort(Some(on_abort.unchecked_ref()));
    migration::upgrade(&db, &tx, from, version, rekey)
}
