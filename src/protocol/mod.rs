//! The wire contract (docs/protocol.md): kinds, pull pages, push batches, cursors, identity.
//! Shared by the client engine and the reference server; no I/O here.

pub mod cursor;
pub mod identity;
pub mod kind;
mod kind_set;
pub mod pull;
pub mod push;
mod wire_page;

pub use kind::{Kind, Policy};
pub use kind_set::{KindCounts, KindSet};
pub use pull::{parse_pull_page, PageError, PullItem, PullPage, Row};
