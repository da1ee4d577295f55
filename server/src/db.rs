//! The database handle: where the contract logic gets its [`Sql`] connection.
//!
//! - **SQLite** (a file path or `:memory:`): one connection behind a mutex, used from
//!   blocking threads. A single connection serializes writers, which is what gives positions
//!   their strict order, and it is the only way `:memory:` databases can be shared by every
//!   request.
//! - **PostgreSQL** (`postgres://…`): a pool of connections, shared by every request of this
//!   process; any number of processes may serve the same database (write transactions take
//!   the tenant's row lock, see `log::write_transaction`). The schema is migrated at open.
//!
//! Either way the logic runs synchronously on a blocking thread, off the async executor.

use crate::args;
use crate::error::ApiError;
use crate::schema;
use crate::sql::{PgPool, Sql};
use rusqlite::Connection;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Prepared statements a SQLite connection keeps.
const STATEMENT_CACHE: usize = 128;

/// Connections a process opens to PostgreSQL at most, unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 16;

#[derive(Clone)]
pub struct Db {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<Mutex<Connection>>),
    Postgres {
        pool: PgPool,
        /// Keeps the runtime of the pool's connections alive as long as any handle.
        _runtime: Arc<DbRuntime>,
    },
}

/// The runtime that drives the PostgreSQL connections, separate from the server's so that
/// statements can be waited for from any thread, the CLI's and the tests' included.
struct DbRuntime(Option<tokio::runtime::Runtime>);

impl Drop for DbRuntime {
    fn drop(&mut self) {
        // May be dropped inside an async context (a test ending), where a blocking shutdown
        // would panic.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Backend {
    /// Runs `f` with this backend's connection on the current thread: the SQLite connection
    /// (waiting for its lock), or a pooled PostgreSQL one (waiting for a free one; call from a
    /// thread that runs no async tasks).
    fn run<R>(&self, f: impl FnOnce(&dyn Sql) -> Result<R, ApiError>) -> Result<R, ApiError> {
        match self {
            Backend::Sqlite(conn) => {
                // A panic while holding the lock cannot leave SQLite half-written (statements
                // are atomic and transactions roll back), so a poisoned lock is still usable.
                let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
                f(&*guard)
            }
            Backend::Postgres { pool, .. } => f(&pool.connection()?),
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite(_) => "Db(SQLite)",
            Backend::Postgres { .. } => "Db(PostgreSQL)",
        })
    }
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Db {
    /// Opens the database at `location`: a `postgres://` URL (pool of
    /// [`DEFAULT_POOL_SIZE`]), a SQLite file (created if needed) or `:memory:` (a private
    /// in-memory SQLite database).
    pub fn open(location: &str) -> Result<Db, ApiError> {
        Db::open_with_pool(location, DEFAULT_POOL_SIZE)
    }

    /// [`Db::open`] with the PostgreSQL pool size (ignored for SQLite).
    pub fn open_with_pool(location: &str, pool_size: usize) -> Result<Db, ApiError> {
        if is_postgres_url(location) {
            return Db::postgres(location, pool_size);
        }
        let conn = if location == ":memory:" {
            Connection::open_in_memory()?
        } else {
            if let Some(dir) = Path::new(location).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        ApiError::Internal(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
            }
            Connection::open(location)?
        };
        schema::apply(&conn)?;
        // Every statement the server runs stays prepared (the default keeps 16, fewer than
        // the server has: evicted statements were parsed again, visible in a profile).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Db {
            backend: Backend::Sqlite(Arc::new(Mutex::new(conn))),
        })
    }

    fn postgres(url: &str, pool_size: usize) -> Result<Db, ApiError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sync-server-db")
            .enable_all()
            .build()
            .map_err(|e| ApiError::Internal(format!("cannot start the database runtime: {e}")))?;
        let pool = PgPool::new(url, pool_size.max(1), runtime.handle().clone())?;
        let db = Db {
            backend: Backend::Postgres {
                pool,
                _runtime: Arc::new(DbRuntime(Some(runtime))),
            },
        };
        db.with(schema::migrate_postgres)?;
        Ok(db)
    }

    /// Runs `f` with a connection and waits for it (CLI and tests; never from a request).
    pub fn with<R: Send>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<R, ApiError> + Send,
    ) -> Result<R, ApiError> {
        match &self.backend {
            Backend::Sqlite(_) => self.backend.run(f),
            // On a thread of its own: waiting for PostgreSQL must not happen on a thread
            // that runs async tasks.
            Backend::Postgres { .. } => std::thread::scope(|s| {
                s.spawn(|| self.backend.run(f))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }),
        }
    }

    /// Runs `work` unless another process sharing the database runs work under the same
    /// `lock` right now (then `None`): a PostgreSQL session advisory lock, held on a
    /// connection of its own for as long as `work` runs and released with that connection
    /// if the process dies. With SQLite, one process owns the database: `work` always runs.
    pub async fn exclusively<R, Fut>(
        &self,
        lock: i64,
        work: impl FnOnce() -> Fut,
    ) -> Result<Option<R>, ApiError>
    where
        Fut: Future<Output = Result<R, ApiError>>,
    {
        let Backend::Postgres { pool, .. } = &self.backend else {
            return work().await.map(Some);
        };
        let pool = pool.clone();
        let held = tokio::task::spawn_blocking(move || {
            let conn = pool.connection()?;
            let sql: &dyn Sql = &conn;
            let got = sql
                .query_one("SELECT pg_try_advisory_lock(?1)", args![lock])?
                .bool(0)?;
            Ok::<_, ApiError>(got.then_some(conn))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("database task failed: {e}")))??;
        let Some(conn) = held else {
            return Ok(None);
        };
        let result = work().await;
        let _ = tokio::task::spawn_blocking(move || {
            conn.execute("SELECT pg_advisory_unlock(?1)", args![lock])
        })
        .await;
        result.map(Some)
    }

    /// Runs `f` with a connection on a blocking thread, off the async executor.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || backend.run(f))
            .await
            .map_err(|e| ApiError::Internal(format!("database task failed: {e}")))?
    }
}
