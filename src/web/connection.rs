//! One open IndexedDB connection and its lifecycle.
//!
//! - Opening runs the schema upgrade ([`super::schema::upgrade`]) inside the `upgradeneeded`
//!   handler; a failing step aborts the upgrade transaction instead of panicking, and the open
//!   fails with that step's error.
//! - Transient open failures (`UnknownError`, `AbortError`, ...) are retried a bounded number
//!   of times with a short pause; a `VersionError` (the database on disk is newer) is not.
//! - On `versionchange` (another tab or worker wants to upgrade or delete the database) the
//!   connection closes itself so that context is not blocked, and on `close` (the browser
//!   dropped it, e.g. storage was cleared) it notes that it is gone. Either way every later
//!   call reports [`IdbError::Closed`] instead of touching a dead handle.

use super::global_scope::sleep_ms;
use super::idb_error::IdbError;
use super::schema;
use idb::{Factory, Request};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, IdbDatabase};

/// How many times opening is attempted before giving up.
const OPEN_ATTEMPTS: u32 = 3;
/// Pause before the second attempt; doubled for each later one.
const OPEN_RETRY_DELAY_MS: u32 = 50;

/// An open connection that knows whether it is still usable.
pub struct Connection {
    db: IdbDatabase,
    /// Why the connection is closed, once it is.
    closed: Rc<RefCell<Option<String>>>,
    _on_version_change: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

impl Connection {
    /// Opens `name` at schema `version`, upgrading it if it is older, with bounded retries.
    pub async fn open(name: &str, version: u32) -> Result<Connection, IdbError> {
        let mut attempt = 1;
        loop {
            match open_once(name, version).await {
                Ok(db) => return Ok(Connection::watch(db)),
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

        let on_version_change = {
            let closed = Rc::clone(&closed);
            let db = db.clone();
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
                db.close();
                closed.replace(Some(
                    "another context is upgrading or deleting the database".into(),
                ));
            })
        };
        let on_close = {
            let closed = Rc::clone(&closed);
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
                closed.replace(Some("the browser closed the database".into()));
            })
        };
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Connection {
            db,
            closed,
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

    /// Closes the connection; later calls report [`IdbError::Closed`].
    pub fn close(&self) {
        self.db.close();
        self.closed.replace(Some("closed by this context".into()));
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

/// Upgrade failures and a newer on-disk version are deterministic; anything else (an
/// `UnknownError` from a busy backend, an aborted open) may pass on a second try.
fn retryable(error: &IdbError) -> bool {
    !matches!(error, IdbError::VersionTooNew(_) | IdbError::Upgrade(_))
}

async fn open_once(name: &str, version: u32) -> Result<IdbDatabase, IdbError> {
    let factory = Factory::new()?;
    let mut request = factory.open(name, Some(version))?;
    let upgrade_error: Rc<RefCell<Option<IdbError>>> = Rc::default();
    {
        let upgrade_error = Rc::clone(&upgrade_error);
        request.on_upgrade_needed(move |event| {
            if let Err(error) = run_upgrade(&event, version) {
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

fn run_upgrade(event: &idb::event::VersionChangeEvent, version: u32) -> Result<(), IdbError> {
    let from = event.old_version()?;
    let db = idb::DatabaseEvent::database(event)?;
    let tx = idb::Event::target(event)?
        .transaction()
        .ok_or_else(|| IdbError::Upgrade("upgradeneeded without a transaction".into()))?;
    schema::upgrade(&db, &tx, from, version)
}
