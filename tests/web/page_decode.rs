//! The browser's page decoder (`src/web/idb/page_decode.js`) against the reference decoder
//! (`engine/pull/decoded_page.rs`), on generated pages: both must refuse the same pages for the
//! same reason (the same item, the same words; JSON syntax errors only by kind) and, for an
//! accepted page, give the same metadata — keys, versions, snapshot metadata and rows digests
//! (PROTOCOL §6) — and keep the same rows after privacy stripping (§7).

use super::support::Xorshift;
use js_sys::JSON;
use serde_json::{json, Map, Value};
use sync_core::engine::canonical_json;
use sync_core::engine::{decode_json_page, DecodedPage, PullConfig};
use sync_core::protocol::{PageError, Row};
use sync_core::web::idb::page_decode::{decode_page, JsRow};
use wasm_bindgen_test::wasm_bindgen_test;

/// The page generator: deterministic; `faulty` pages (the flag) get broken items. `value` is
/// also the generator of `json_parse.rs`.
pub struct Gen(pub Xorshift, pub bool);

impl Gen {
    /// A fault with `percent` chance, on faulty pages only.
    fn fault(&mut self, percent: u64) -> bool {
        self.1 && self.chance(percent)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, of: &'a [T]) -> &'a T {
        &of[self.below(of.len() as u64) as usize]
    }
}

const KINDS: [&str; 8] = [
    "Dashboard",
    "Widget",
    "MetricDefinition",
    "WidgetSnapshot",
    "Query",
    "Projection",
    "DqAlertOpen",
    "Nope",
];
const OPS: [&str; 5] = ["upsert", "append", "tombstone", "reset", "merge"];

fn text(g: &mut Gen) -> Value {
    let parts = [
        "a",
        "é",
        "x\"y",
        "tab\there",
        "new\nline",
        "\u{1}ctl",
        "back\\slash",
        "ü€",
        "",
        "\u{7f}",
        "\u{2028}",
    ];
    Value::from(format!("{}{}", g.pick(&parts), g.below(50)))
}

fn number(g: &mut Gen) -> Value {
    match g.below(8) {
        0 => json!(12.0),
        1 => json!(-0.0),
        2 => json!(1e21),
        3 => json!(0.1),
        4 => json!(1.5e-7),
        5 => json!(-(g.below(1000) as i64)),
        6 => json!(123456789.25),
        _ => json!(g.below(100_000)),
    }
}

pub fn value(g: &mut Gen, depth: u32) -> Value {
    match g.below(if depth > 2 { 4 } else { 6 }) {
        0 => text(g),
        1 => number(g),
        2 => json!(g.chance(50)),
        3 => Value::Null,
        4 => Value::Array((0..g.below(4)).map(|_| value(g, depth + 1)).collect()),
        _ => {
            let mut o = Map::new();
            for _ in 0..g.below(4) {
                let key = g
                    .pick(&["b", "a", "Z", "é", "embedUrl", "k1", "xEMBEDx"])
                    .to_string();
                o.insert(key, value(g, depth + 1));
            }
            Value::Object(o)
        }
    }
}

/// A row of `kind`, mostly valid, sometimes with a field missing or of the wrong type.
fn row(g: &mut Gen, kind: &str, user: &str) -> Value {
    // Sometimes a key with a NUL in it (the string table then travels as an array).
    let id = if g.chance(5) {
        format!("id\u{0}{}", g.below(30))
    } else {
        format!("id_{}", g.below(30))
    };
    let mut r = match kind {
        "Dashboard" => json!({"id": id, "name_i18n": {"default": text(g)}, "tables": ["p1"],
            "embedToken": "secret", "layout": {"EMBED": 1, "cols": number(g)},
            "sharedWith": [{"kind": "user", "id": "usr_b", "embedToken": "t"},
                           {"kind": "role", "id": "rol_m"}, {"kind": "embed", "id": "e"},
                           {"kind": "user"}, "usr_c", {"kind": "role", "id": ""}]}),
        "Widget" => json!({"id": id, "dashboardId": format!("dsh_{}", g.below(5)),
            "metricKey": "occ", "queryId": null, "params": value(g, 1),
            "freshness": {"alertAtMinutes": 60, "targetMinutes": number(g)}}),
        "MetricDefinition" | "Projection" => json!({"key": id, "lagMinutes": number(g),
            "lastSuccessAt": "2026-01-01T00:00:00Z", "unit": text(g)}),
        "WidgetSnapshot" => {
            let rows: Vec<Value> = (0..g.below(30))
                .map(|_| json!({"d": text(g), "v": number(g), "n": value(g, 2)}))
                .collect();
            json!({"widgetId": format!("wid_{}", g.below(5)), "paramsHash": "sha256:p",
                   "generatedAt": format!("2026-01-01T00:{:02}:00Z", g.below(60)),
                   "rows": rows, "provenance": {"computedBy": text(g)}})
        }
        "Query" => json!({"id": id, "name_i18n": {"default": text(g)}, "sql_template": "select 1",
            "ownerId": if g.chance(50) { user.to_string() } else { "usr_other".to_string() }}),
        _ => json!({"id": id, "checkKey": "k", "severity": "warning",
            "observedAt": "2026-01-01T00:00:00Z", "jobId": "j", "observedValue": number(g)}),
    };
    if g.fault(8) {
        let o = r.as_object_mut().unwrap();
        let field = g.pick(&[
            "id",
            "key",
            "name_i18n",
            "tables",
            "sharedWith",
            "dashboardId",
            "metricKey",
            "queryId",
            "freshness",
            "rows",
            "widgetId",
            "generatedAt",
            "paramsHash",
            "ownerId",
            "checkKey",
            "severity",
            "lagMinutes",
            "lastSuccessAt",
        ]);
        match g.below(3) {
            0 => {
                o.remove(*field);
            }
            1 => {
                o.insert(field.to_string(), number(g));
            }
            _ => {
                o.insert(field.to_string(), Value::Null);
            }
        }
    }
    r
}

fn item(g: &mut Gen, user: &str) -> Value {
    let kind = if g.fault(3) {
        "Nope"
    } else {
        *g.pick(&KINDS[..7])
    };
    let op = if g.fault(4) {
        *g.pick(&OPS)
    } else if kind == "WidgetSnapshot" {
        if g.chance(90) {
            "append"
        } else {
            "reset"
        }
    } else {
        *g.pick(&["upsert", "upsert", "upsert", "tombstone", "reset"])
    };
    let mut o = Map::new();
    o.insert("kind".into(), json!(kind));
    o.insert("op".into(), json!(op));
    match op {
        "upsert" | "append" => {
            o.insert("row".into(), row(g, kind, user));
            if op == "upsert" {
                let version = match if g.1 { g.below(40) } else { 40 } {
                    0 => json!(-1),
                    1 => json!("4"),
                    2 => json!(1.5),
                    3 => Value::Null,
                    _ => json!(1 + g.below(9)),
                };
                o.insert("version".into(), version);
            }
        }
        "tombstone" => {
            let id = if g.fault(5) {
                json!("")
            } else {
                json!(format!("id_{}", g.below(30)))
            };
            o.insert("id".into(), id);
        }
        _ => {}
    }
    if g.fault(3) {
        o.remove(*g.pick(&["kind", "op", "row", "version", "id"]));
    }
    if g.fault(2) {
        return json!([1]);
    }
    Value::Object(o)
}

/// A generated body: mostly a valid page of valid items, sometimes broken anywhere.
fn body(g: &mut Gen, user: &str) -> Vec<u8> {
    g.1 = g.chance(50);
    let items: Vec<Value> = (0..g.below(25)).map(|_| item(g, user)).collect();
    let mut page = json!({"items": items, "nextCursor": format!("c{}", g.below(100)),
                          "drained": g.chance(50), "extra": {"x": [1, 2]}});
    match if g.1 { g.below(30) } else { 30 } {
        0 => page["nextCursor"] = Value::Null,
        1 => page["drained"] = json!("yes"),
        2 => page["items"] = json!({}),
        3 => page = json!([page]),
        _ => {}
    }
    let mut text = serde_json::to_string(&page).unwrap();
    if g.1 && g.chance(2) {
        // Not an object at all.
        text = g.pick(&["null", "3", "\"x\"", "[]", "true"]).to_string();
    }
    match if g.1 { g.below(30) } else { 30 } {
        0 => text.truncate(text.len() / 2),
        1 => text.push_str(" x"),
        2 => text = format!("\u{feff}{text}"),
        3 => text = text.replacen("\"c", "\"\\ud800c", 1),
        4 => text = text.replacen("\"a", "\"😀a", 1),
        5 => text = text.replacen("\"a", "\"\\udc00\\ud800a", 1),
        6 => text = text.replacen("\"a", "\"\\ud83d\\ude00a", 1),
        _ => {}
    }
    let mut bytes = text.into_bytes();
    if g.1 && g.chance(3) {
        // Not UTF-8: serde and TextDecoder must both refuse it.
        let at = bytes.len() / 2;
        bytes.insert(at, 0xff);
    }
    bytes
}

/// A row as comparable JSON: numbers as JavaScript writes them (what both decoders digest).
fn comparable(row: &Row) -> String {
    canonical_json(&Value::Object(row.clone()))
}

fn js_comparable(row: &JsRow) -> String {
    let text = JSON::stringify(&row.0).unwrap().as_string().unwrap();
    canonical_json(&serde_json::from_str(&text).unwrap())
}

/// The same refusal: the same variant, item and reason; JSON syntax errors only by variant.
/// A body that is not UTF-8 is refused by both, but serde judges it where it reads the bad
/// byte (as a shape or an item error when that byte sits in a value it skips), the JS decoder
/// before parsing: any refusal matches then.
fn same_refusal(js: &PageError, rust: &PageError, utf8: bool) -> bool {
    match (js, rust) {
        (PageError::Json(_), PageError::Json(_)) => true,
        (PageError::Json(_), _) if !utf8 => true,
        _ => js == rust,
    }
}

fn compare(body: &[u8], config: &PullConfig) -> Result<bool, String> {
    let js = decode_page(body, config);
    let rust = decode_json_page(body, config);
    let utf8 = std::str::from_utf8(body).is_ok();
    match (&js, &rust) {
        (Err(j), Err(r)) if same_refusal(j, r, utf8) => Ok(false),
        (Ok(j), Ok(r)) => {
            let DecodedPage {
                metas,
                rows,
                next_cursor,
                drained,
            } = j;
            if metas != &r.metas || next_cursor != &r.next_cursor || drained != &r.drained {
                return Err(format!(
                    "metadata differ:\n js   {metas:?}\n rust {:?}",
                    r.metas
                ));
            }
            for (i, (j, r)) in rows.iter().zip(&r.rows).enumerate() {
                let (j, r) = (j.as_ref().map(js_comparable), r.as_ref().map(comparable));
                if j != r {
                    return Err(format!("row {i} differs:\n js   {j:?}\n rust {r:?}"));
                }
            }
            Ok(true)
        }
        _ => Err(format!("js {js:?}\nrust {rust:?}")),
    }
}

#[wasm_bindgen_test]
fn the_js_decoder_refuses_and_keeps_what_the_reference_decoder_does() {
    let mut g = Gen(Xorshift(0x5eed_cafe_f00d_1234), false);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..800 {
        let user = *g.pick(&["usr_a", ""]);
        let mut config = PullConfig::new(user);
        if g.chance(30) {
            config.max_snapshot_bytes = 700;
        }
        let body = body(&mut g, user);
        match compare(&body, &config) {
            Ok(true) => accepted += 1,
            Ok(false) => refused += 1,
            Err(why) => panic!(
                "case {case}, user {user:?}: {why}\nbody {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }
    // The generator must exercise both outcomes, or the comparison proves little.
    assert!(
        accepted > 100 && refused > 100,
        "{accepted} accepted, {refused} refused"
    );
}

#[wasm_bindgen_test]
fn snapshot_digests_agree_on_numbers_keys_and_escapes() {
    let config = PullConfig::new("usr_a");
    let rows = json!([
        {"z": 12.0, "a": 12, "é": -0.0, "B": [1e21, 1e-7, 0.1, 5e-324, 1.7976931348623157e308]},
        {"q\"uote": "tab\tnew\nline\u{1}\u{7f}\u{2028}", "n": null, "t": true, "big": 9007199254740993u64},
        {"ü": {"y": {}, "x": []}, "": ""}
    ]);
    let page = json!({"items": [{"kind": "WidgetSnapshot", "op": "append", "row": {
        "widgetId": "wid_1", "paramsHash": "p", "generatedAt": "2026-01-01T00:00:00Z",
        "rows": rows}}], "nextCursor": "c", "drained": true});
    assert_eq!(compare(page.to_string().as_bytes(), &config), Ok(true));
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/web/idb/page_decode.js")]
extern "C" {
    #[wasm_bindgen(js_name = canonical)]
    fn canonical_js(value: &wasm_bindgen::JsValue, surrogate_free: bool) -> String;
}

/// The decoder's canonical JSON (one `JSON.stringify` when every object's keys are already in
/// order, a sort otherwise) against `engine/canonical.rs`, on values whose keys come in every
/// order `JSON.parse` can give them: sorted, unsorted, nested, integer-like (listed first by
/// `Object.keys`), past the BMP (UTF-16 and code point order differ), with escapes and numbers
/// JavaScript writes its own way.
#[wasm_bindgen_test]
fn canonical_json_matches_the_reference_whatever_the_key_order() {
    let texts = [
        r#"{"a":1,"b":[{"c":2,"d":"x"}],"e":null}"#,
        r#"{"b":1,"a":[{"d":2,"c":3}]}"#,
        r#"{"a":1,"b":{"y":true,"x":false}}"#,
        r#"[{"date":"2026-01-01","occupancy":0.5},{"occupancy":1.0,"date":"2026-01-02"}]"#,
        r#"{"b":1,"10":4,"9":5,"a":{"2":0,"10":1}}"#,
        r#"{"\ud83d\ude00":1,"\uffff":2,"a":3}"#,
        r#"{"\uffff":2,"\ud83d\ude00":1}"#,
        r#"{"s":"\u0000\"\\\u2028é\n","n":[1.0,1e21,-0,5e-7,123456789012345680000,0.1]}"#,
        r#"{"":1,"a":[],"b":{},"c":[[],{}]}"#,
        // One shape after another (the decoder sorts a run of one shape once).
        r#"[{"b":1,"a":2},{"b":3,"a":4},{"c":5,"a":6},{"b":7,"a":8},{"a":9,"b":0}]"#,
        r#"[{"z":{"y":1,"x":2},"a":0},{"z":{"y":3,"x":4},"a":1},{"z":{"x":5,"y":6},"a":2}]"#,
        r#""just a string""#,
        r#"[3,"x",null,true]"#,
    ];
    for text in texts {
        let value = JSON::parse(text).unwrap();
        let reference = canonical_json(&serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(canonical_js(&value, false), reference, "{text}");
        let surrogate_free = !text.contains("\\ud");
        if surrogate_free {
            assert_eq!(canonical_js(&value, true), reference, "{text}");
        }
    }
}
