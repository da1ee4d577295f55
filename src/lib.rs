//! sync-core: an offline-first sync engine for hotel KPI dashboards.
//!
//! Layers, dependencies flowing one way: `bindings → web → engine → protocol`.
//! - [`protocol`]: the wire contract (docs/protocol.md), shared with the reference server.
//! - [`engine`]: platform-free sync logic over `Store` and `Transport` traits.
//! - `web` (wasm32 only): IndexedDB store and fetch transport.
//! - `bindings` (wasm32 only): the `#[wasm_bindgen]` surface; converts, calls, maps errors.

pub mod engine;
pub mod json;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
