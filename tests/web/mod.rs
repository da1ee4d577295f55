//! Browser test modules shared by the `web_window` and `web_worker` test targets.
//!
//! Add a suite by adding a module here; it then runs in both contexts and, through
//! `make test-browser`, in headless Chromium and Firefox. Helpers in [`support`] work in any
//! global scope (window or worker) and give each test a fresh database name.

pub mod idb_atomicity;
pub mod idb_fixtures;
pub mod idb_store;
pub mod idb_throughput;
pub mod smoke;
pub mod support;
pub mod transport_clock;
pub mod transport_fetch;
