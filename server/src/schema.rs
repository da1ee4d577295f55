//! The SQLite schema.
//!
//! Every replicated row of every kind lives once in `rows` with its current state, its
//! `version`, a `deleted` flag and the `position` of its last change, taken from the
//! tenant's strictly increasing sequence (`tenants.last_position`). "Changes since p" is
//! then `position > p ORDER BY position`, which serves each key once with its latest state,
//! tombstones included. Snapshots are rows too (kind `WidgetSnapshot`, key
//! `widgetId|generatedAt`), appended with their own position and never updated.
//! `first_position` lets a page skip tombstones of rows a device cannot hold:
//! a row first written after the device's position was never sent to it.
//!
//!
//! The write side keeps three more tables, all durable so a restart never forgets what was
//! applied: `push_ops` (the first result of every applied op, which makes an op id apply
//! at most once under any idempotency key), `push_applications` (an append-only record of
//! every application, the independent witness `/admin/push-log` counts from) and
//! `idempotent_answers` (the first answer per `Idempotency-Key`, replayed byte-for-byte).

use rusqlite::Connection;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    last_position INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS users (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    token_sha256  TEXT NOT NULL,
    role          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    properties    TEXT,              -- JSON array of property ids; NULL = every property
    revoked       INTEGER NOT NULL DEFAULT 0,
    revoked_kinds TEXT,              -- JSON array of kinds; NULL = all kinds
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE IF NOT EXISTS epochs (
    tenant_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, kind)
);
CREATE TABLE IF NOT EXISTS rows (
    tenant_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    version       INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    position      INTEGER NOT NULL,  -- of the last change
    first_position INTEGER NOT NULL, -- position of the first write of this key
    parent_id     TEXT,              -- Widget: dashboardId; WidgetSnapshot: widgetId
    owner_id      TEXT,              -- Query: ownerId
    ts_ms         INTEGER,           -- WidgetSnapshot: generatedAt; DqAlertOpen: observedAt
    bytes_scanned INTEGER,           -- WidgetSnapshot: provenance.bytesScanned
    body          TEXT NOT NULL,     -- the full server-side row as JSON
    PRIMARY KEY (tenant_id, kind, key)
);
CREATE UNIQUE INDEX IF NOT EXISTS rows_log ON rows (tenant_id, position);
CREATE INDEX IF NOT EXISTS rows_parent ON rows (tenant_id, kind, parent_id, ts_ms);
CREATE TABLE IF NOT EXISTS push_ops (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    op_id      TEXT NOT NULL,
    query_id   TEXT NOT NULL,
    result     TEXT NOT NULL,        -- the first PushResult as JSON
    applied_ms INTEGER NOT NULL,
    duplicates INTEGER NOT NULL DEFAULT 0, -- later deliveries answered from `result`
    PRIMARY KEY (tenant_id, user_id, op_id)
);
CREATE TABLE IF NOT EXISTS push_applications (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    op_id      TEXT NOT NULL,
    query_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    applied_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_applications_op ON push_applications (tenant_id, op_id);
CREATE INDEX IF NOT EXISTS push_applications_user ON push_applications (tenant_id, user_id, position);
CREATE TABLE IF NOT EXISTS fresh_requests (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,     -- wall clock of the last admitted fresh=true
    PRIMARY KEY (tenant_id, user_id, device_id)
);
CREATE INDEX IF NOT EXISTS fresh_requests_at ON fresh_requests (at_ms);
CREATE TABLE IF NOT EXISTS tenant_activity (
    tenant_id     TEXT PRIMARY KEY,
    last_pull_ms  INTEGER,           -- simulated time of a recent pull; NULL: none yet
    last_fresh_ms INTEGER            -- simulated time of the last admitted fresh=true
);
CREATE TABLE IF NOT EXISTS idempotent_answers (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scope      TEXT NOT NULL,        -- 'push' or 'command': the two key spaces never mix
    key        TEXT NOT NULL,
    status     INTEGER NOT NULL,
    body       BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    replays    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, user_id, scope, key)
);
"#;

