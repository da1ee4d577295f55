//! The browser half (wasm32 only): the IndexedDB [`Store`](crate::engine::Store), the fetch
//! [`Transport`](crate::engine::Transport), and the browser clock and randomness the engine
//! takes by injection. Nothing here assumes a `window`: everything is looked up on the
//! global scope, so the same code runs in a window, a dedicated worker and Electron.

pub mod clock;
mod connection;
pub mod fetch_transport;
mod global_scope;
mod host_token;
mod idb_batch;
pub mod idb_error;
mod idb_outbox;
mod idb_outbox_dead;
mod idb_outbox_decode;
mod idb_outbox_records;
mod idb_outbox_settle;
mod idb_outbox_tx;
mod idb_page_commit;
mod idb_reads;
mod idb_replacement;
pub mod idb_store;
mod idb_version_guard;
mod migration;
pub mod page_decode;
pub mod records;
pub mod schema;
mod shared_connection;
pub mod transaction;
mod write_sets;

pub use clock::{WebClock, WebRandom};
pub use fetch_transport::FetchTransport;
pub use host_token::DEFAULT_TOKEN_TIMEOUT_MS;
pub use idb_error::IdbError;
pub use idb_store::IdbStore;
pub use page_decode::JsRow;
pub use transaction::{Durability, WriteTransaction};
