//! Caps on the stored write history (PROTOCOL §9.10: every internal queue is bounded).
//! Stored idempotent answers, the op-id record and the append-only application record
//! grow with every request, so each keeps only the newest entries per user and drops the
//! oldest beyond the cap.
//!
//! Why these caps are safe: a client retries a lost answer within minutes and never
//! resends an op after it got its result, so by the time an entry is evicted nothing
//! asks for it any more. Evicting an answer means a very late replay of that key runs
//! as a new request (the op-id record still keeps its ops from applying twice);
//! evicting an op id means a much later resend of that op would apply again.

use crate::args;
use crate::error::ApiError;
use crate::sql::{Dialect, Sql};

/// Stored answers kept per (tenant, user, scope).
pub const MAX_ANSWERS: usize = 1_000;
/// Applied op ids (and their application records) kept per (tenant, user).
pub const MAX_OPS: usize = 10_000;

/// The insertion-order row id and "no limit" of the dialect: SQLite's implicit `rowid` and
/// `LIMIT -1`; PostgreSQL's identity column `rid` (schema) and `LIMIT ALL`.
fn row_id_and_all(conn: &dyn Sql) -> (&'static str, &'static str) {
    match conn.dialect() {
        Dialect::Sqlite => ("rowid", "-1"),
        Dialect::Postgres => ("rid", "ALL"),
    }
}

/// Drops the oldest stored answers of (tenant, user, scope) beyond `cap`.
pub fn cap_answers(
    conn: &dyn Sql,
    tenant: &str,
    user: &str,
    scope: &str,
    cap: usize,
) -> Result<usize, ApiError> {
    let (rid, all) = row_id_and_all(conn);
    conn.execute(
        &format!(
            "DELETE FROM idempotent_answers WHERE {rid} IN (
               SELECT {rid} FROM idempotent_answers
               WHERE tenant_id = ?1 AND user_id = ?2 AND scope = ?3
               ORDER BY created_ms DESC, {rid} DESC LIMIT {all} OFFSET ?4)"
        ),
        args![tenant, user, scope, cap],
    )
}

/// Drops the oldest applied op ids and application records of (tenant, user) beyond `cap`.
pub fn cap_ops(conn: &dyn Sql, tenant: &str, user: &str, cap: usize) -> Result<usize, ApiError> {
    let (rid, all) = row_id_and_all(conn);
    let ops = conn.execute(
        &format!(
            "DELETE FROM push_ops WHERE {rid} IN (
               SELECT {rid} FROM push_ops WHERE tenant_id = ?1 AND user_id = ?2
               ORDER BY applied_ms DESC, {rid} DESC LIMIT {all} OFFSET ?3)"
        ),
        args![tenant, user, cap],
    )?;
    let applications = conn.execute(
        &format!(
            "DELETE FROM push_applications WHERE {rid} IN (
               SELECT {rid} FROM push_applications WHERE tenant_id = ?1 AND user_id = ?2
               ORDER BY position DESC LIMIT {all} OFFSET ?3)"
        ),
        args![tenant, user, cap],
    )?;
    Ok(ops + applications)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{params, Connection};

    #[test]
    fn the_newest_are_kept() {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::apply(&conn).unwrap();
        for i in 0..10 {
            for user in ["usr_a", "usr_b"] {
                conn.execute(
                    "INSERT INTO idempotent_answers (tenant_id, user_id, scope, key, status, body, created_ms)
                     VALUES ('tnt', ?1, 'push', ?2, 200, x'', ?3)",
                    params![user, format!("k{i}"), i],
                )
                .unwrap();
                conn.execute(
                    "INSERT INTO push_ops (tenant_id, user_id, op_id, query_id, result, applied_ms)
                     VALUES ('tnt', ?1, ?2, 'qry_1', '{}', ?3)",
                    params![user, format!("op_{i}"), i],
                )
                .unwrap();
                conn.execute(
                    "INSERT INTO push_applications (tenant_id, user_id, op_id, query_id, version, position, applied_ms)
                     VALUES ('tnt', ?1, ?2, 'qry_1', 1, ?3, ?3)",
                    params![user, format!("op_{i}"), i],
                )
                .unwrap();
            }
        }
        assert_eq!(cap_answers(&conn, "tnt", "usr_a", "push", 3).unwrap(), 7);
        assert_eq!(cap_ops(&conn, "tnt", "usr_a", 4).unwrap(), 12);
        let keys: Vec<String> = conn
            .prepare("SELECT key FROM idempotent_answers WHERE user_id = 'usr_a' ORDER BY key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys, ["k7", "k8", "k9"]);
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT COUNT(*) FROM push_ops WHERE user_id = 'usr_a' AND op_id >= 'op_6'"),
            4
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM push_applications WHERE user_id = 'usr_a'"),
            4
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM idempotent_answers WHERE user_id = 'usr_b'"),
            10,
            "other users untouched"
        );
    }
}
