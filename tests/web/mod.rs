//! Browser test modules shared by the `web_window` and `web_worker` test targets.
//!
//! Add a suite by adding a module here; it then runs in both contexts and, through
//! `make test-browser`, in headless Chromium and Firefox. Helpers in [`support`] work in any
//! global scope (window or worker) and give each test a fresh database name.

pub mod idb_atomicity;
pub mod idb_connection;
pub mod idb_fixtures;
pub mod idb_held_index;
pub mod idb_latest_batch;
pub mod idb_out_of_line_keys;
pub mod idb_replacement;
pub mod idb_snapshot_meta_gone;
pub mod idb_snapshot_reads;
pub mod idb_store;
pub mod idb_throughput;
pub mod idb_version_guard;
pub mod json_parse;
pub mod page_decode;
pub mod pull_changes;
pub mod pull_cold;
pub mod pull_faults;
pub mod pull_pipeline;
pub mod pull_refusals;
pub mod pull_retention;
pub mod pull_support;
pub mod pull_throughput;
pub mod push_bindings;
pub mod push_conflicts;
pub mod push_differential;
pub mod push_durability;
pub mod push_idb_fixtures;
pub mod push_idb_refusals;
pub mod push_idb_store;
pub mod push_latency;
pub mod push_offline;
pub mod push_outcomes;
pub mod push_raw;
pub mod push_replay;
pub mod push_store_model;
pub mod push_support;
pub mod server_admin;
pub mod smoke;
pub mod stored_records_fuzz;
pub mod support;
pub mod transport_clock;
pub mod transport_fetch;
