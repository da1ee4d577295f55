//! IndexedDB: the connection and its schema, the page commit, the outbox, the reads, and the
//! JS snippets (`batch.js`, `page_decode.js`, `held_index.js`) that issue requests and decode pages without a
//! round trip through wasm.

pub(crate) mod batch;
pub(crate) mod connection;
pub mod error;
pub(crate) mod handle;
pub(crate) mod held_index;
pub(crate) mod migration;
pub(crate) mod outbox;
pub(crate) mod outbox_dead;
pub(crate) mod outbox_decode;
pub(crate) mod outbox_records;
pub(crate) mod outbox_settle;
pub(crate) mod outbox_store;
pub(crate) mod outbox_tx;
pub(crate) mod page_commit;
pub mod page_decode;
pub(crate) mod reads;
pub mod records;
pub(crate) mod replacement;
pub mod schema;
pub mod store;
pub mod transaction;
pub(crate) mod version_guard;
pub(crate) mod write_sets;
