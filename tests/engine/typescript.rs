//! `pkg/src/engine-types.ts` is generated here from the Rust types the bindings hand to JS (the
//! reports, the outbox, freshness, an error's fields), with their doc comments, through ts-rs (the crate's `ts`
//! feature, on for the tests only). The test fails when the file on disk differs: a field
//! added, renamed or dropped in Rust cannot reach an app as `undefined`. Regenerate with
//! `UPDATE_GENERATED=1 cargo test -p sync-core --test engine typescript`.
//!
//! The bindings serialize with `serde_wasm_bindgen::Serializer::json_compatible()`, which
//! hands every `u64` to JS as a number: hence `large_int = "number"`.

use sync_core::engine::{
    Conflict, ConflictSource, DeadLetter, DeferredCommand, ErrorInfo, Freshness, IntegrityFinding,
    Method, OutboxCounts, OutboxOp, Pending, PullProgress, PullReport, PushReport, Resolution,
    SyncReport,
};
use sync_core::protocol::Kind;
use ts_rs::{Config, TS};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/src/engine-types.ts");

const HEADER: &str = "\
// Generated from the engine's Rust types by tests/engine/typescript.rs (UPDATE_GENERATED=1
// cargo test -p sync-core --test engine typescript): do not edit. A test fails when this file
// and the Rust types differ.

/** Localized text: `default` plus any locale keys (what a rename accepts, PROTOCOL §4). */
export type I18n = { default: string } & Record<string, string>;
";

/// One `export type` per Rust type, dependencies first.
fn declarations(cfg: &Config) -> Vec<(String, Option<String>)> {
    fn one<T: TS>(cfg: &Config) -> (String, Option<String>) {
        (T::decl(cfg), T::docs())
    }
    vec![
        one::<Kind>(cfg),
        one::<serde_json::Value>(cfg),
        one::<IntegrityFinding>(cfg),
        one::<PullReport>(cfg),
        one::<PullProgress>(cfg),
        one::<PushReport>(cfg),
        one::<ErrorInfo>(cfg),
        one::<SyncReport>(cfg),
        one::<Method>(cfg),
        one::<OutboxOp>(cfg),
        one::<DeferredCommand>(cfg),
        one::<Pending>(cfg),
        one::<OutboxCounts>(cfg),
        one::<Resolution>(cfg),
        one::<ConflictSource>(cfg),
        one::<Conflict>(cfg),
        one::<DeadLetter>(cfg),
        one::<Freshness>(cfg),
    ]
}

/// The whole module.
fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(HEADER);
    for (decl, docs) in declarations(&cfg) {
        out.push('\n');
        if let Some(docs) = docs {
            out.push_str(&comment(&docs, ""));
        }
        out.push_str("export ");
        out.push_str(&pretty(&decl));
    }
    out.push_str("\n/** Every kind, in the order of PROTOCOL §2 (e.g. for a `changed` event after a wipe). */\n");
    out.push_str("export const ALL_KINDS: readonly Kind[] = [\n");
    for kind in Kind::ALL {
        out.push_str(&format!("  \"{}\",\n", kind.as_str()));
    }
    out.push_str("];\n");
    out
}

/// A JSDoc block of ts-rs (`/**\n * line\n */`), one line when it fits, indented.
fn comment(block: &str, indent: &str) -> String {
    let lines: Vec<&str> = block
        .trim()
        .trim_start_matches("/**")
        .trim_end_matches("*/")
        .lines()
        .map(|l| l.trim().trim_start_matches('*').trim())
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [line] if indent.len() + line.len() + 7 <= 100 => format!("{indent}/** {line} */\n"),
        _ => {
            let mut out = format!("{indent}/**\n");
            for line in lines {
                out.push_str(&format!("{indent} * {line}\n"));
            }
            out.push_str(&format!("{indent} */\n"));
            out
        }
    }
}

/// Splits `text` at the top-level (depth 0) occurrences of `sep`, outside strings and comments.
fn split_top(text: &str, sep: &str) -> Vec<String> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if text[i..].starts_with("/*") {
            i += text[i..].find("*/").expect("closed comment") + 2;
            continue;
        }
        match bytes[i] {
            b'"' => i += text[i + 1..].find('"').expect("closed string") + 1,
            b'{' | b'[' | b'(' | b'<' => depth += 1,
            b'}' | b']' | b')' | b'>' => depth -= 1,
            _ if depth == 0 && text[i..].starts_with(sep) => {
                parts.push(text[start..i].trim().to_string());
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        parts.push(last.to_string());
    }
    parts
}

/// `type X = …;` of ts-rs (one line, fields separated by `, `, doc blocks between them) laid
/// out one field per line, or one union member per line when the union is long.
fn pretty(decl: &str) -> String {
    let (head, body) = decl.split_once(" = ").expect("type X = …");
    let body = body.trim().trim_end_matches(';').trim();
    let inline = |t: &str| t.replace(", }", " }");
    if body.starts_with('{') && split_top(body, " | ").len() == 1 {
        let inner = &body[1..body.len() - 1];
        let mut out = format!("{head} = {{\n");
        for field in split_top(inner, ",") {
            let (docs, field) = match field.rfind("*/") {
                Some(end) => (Some(&field[..end + 2]), field[end + 2..].trim()),
                None => (None, field.as_str()),
            };
            if let Some(docs) = docs {
                out.push_str(&comment(docs, "  "));
            }
            out.push_str(&format!("  {};\n", inline(field)));
        }
        out.push_str("};\n");
        return out;
    }
    let members = split_top(body, " | ");
    let one_line = format!("{head} = {};\n", inline(body));
    if one_line.len() <= 100 {
        return one_line;
    }
    let mut out = format!("{head} =\n");
    for member in &members {
        out.push_str(&format!("  | {}\n", inline(member)));
    }
    out.insert(out.len() - 1, ';');
    out
}

#[test]
fn the_package_types_are_generated_from_the_engine_types() {
    let generated = generate();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(PATH, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        on_disk == generated,
        "pkg/src/engine-types.ts is not what the engine's types generate: run \
         UPDATE_GENERATED=1 cargo test -p sync-core --test engine typescript"
    );
}
