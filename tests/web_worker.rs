//! Browser suites run in a dedicated worker: no `window`, no DOM, only the worker global scope.
//!
//! The same modules as `web_window.rs` (see `tests/web/mod.rs`); code that assumes a window
//! fails here. Run with `make test-browser`.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

mod web;
