//! JSON text to Rust values: the one door for every JSON text the crate reads (HTTP bodies,
//! stored push requests and index parts, the texts the IndexedDB helpers hand to wasm).
//!
//! Natively (the engine's tests, the reference server, tools) it is serde_json. In the browser
//! build the text is parsed by the JS engine's own `JSON.parse` and converted with
//! serde-wasm-bindgen (`json/browser.rs`): serde_json's parser and its instances for every type
//! read were ≈ 20 KB of the shipped gzip (BENCHMARKS.md, "Size"), and `JSON.parse` is what
//! every row reaches the page through anyway, so its numbers are the numbers the user sees.
//! Writing JSON text stays `serde_json::to_string` everywhere (its writer is small and, for a
//! page's writes, 3.5× faster than building the objects through serde-wasm-bindgen, see
//! `web/idb/records.rs`), as do `serde_json::Value` and `to_value`/`from_value`, which are
//! not text.

use serde::de::DeserializeOwned;
use std::fmt;

/// Why a text is not the JSON of the type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub message: String,
    /// The text is not JSON at all (cut off, or not JSON to begin with), as opposed to JSON
    /// of another shape: a push answer that is not JSON is retried, one of the wrong shape
    /// is not (`push/outcome.rs`).
    pub not_json: bool,
}

impl JsonError {
    /// The text is not JSON (see [`JsonError::not_json`]).
    pub fn is_not_json(&self) -> bool {
        self.not_json
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonError {}

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
use browser as imp;
#[cfg(target_arch = "wasm32")]
pub use browser::from_json_of;

/// Parses `text` as the JSON of a `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    imp::from_str(text)
}

/// Parses UTF-8 `bytes` (an HTTP body) as the JSON of a `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    imp::from_slice(bytes)
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::JsonError;
    use serde::de::DeserializeOwned;

    fn error(e: serde_json::Error) -> JsonError {
        JsonError {
            not_json: e.is_eof() || e.is_syntax(),
            message: e.to_string(),
        }
    }

    pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
        serde_json::from_str(text).map_err(error)
    }

    pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
        serde_json::from_slice(bytes).map_err(error)
    }
}
