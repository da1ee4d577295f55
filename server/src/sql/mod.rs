//! The storage seam: the contract logic (paging, visibility, privacy, idempotency, the log,
//! epochs, the generator) reads and writes through [`Sql`], a connection that runs
//! parameterised statements, and never names a database driver. SQLite (embedded, one
//! connection) and PostgreSQL (a pool shared by any number of server processes) implement
//! it; [`crate::db::Db`] hands the right one to each request.
//!
//! The SQL is written once, in the common subset of both dialects (`?1` placeholders,
//! `ON CONFLICT … DO UPDATE`, `RETURNING`); the few statements that cannot be (row ids,
//! JSON aggregation) ask [`Sql::dialect`].

mod postgres;
mod sqlite;
mod value;

pub use postgres::{PgConn, PgPool};
pub use value::{SqlRow, SqlValue, ToSqlValue};

use crate::error::ApiError;

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A database connection as the contract logic sees it.
pub trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; the number of rows it changed.
    fn execute(&self, sql: &str, args: &[SqlValue]) -> Result<usize, ApiError>;
    /// Runs one statement and returns every row it produced (`SELECT`, `… RETURNING`).
    fn query(&self, sql: &str, args: &[SqlValue]) -> Result<Vec<SqlRow>, ApiError>;
    /// Runs statements without parameters (schema, `BEGIN`, `COMMIT`).
    fn execute_batch(&self, sql: &str) -> Result<(), ApiError>;
}

impl dyn Sql + '_ {
    /// The first row, if any.
    pub fn query_opt(&self, sql: &str, args: &[SqlValue]) -> Result<Option<SqlRow>, ApiError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row; an internal error when there is none.
    pub fn query_one(&self, sql: &str, args: &[SqlValue]) -> Result<SqlRow, ApiError> {
        self.query_opt(sql, args)?
            .ok_or_else(|| ApiError::Internal(format!("no row from: {sql}")))
    }
}

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads that must see one consistent state (a pull page).
    Read,
    /// Reads and writes that land together or not at all.
    Write,
}

/// Rolls back on drop unless committed, so an error or a panic inside never leaves a
/// transaction open on a pooled or shared connection.
struct Open<'a> {
    conn: &'a dyn Sql,
    done: bool,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Runs `f` inside the current transaction so that an `Err` undoes only what `f` wrote (a
/// refused authoring command leaves the stored answer to be written after it).
pub fn savepoint<R>(
    conn: &dyn Sql,
    f: impl FnOnce(&dyn Sql) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    conn.execute_batch("SAVEPOINT step")?;
    match f(conn) {
        Ok(r) => {
            conn.execute_batch("RELEASE SAVEPOINT step")?;
            Ok(r)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO SAVEPOINT step; RELEASE SAVEPOINT step")?;
            Err(e)
        }
    }
}

/// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
pub fn transaction<R>(
    conn: &dyn Sql,
    mode: TxMode,
    f: impl FnOnce(&dyn Sql) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let begin = match (conn.dialect(), mode) {
        (Dialect::Sqlite, TxMode::Read) => "BEGIN",
        // The write lock at once: two processes on one file never deadlock upgrading.
        (Dialect::Sqlite, TxMode::Write) => "BEGIN IMMEDIATE",
        // One snapshot for the whole page, as SQLite's single connection gives.
        (Dialect::Postgres, TxMode::Read) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        (Dialect::Postgres, TxMode::Write) => "BEGIN",
    };
    conn.execute_batch(begin)?;
    let mut open = Open { conn, done: false };
    let result = f(conn)?;
    open.done = true;
    conn.execute_batch("COMMIT")?;
    Ok(result)
}
