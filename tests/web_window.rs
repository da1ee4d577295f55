//! Browser suites run in a page (window context).
//!
//! Every module under `tests/web/` is compiled here and in `web_worker.rs`, so each browser
//! test runs both in a window and in a dedicated worker. Run with
//! `make test-browser`, which starts a reference server and sets `SYNC_SERVER_URL`.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod web;
