//! The reference sync server for sync-core: the wire contract (docs/protocol.md) over
//! SQLite or PostgreSQL ([`sql`], [`db`]) — pull, push and the authoring commands — with demo
//! data, a loopback-only admin API for tests, and a snapshot generator.
//!
//! Request flow: [`pull`] checks identity, paging, token ([`auth`]), cursor and injected
//! [`faults`], then [`page`] scans the change log written by [`log`], filtered by
//! [`visibility`] and stripped by [`privacy`]. [`push`] and [`authoring`] check identity
//! and token the same way, replay stored answers ([`idempotency`]), run under injected
//! faults ([`write_faults`]) and write through [`log`], so every change reaches devices
//! through pull.

pub mod activity;
pub mod app;
pub mod audience;
pub mod auth;
pub mod clock;
pub mod cors;
pub mod db;
pub mod epochs;
pub mod error;
pub mod faults;
pub mod generator;
pub mod idempotency;
pub mod log;
pub mod log_reads;
pub mod names;
pub mod page;
pub mod privacy;
pub mod purge;
pub mod push_apply;
pub mod push_history;
pub mod routes;
pub mod row_meta;
pub mod schema;
pub mod seed;
pub mod snapshots;
pub mod sql;
pub mod startup;
pub mod state;
pub mod timefmt;
pub mod users;
pub mod visibility;
pub mod wire;
pub mod write_faults;

pub use app::serve;
pub use db::Db;
pub use error::ApiError;
pub use routes::router;
pub use state::{cursor_key, AppState, ServerOptions, DEV_CURSOR_KEY, TEST_ADMIN_TOKEN};
