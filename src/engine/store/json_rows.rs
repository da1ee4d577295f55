//! A reader for the held index's records (`store/held_index.rs`): JSON arrays of rows, each an
//! array of strings, non-negative integers and nulls, e.g. `[["dsh_1",3],["dsh_2",5]]`.
//!
//! Why not `crate::json`: in the browser that is `JSON.parse` plus serde-wasm-bindgen, which
//! crosses the wasm boundary once per value; a warm store's index holds ≈ 250 000 of them, and
//! reading it that way cost the warm bench ≈ 100 ms (warm ÷ floor 0.85 → 0.79, BENCHMARKS.md).
//! This reads the text in wasm in one pass, with no serde instance per row type. It accepts the
//! JSON both writers produce (`serde_json::to_string`, and `JSON.stringify` in
//! `web/idb/held_index.js`) and refuses, like serde_json did for these types, anything else:
//! other values, negative or fractional numbers, lone surrogates, trailing text.

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Str(String),
    Int(u64),
    Null,
}

/// The rows of `text`, each of exactly `width` fields, flattened (row `i` is
/// `fields[i * width..(i + 1) * width]`).
pub fn read_rows(text: &str, width: usize) -> Result<Vec<Field>, String> {
    let mut r = Reader {
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut fields = Vec::new();
    r.expect(b'[')?;
    if !r.eat(b']') {
        loop {
            r.expect(b'[')?;
            for i in 0..width {
                if i > 0 {
                    r.expect(b',')?;
                }
                fields.push(r.field()?);
            }
            r.expect(b']')?;
            if r.eat(b']') {
                break;
            }
            r.expect(b',')?;
        }
    }
    r.skip_space();
    if r.at != r.bytes.len() {
        return Err(r.error("end of text"));
    }
    Ok(fields)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, expected: &str) -> String {
        format!("expected {expected} at byte {}", self.at)
    }

    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// Consumes `byte` (after whitespace) if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let next = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(next);
        next
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(&format!("'{}'", byte as char)))
        }
    }

    fn field(&mut self) -> Result<Field, String> {
        self.skip_space();
        match self.bytes.get(self.at) {
            Some(b'"') => self.string().map(Field::Str),
            Some(b'0'..=b'9') => self.integer().map(Field::Int),
            Some(b'n') if self.bytes[self.at..].starts_with(b"null") => {
                self.at += 4;
                Ok(Field::Null)
            }
            _ => Err(self.error("a string, an integer or null")),
        }
    }

    fn integer(&mut self) -> Result<u64, String> {
        let start = self.at;
        while matches!(self.bytes.get(self.at), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        let leading_zero = digits.len() > 1 && digits[0] == b'0';
        let fraction = matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E'));
        let value = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok());
        match value {
            Some(v) if !leading_zero && !fraction => Ok(v),
            _ => Err(format!("not a version at byte {start}")),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let hex = self
            .bytes
            .get(self.at..self.at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.error("four hex digits"))?;
        self.at += 4;
        Ok(hex)
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character whole.
            let start = self.at;
            while matches!(self.bytes.get(self.at), Some(&b) if b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.at += 1;
            }
            // Runs end at ASCII bytes, so they are whole UTF-8 sequences of a `str`.
            out.push_str(std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or_default());
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err(self.error("a closing quote"));
            };
            self.at += 1;
            match byte {
                b'"' => return Ok(out),
                b'\\' => {
                    let escape = self.bytes.get(self.at).copied();
                    self.at += 1;
                    let c = match escape {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.escaped_char()?,
                        _ => return Err(self.error("an escape")),
                    };
                    out.push(c);
                }
                _ => return Err(self.error("no control character in a string")),
            }
        }
    }

    /// The character of a `\u` escape (after the `u`), a surrogate pair taking two.
    fn escaped_char(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.bytes[self.at..].starts_with(b"\\u") {
                return Err(self.error("the second half of a surrogate pair"));
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("the second half of a surrogate pair"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("a character, not a lone surrogate"))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn field() -> impl Strategy<Value = Field> {
        prop_oneof![
            any::<String>().prop_map(Field::Str),
            "[\"\\\\/\\u{0}-\\u{1f}\\u{7f}\\u{2028}é😀a]{0,6}".prop_map(Field::Str),
            any::<u64>().prop_map(Field::Int),
            Just(Field::Null),
        ]
    }

    fn to_value(f: &Field) -> Value {
        match f {
            Field::Str(s) => Value::from(s.as_str()),
            Field::Int(n) => Value::from(*n),
            Field::Null => Value::Null,
        }
    }

    proptest! {
        /// Whatever serde_json writes (the save path) reads back as written.
        #[test]
        fn reads_back_what_serde_json_writes(width in 1usize..5, rows in prop::collection::vec(prop::collection::vec(field(), 4), 0..20)) {
            let fields: Vec<Field> = rows.iter().flat_map(|r| r[..width].to_vec()).collect();
            let json = Value::Array(rows.iter().map(|r| Value::Array(r[..width].iter().map(to_value).collect())).collect());
            let text = serde_json::to_string(&json).unwrap();
            prop_assert_eq!(read_rows(&text, width), Ok(fields));
        }

        /// On any text, it accepts only what serde_json reads as rows of this shape, and reads
        /// the same values.
        #[test]
        fn accepts_exactly_what_serde_json_accepts(text in "[\\[\\]\",0-9a-z \\\\.-]{0,24}") {
            type Row = (Option<String>, Option<u64>);
            let reference: Result<Vec<Row>, _> = serde_json::from_str(&text);
            let ours = read_rows(&text, 2);
            match (reference, ours) {
                (Ok(rows), Ok(fields)) => {
                    let pairs: Vec<Row> = fields.chunks(2).map(|c| {
                        let s = match &c[0] { Field::Str(s) => Some(s.clone()), _ => None };
                        let n = match &c[1] { Field::Int(n) => Some(*n), _ => None };
                        (s, n)
                    }).collect();
                    // Our reader does not know the column types: compare where they agree.
                    let typed = fields.chunks(2).all(|c| !matches!(c[0], Field::Int(_)) && !matches!(c[1], Field::Str(_)));
                    if typed { prop_assert_eq!(pairs, rows); }
                }
                (Err(_), Err(_)) => {}
                (Ok(rows), Err(e)) => prop_assert!(false, "serde_json read {rows:?}, we refused: {e}"),
                (Err(_), Ok(fields)) => {
                    // Accepted by us but not by serde_json: only a type mismatch serde_json
                    // catches and the caller does (a string where a version goes).
                    let typed = fields.chunks(2).all(|c| !matches!(c[0], Field::Int(_)) && !matches!(c[1], Field::Str(_)));
                    prop_assert!(!typed, "{text:?}: we accepted {fields:?}");
                }
            }
        }
    }

    #[test]
    fn refuses_what_no_writer_writes() {
        for text in [
            "",
            "[",
            "[[\"a\",1]",
            "[[\"a\",1]] x",
            "[[\"a\",-1]]",
            "[[\"a\",1.5]]",
            "[[\"a\",1e3]]",
            "[[\"a\",01]]",
            "[[\"a\",18446744073709551616]]",
            "[[\"a\"]]",
            "[[\"a\",1,2]]",
            "[[\"\\ud800\",1]]",
            "[[\"\\udc00\",1]]",
            "[[\"a\tb\",1]]",
            "[[\"\\x\",1]]",
            "[[true,1]]",
            "{}",
        ] {
            assert!(read_rows(text, 2).is_err(), "{text:?}");
        }
        assert_eq!(read_rows(" [ ] ", 2), Ok(vec![]));
        assert_eq!(
            read_rows("[[\"\\ud83d\\ude00\\u00e9\\n\",null]]", 2),
            Ok(vec![Field::Str("😀é\n".into()), Field::Null])
        );
    }
}
