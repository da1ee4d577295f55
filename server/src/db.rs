//! The database handle: one SQLite connection behind a mutex, used from blocking threads.
//!
//! A single connection serializes writers, which is what gives positions their strict
//! order, and it is the only way `:memory:` databases can be shared by every request.
//! Pull pages are built in one read on that connection, so each page sees one consistent
//! state of the log.

use crate::error::ApiError;
use crate::schema;
use crate::sql::Sql;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`; `:memory:` gives a private
    /// in-memory database.
    pub fn open(path: &str) -> Result<Db, ApiError> {
        let conn = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            if let Some(dir) = Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        ApiError::Internal(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
            }
            Connection::open(path)?
        };
        schema::apply(&conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the current thread (CLI and tests).
    pub fn with<R>(&self, f: impl FnOnce(&dyn Sql) -> Result<R, ApiError>) -> Result<R, ApiError> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are
        // atomic and transactions roll back on drop), so a poisoned lock is still usable.
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&*guard)
    }

    /// Runs `f` with the connection on a blocking thread, off the async executor.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with(f))
            .await
            .map_err(|e| ApiError::Internal(format!("database task failed: {e}")))?
    }
}
