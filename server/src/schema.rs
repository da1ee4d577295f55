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
