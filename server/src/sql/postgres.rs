//! [`Sql`] on PostgreSQL: tokio-postgres connections from a deadpool pool, every statement
//! prepared once per connection (`prepare_cached`).
//!
//! The contract logic is synchronous and runs on blocking threads (as it does for SQLite), so
//! each statement is driven to completion with [`Handle::block_on`] on the pool's own runtime:
//! the async client and its pool work as designed, and nothing blocks an executor thread.
//!
//! Failures that say the database is not reachable right now (connection lost, pool
//! exhausted, server shutting down, a serialization failure or deadlock) become
//! [`ApiError::Unavailable`], a retryable `503`; everything else is an internal error.

use super::{Dialect, Sql, SqlRow, SqlValue};
use crate::error::ApiError;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::error::Error as StdError;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

/// How long a request waits for a free connection before it answers `503`.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// How long opening a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `?1`, `?2`… (the common dialect of the server's SQL) as PostgreSQL's `$1`, `$2`…, outside
/// string literals.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if c == '?' && !quoted { '$' } else { c });
    }
    out
}

/// Whether a failure is the database being away or busy (worth a retry) rather than a bug.
fn transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            code.code().starts_with("08")
                || [
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::TOO_MANY_CONNECTIONS,
                ]
                .contains(code)
        }
        // No SQLSTATE: the error happened on the socket, not in the server.
        None => e.source().is_some_and(|s| s.is::<std::io::Error>()),
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        if transient(&e) {
            ApiError::Unavailable(format!("database: {e}"))
        } else {
            let detail = e.as_db_error().map_or_else(
                || e.to_string(),
                |d| format!("{}: {}", d.code().code(), d.message()),
            );
            ApiError::Internal(format!("database: {detail}"))
        }
    }
}

impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Int(n) => match *ty {
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => n.to_string().to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            SqlValue::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                _ => s.to_sql(ty, out),
            },
            SqlValue::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`: a wrong type fails there with a clear message.
        true
    }

    to_sql_checked!();
}

fn column(row: &tokio_postgres::Row, i: usize) -> Result<SqlValue, ApiError> {
    let ty = row.columns()[i].type_().clone();
    let value = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(SqlValue::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|n| SqlValue::Int(n.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|n| SqlValue::Int(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|b| SqlValue::Int(b.into())),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(SqlValue::Blob),
        _ => row.try_get::<_, Option<String>>(i)?.map(SqlValue::Text),
    };
    Ok(value.unwrap_or(SqlValue::Null))
}

/// A pool of connections to one database, with the runtime that drives them.
#[derive(Clone)]
pub struct PgPool {
    pool: Pool,
    runtime: Handle,
}

impl PgPool {
    /// A pool on `url` (`postgres://user:pass@host:port/db`) of at most `size` connections,
    /// driven by `runtime`. Connects lazily: the first statement opens the first connection.
    pub fn new(url: &str, size: usize, runtime: Handle) -> Result<PgPool, ApiError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| ApiError::Internal(format!("bad database URL: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("sync-server");
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection the server closed is seen as closed (`is_closed`) and replaced;
                // one that died silently fails its next statement with a retryable 503.
                // Verifying every checkout would cost a round trip per request.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| ApiError::Internal(format!("database pool: {e}")))?;
        Ok(PgPool { pool, runtime })
    }

    /// A connection for one unit of work. Call from a blocking thread.
    pub fn connection(&self) -> Result<PgConn, ApiError> {
        let pool = self.pool.clone();
        let client = self
            .runtime
            .block_on(async move { pool.get().await })
            .map_err(|e| ApiError::Unavailable(format!("no database connection: {e}")))?;
        Ok(PgConn {
            client,
            runtime: self.runtime.clone(),
        })
    }
}

/// One pooled connection, returned to the pool when dropped.
pub struct PgConn {
    client: Object,
    runtime: Handle,
}

impl PgConn {
    fn params(args: &[SqlValue]) -> Vec<&(dyn ToSql + Sync)> {
        args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
    }
}

impl Sql for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, args: &[SqlValue]) -> Result<usize, ApiError> {
        let sql = placeholders(sql);
        self.runtime.block_on(async {
            let statement = self.client.prepare_cached(&sql).await?;
            let n = self.client.execute(&statement, &Self::params(args)).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn query(&self, sql: &str, args: &[SqlValue]) -> Result<Vec<SqlRow>, ApiError> {
        let sql = placeholders(sql);
        let rows = self.runtime.block_on(async {
            let statement = self.client.prepare_cached(&sql).await?;
            self.client.query(&statement, &Self::params(args)).await
        })?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| column(row, i))
                    .collect::<Result<_, _>>()
                    .map(SqlRow)
            })
            .collect()
    }

    fn execute_batch(&self, sql: &str) -> Result<(), ApiError> {
        Ok(self.runtime.block_on(self.client.batch_execute(sql))?)
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_outside_literals() {
        assert_eq!(
            placeholders("SELECT ?1, '?x' FROM t WHERE a = ?2 AND b = 'it''s?'"),
            "SELECT $1, '?x' FROM t WHERE a = $2 AND b = 'it''s?'"
        );
    }
}
