//! The browser half (wasm32 only): the IndexedDB [`Store`](crate::engine::Store), the fetch
//! [`Transport`](crate::engine::Transport), and the browser clock and randomness the engine
//! takes by injection. Nothing here assumes a `window`: everything is looked up on the
//! global scope, so the same code runs in a window, a dedicated worker and Electron.

pub mod clock;
mod global_scope;
pub mod idb;
pub mod net;

pub use clock::{WebClock, WebRandom};
pub use idb::error::IdbError;
pub use idb::page_decode::JsRow;
pub use idb::store::IdbStore;
pub use idb::transaction::{Durability, WriteTransaction};
pub use net::fetch_transport::FetchTransport;
pub use net::host_token::DEFAULT_TOKEN_TIMEOUT_MS;
