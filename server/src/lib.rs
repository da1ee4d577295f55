//! The reference sync server for sync-core: the pull side of the wire contract
//! (docs/protocol.md) over SQLite, demo data, a loopback-only admin API for tests, and a
//! snapshot generator.
//!
//! Request flow: [`pull`] checks identity, paging, token ([`auth`]), cursor and injected
//! [`faults`], then [`page`] scans the change log written by [`log`], filtered by
//! [`visibility`] and stripped by [`privacy`].

pub mod activity;
pub mod admin;
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
pub mod log;
pub mod page;
pub mod privacy;
pub mod pull;
pub mod row_meta;
pub mod schema;
pub mod seed;
pub mod snapshots;
pub mod timefmt;
pub mod users;
pub mod visibility;
pub mod wire;

pub use app::{cursor_key, router, serve, AppState, ServerOptions, DEV_CURSOR_KEY};
pub use db::Db;
pub use error::ApiError;
