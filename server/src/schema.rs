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
//! Push (`POST /internal/sync/push`) will add an idempotency table and an applied-op table
//! beside these; Query rows already carry the `version` that push compares against.

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
"#;

/// Creates the tables if they are missing and sets the pragmas a single-writer server wants.
pub fn apply(conn: &Connection) -> rusqlite::Result<()> {
    // WAL is refused for in-memory databases, which is fine: the pragma then answers "memory".
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")?;
    conn.execute_batch(SCHEMA)
}
