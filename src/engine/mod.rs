//! Platform-free sync logic: no wasm-bindgen, web-sys, js-sys, idb or gloo here.

pub mod clock;
pub mod store;
pub mod transport;

pub use clock::{Clock, Random};
pub use store::{
    ApplyPlan, LocalState, SnapshotMeta, StateRequest, Store, StoreError, StoredRow,
    StoredSnapshot, SyncMeta,
};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
