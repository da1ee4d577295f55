//! The native engine tests, one binary by concept (`cargo test -p sync-core --test engine`):
//! `pull/`, `push/`, `store/`, `net/`, with the builders, harnesses and fakes they share in
//! `support/`. The engine's doubles come from the crate's `testing` feature.
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod support;

mod net;
mod pull;
mod push;
mod store;
mod typescript;
