//! The browser build's JSON parsing (`sync_core::json`: `JSON.parse` and serde-wasm-bindgen
//! in place of serde_json's parser, `src/json/browser.rs`) against serde_json, which it replaced:
//! the same values up to what a JS number can hold (compared by their canonical JSON, the
//! form digests are taken of, PROTOCOL §6), the same typed results and refusals, and the
//! same split between a text that is not JSON (a cut-off push answer, retried) and JSON of
//! the wrong shape (refused).

use super::page_decode::{value, Gen};
use super::support::Xorshift;
use serde::Deserialize;
use serde_json::Value;
use sync_core::engine::canonical_json;
use sync_core::json;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn generated_values_read_as_serde_json_reads_them() {
    let mut g = Gen(Xorshift(0x9e37_79b9_7f4a_7c15), false);
    for i in 0..2000 {
        let original = value(&mut g, 0);
        let text = serde_json::to_string(&original).unwrap();
        let ours: Value = json::from_str(&text).unwrap_or_else(|e| panic!("{i}: {text}: {e}"));
        let reference: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            canonical_json(&ours),
            canonical_json(&reference),
            "{i}: {text}"
        );
        let bytes: Value = json::from_slice(text.as_bytes()).unwrap();
        assert_eq!(bytes, ours, "{i}: {text}");
    }
}

#[wasm_bindgen_test]
fn numbers_read_as_js_reads_them() {
    for (text, canonical) in [
        ("123456789012345680000", "123456789012345680000"),
        ("9007199254740991", "9007199254740991"),
        ("12.0", "12"),
        ("-0", "0"),
        ("1E-7", "1e-7"),
        ("[1e21, 0.1]", "[1e+21,0.1]"),
    ] {
        let ours: Value = json::from_str(text).unwrap();
        assert_eq!(canonical_json(&ours), canonical, "{text}");
    }
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    op_id: String,
    version: Option<u64>,
    results: Vec<(String, u64)>,
}

#[wasm_bindgen_test]
fn typed_reads_and_refusals_match_serde_json() {
    let texts = [
        r#"{"opId":"a","version":3,"results":[["k",1]]}"#,
        r#"{"opId":"a","version":null,"results":[],"extra":{"x":[1]}}"#,
        r#"{"opId":"a","results":[]}"#,
        r#"{"opId":"a","version":1.5,"results":[]}"#,
        r#"{"opId":"a","version":-1,"results":[]}"#,
        r#"{"opId":7,"results":[]}"#,
        r#"{"version":1,"results":[]}"#,
        r#"{"opId":"a","results":[["k"]]}"#,
        r#"[1,2]"#,
        r#""text""#,
        r#"null"#,
    ];
    for text in texts {
        let ours = json::from_str::<Answer>(text);
        let reference = serde_json::from_str::<Answer>(text);
        match (&ours, &reference) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(e), Err(_)) => assert!(!e.is_not_json(), "{text}: JSON of the wrong shape"),
            _ => panic!("{text}: ours {ours:?}, serde_json {reference:?}"),
        }
    }
}

#[wasm_bindgen_test]
fn a_text_that_is_not_json_says_so() {
    for text in [
        "",
        r#"{"opId":"a","#,
        r#"{"opId":"a"} trailing"#,
        "<html>502 Bad Gateway</html>",
        "{'opId':'a'}",
        "[1,]",
    ] {
        let e = json::from_str::<Value>(text).unwrap_err();
        assert!(e.is_not_json(), "{text:?}: {e}");
        assert!(serde_json::from_str::<Value>(text).is_err(), "{text:?}");
    }
    let e = json::from_slice::<Value>(b"\"\xff\"").unwrap_err();
    assert!(e.is_not_json(), "invalid UTF-8: {e}");
}

/// Stored records are read as their JSON (`from_json_of`): the same values as through the JSON
/// text, and a value JSON cannot hold refused as not JSON.
#[wasm_bindgen_test]
fn a_js_value_reads_as_its_json_text_does() {
    use sync_core::json::from_json_of;
    let mut g = Gen(Xorshift(0x2545_f491_4f6c_dd1d), false);
    for i in 0..500 {
        let text = serde_json::to_string(&value(&mut g, 0)).unwrap();
        let object = js_sys::JSON::parse(&text).unwrap();
        let ours: Value = from_json_of(&object).unwrap_or_else(|e| panic!("{i}: {text}: {e}"));
        assert_eq!(ours, json::from_str::<Value>(&text).unwrap(), "{i}: {text}");
    }
    let with_undefined = js_sys::eval("({a: 1, b: undefined})").unwrap();
    let read: Value = from_json_of(&with_undefined).unwrap();
    assert_eq!(read, serde_json::json!({"a": 1}));
    for not_json in ["({a: 5n})", "5n", "undefined", "(() => 1)"] {
        let value = js_sys::eval(not_json).unwrap();
        let e = from_json_of::<Value>(&value).unwrap_err();
        assert!(e.is_not_json(), "{not_json}: {e}");
    }
}
