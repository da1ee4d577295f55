//! The reads and the outbox semantics the stores share.

mod latest_snapshots;
mod outbox;
mod reads;
