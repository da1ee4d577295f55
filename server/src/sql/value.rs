//! Values crossing the storage seam: the four column types the server stores (integers,
//! text, bytes, NULL), whichever database holds them. Booleans are stored as 0/1 integers in
//! both, so the same SQL reads them the same way.

use crate::error::ApiError;

/// One parameter or column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// What a query parameter can be made from (borrowed, so `args!` never moves a field).
pub trait ToSqlValue {
    fn to_sql_value(&self) -> SqlValue;
}

impl<T: ToSqlValue + ?Sized> ToSqlValue for &T {
    fn to_sql_value(&self) -> SqlValue {
        (**self).to_sql_value()
    }
}

impl<T: ToSqlValue> ToSqlValue for Option<T> {
    fn to_sql_value(&self) -> SqlValue {
        self.as_ref()
            .map_or(SqlValue::Null, ToSqlValue::to_sql_value)
    }
}

impl ToSqlValue for str {
    fn to_sql_value(&self) -> SqlValue {
        SqlValue::Text(self.to_string())
    }
}

impl ToSqlValue for String {
    fn to_sql_value(&self) -> SqlValue {
        SqlValue::Text(self.clone())
    }
}

impl ToSqlValue for [u8] {
    fn to_sql_value(&self) -> SqlValue {
        SqlValue::Blob(self.to_vec())
    }
}

impl ToSqlValue for Vec<u8> {
    fn to_sql_value(&self) -> SqlValue {
        SqlValue::Blob(self.clone())
    }
}

impl ToSqlValue for bool {
    fn to_sql_value(&self) -> SqlValue {
        SqlValue::Int(i64::from(*self))
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToSqlValue for $t {
            fn to_sql_value(&self) -> SqlValue {
                // Every integer the server stores (positions, versions, times in ms,
                // counts) fits an i64.
                SqlValue::Int(*self as i64)
            }
        }
    )*};
}
integers!(i64, i32, u64, u32, u16, usize);

/// The parameters of one statement: `args![tenant, kind.as_str(), version]`.
#[macro_export]
macro_rules! args {
    ($($x:expr),* $(,)?) => {
        &[$($crate::sql::ToSqlValue::to_sql_value(&$x)),*][..]
    };
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlRow(pub Vec<SqlValue>);

fn wrong(i: usize, want: &str, got: &SqlValue) -> ApiError {
    ApiError::Internal(format!("column {i}: expected {want}, found {got:?}"))
}

impl SqlRow {
    fn at(&self, i: usize) -> Result<&SqlValue, ApiError> {
        self.0
            .get(i)
            .ok_or_else(|| ApiError::Internal(format!("no column {i}")))
    }

    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, ApiError> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            SqlValue::Int(n) => Ok(Some(*n)),
            other => Err(wrong(i, "an integer", other)),
        }
    }

    pub fn i64(&self, i: usize) -> Result<i64, ApiError> {
        self.opt_i64(i)?
            .ok_or_else(|| wrong(i, "an integer", &SqlValue::Null))
    }

    /// A non-negative integer (positions, versions, counts).
    pub fn u64(&self, i: usize) -> Result<u64, ApiError> {
        let n = self.i64(i)?;
        u64::try_from(n).map_err(|_| wrong(i, "a non-negative integer", &SqlValue::Int(n)))
    }

    pub fn opt_u64(&self, i: usize) -> Result<Option<u64>, ApiError> {
        self.opt_i64(i)?
            .map(|n| {
                u64::try_from(n).map_err(|_| wrong(i, "a non-negative integer", &SqlValue::Int(n)))
            })
            .transpose()
    }

    /// A 0/1 flag.
    pub fn bool(&self, i: usize) -> Result<bool, ApiError> {
        Ok(self.i64(i)? != 0)
    }

    pub fn opt_str(&self, i: usize) -> Result<Option<&str>, ApiError> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            SqlValue::Text(s) => Ok(Some(s)),
            other => Err(wrong(i, "text", other)),
        }
    }

    pub fn str(&self, i: usize) -> Result<&str, ApiError> {
        self.opt_str(i)?
            .ok_or_else(|| wrong(i, "text", &SqlValue::Null))
    }

    pub fn string(&self, i: usize) -> Result<String, ApiError> {
        self.str(i).map(str::to_string)
    }

    /// Moves a text column out of the row (it reads as empty text afterwards): a page's bodies go
    /// into the page without a copy.
    pub fn take_string(&mut self, i: usize) -> Result<String, ApiError> {
        match self.0.get_mut(i) {
            Some(SqlValue::Text(s)) => Ok(std::mem::take(s)),
            Some(other) => Err(wrong(i, "text", other)),
            None => Err(ApiError::Internal(format!("no column {i}"))),
        }
    }

    pub fn opt_string(&self, i: usize) -> Result<Option<String>, ApiError> {
        Ok(self.opt_str(i)?.map(str::to_string))
    }

    pub fn blob(&self, i: usize) -> Result<Vec<u8>, ApiError> {
        match self.at(i)? {
            SqlValue::Blob(b) => Ok(b.clone()),
            // SQLite hands back text stored in a BLOB column as text.
            SqlValue::Text(s) => Ok(s.clone().into_bytes()),
            other => Err(wrong(i, "bytes", other)),
        }
    }
}
