//! The browser build's JSON parsing (see `json.rs` for why): `JSON.parse` and
//! serde-wasm-bindgen, in place of serde_json's parser. A leaf like `json.rs` itself (it names
//! nothing of the crate but `JsonError`), so the engine reading JSON does not depend on `web/`.

use crate::json::JsonError;
use js_sys::{JsString, JSON};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string, which `js_sys::JSON::parse` (taking `&str`) would copy
    /// into wasm and back.
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = parse)]
    fn parse_js_string(text: &JsString) -> Result<JsValue, JsValue>;
}

/// What `JSON.parse` threw (a `SyntaxError`): the text is not JSON.
fn not_json(e: JsValue) -> JsonError {
    let message = js_sys::Reflect::get(&e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "not JSON".to_string());
    JsonError {
        message,
        not_json: true,
    }
}

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_js(JSON::parse(text).map_err(not_json)?)
}

pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => from_str(text),
        Err(_) => Err(JsonError {
            message: "not UTF-8".to_string(),
            not_json: true,
        }),
    }
}

/// A `T` from the JSON of a JS value (a stored record, an argument): what
/// `JSON.parse(JSON.stringify(value))` gives, so a value JSON cannot hold (a BigInt, a cycle)
/// is refused as not JSON, and `undefined` fields are dropped. The text stays in JS.
pub fn from_json_of<T: DeserializeOwned>(value: &JsValue) -> Result<T, JsonError> {
    let text = JSON::stringify(value).map_err(not_json)?;
    if !text.is_string() {
        // `undefined`, a function, a symbol: `JSON.stringify` returns `undefined`.
        return Err(JsonError {
            message: "no JSON text".to_string(),
            not_json: true,
        });
    }
    from_js(parse_js_string(&text).map_err(not_json)?)
}

/// A `T` from the JS value of its JSON text (what `JSON.parse` returned).
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, JsonError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsonError {
        message: e.to_string(),
        not_json: false,
    })
}