/// Creates the tables if they are missing and sets the pragmas a single-writer server wants.
pub fn apply(conn: &Connection) -> rusqlite::Result<()> {
    // WAL is refused for in-memory databases, which is fine: the pragma then answers "memory".
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")?;
    conn.execute_batch(SCHEMA)
}

/// The PostgreSQL schema, as numbered migrations applied in order at start (`schema_migrations`
/// records which ran). The same tables as SQLite's, with PostgreSQL types: every integer is
/// `BIGINT` (positions, versions, times in ms), bodies of answers are `BYTEA`, and the write
/// history tables carry an identity column `rid` where SQLite has its implicit `rowid`.
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    last_position BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE users (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    token_sha256  TEXT NOT NULL,
    role          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    properties    TEXT,
    revoked       BIGINT NOT NULL DEFAULT 0,
    revoked_kinds TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE epochs (
    tenant_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    epoch     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, kind)
);
CREATE TABLE rows (
    tenant_id      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    version        BIGINT NOT NULL,
    deleted        BIGINT NOT NULL DEFAULT 0,
    position       BIGINT NOT NULL,
    first_position BIGINT NOT NULL,
    parent_id      TEXT,
    owner_id       TEXT,
    ts_ms          BIGINT,
    bytes_scanned  BIGINT,
    body           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, key)
);
CREATE UNIQUE INDEX rows_log ON rows (tenant_id, position);
CREATE INDEX rows_parent ON rows (tenant_id, kind, parent_id, ts_ms);
CREATE TABLE push_ops (
    rid        BIGINT GENERATED ALWAYS AS IDENTITY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    op_id      TEXT NOT NULL,
    query_id   TEXT NOT NULL,
    result     TEXT NOT NULL,
    applied_ms BIGINT NOT NULL,
    duplicates BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, user_id, op_id)
);
CREATE TABLE push_applications (
    rid        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    op_id      TEXT NOT NULL,
    query_id   TEXT NOT NULL,
    version    BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    applied_ms BIGINT NOT NULL
);
CREATE INDEX push_applications_op ON push_applications (tenant_id, op_id);
CREATE INDEX push_applications_user ON push_applications (tenant_id, user_id, position);
CREATE TABLE idempotent_answers (
    rid        BIGINT GENERATED ALWAYS AS IDENTITY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    status     BIGINT NOT NULL,
    body       BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    replays    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, user_id, scope, key)
);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE fresh_requests (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, device_id)
);
CREATE INDEX fresh_requests_at ON fresh_requests (at_ms);
CREATE TABLE tenant_activity (
    tenant_id     TEXT PRIMARY KEY,
    last_pull_ms  BIGINT,
    last_fresh_ms BIGINT
);
"#,
    ),
];

/// An arbitrary constant: the advisory lock that lets one process at a time migrate, so
/// replicas starting together do not race.
const MIGRATION_LOCK: i64 = 0x7379_6e63_6d69_6772;

/// Applies the PostgreSQL migrations that have not run yet, each in its own transaction.
pub fn migrate_postgres(conn: &dyn crate::sql::Sql) -> Result<(), crate::error::ApiError> {
    use crate::args;
    conn.execute("SELECT pg_advisory_lock(?1)", args![MIGRATION_LOCK])?;
    let result = (|| {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )?;
        for (version, sql) in POSTGRES_MIGRATIONS {
            let done = conn
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    args![version],
                )?
                .is_some();
            if !done {
                crate::sql::transaction(conn, crate::sql::TxMode::Write, |tx| {
                    tx.execute_batch(sql)?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version) VALUES (?1)",
                        args![version],
                    )?;
                    Ok(())
                })?;
                tracing::info!(version, "applied schema migration");
            }
        }
        Ok(())
    })();
    conn.execute("SELECT pg_advisory_unlock(?1)", args![MIGRATION_LOCK])?;
    result
}
