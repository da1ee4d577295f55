//! [`Sql`] on an embedded SQLite connection (rusqlite), with its statement cache.

use super::{Dialect, Sql, SqlRow, SqlValue};
use crate::error::ApiError;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql};

impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
            SqlValue::Int(n) => ToSqlOutput::Owned(Value::Integer(*n)),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            SqlValue::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn value(v: ValueRef<'_>) -> Result<SqlValue, ApiError> {
    Ok(match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(n) => SqlValue::Int(n),
        ValueRef::Real(x) => {
            return Err(ApiError::Internal(format!(
                "unexpected REAL {x} in a column"
            )))
        }
        ValueRef::Text(t) => SqlValue::Text(
            std::str::from_utf8(t)
                .map_err(|e| ApiError::Internal(format!("stored text is not UTF-8: {e}")))?
                .to_string(),
        ),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
    })
}

impl Sql for Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, args: &[SqlValue]) -> Result<usize, ApiError> {
        Ok(self.prepare_cached(sql)?.execute(params_from_iter(args))?)
    }

    fn query(&self, sql: &str, args: &[SqlValue]) -> Result<Vec<SqlRow>, ApiError> {
        let mut stmt = self.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(value(row.get_ref(i)?)?);
            }
            out.push(SqlRow(values));
        }
        Ok(out)
    }

    fn execute_batch(&self, sql: &str) -> Result<(), ApiError> {
        Ok(Connection::execute_batch(self, sql)?)
    }
}
