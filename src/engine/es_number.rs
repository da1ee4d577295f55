//! Numbers written the way JavaScript writes them (ECMAScript `Number::toString`, which
//! `JSON.stringify` uses), for the canonical JSON of snapshot rows.
//!
//! PROTOCOL §6 fixes sorted keys and no whitespace for the rows digest but not how a number
//! is written. The browser build digests the rows of the objects `JSON.parse` made, where
//! `12.0` and `12` are the same number, so the one rule both builds can keep is JavaScript's:
//! every number is the nearest double, written with the fewest digits that read back to it,
//! in plain notation from 1e-7 to below 1e21 and as `d.ddde±x` outside (RFC 8785 writes
//! numbers the same way).

use std::io::{self, Write};

/// Writes `value` as ECMAScript's `Number::toString` does. JSON holds no NaN or infinity;
/// should one come, it is written `null`, as `JSON.stringify` would.
pub fn write_es_number<W: Write>(value: f64, out: &mut W) -> io::Result<()> {
    if !value.is_finite() {
        return out.write_all(b"null");
    }
    if value == 0.0 {
        // Both zeros: `String(-0)` is "0".
        return out.write_all(b"0");
    }
    // Rust's `{:e}` writes the shortest digits that read back to `value` (as ECMAScript
    // requires), as `[-]d[.ddd]e[-]x`.
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    // value = 0.digits × 10^n
    let n = exp + 1;
    let mut text = String::with_capacity(digits.len() + 8);
    if negative {
        text.push('-');
    }
    if k <= n && n <= 21 {
        text.push_str(&digits);
        text.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        text.push_str(int);
        text.push('.');
        text.push_str(frac);
    } else if -6 < n && n <= 0 {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', (-n) as usize));
        text.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        text.push_str(first);
        if !rest.is_empty() {
            text.push('.');
            text.push_str(rest);
        }
        text.push('e');
        text.push(if n - 1 < 0 { '-' } else { '+' });
        text.push_str(&(n - 1).abs().to_string());
    }
    out.write_all(text.as_bytes())
}

/// [`write_es_number`] as a string.
#[cfg(test)]
fn es_number(value: f64) -> String {
    let mut out = Vec::new();
    let _ = write_es_number(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::es_number;

    #[test]
    fn writes_numbers_as_javascript_does() {
        // Each pair checked against `String(x)` in Node 20.
        let cases: [(f64, &str); 22] = [
            (1.0, "1"),
            (12.0, "12"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (-2.5e-8, "-2.5e-8"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992"),
            (0.30000000000000004, "0.30000000000000004"),
            (100.0, "100"),
            (1e300, "1e+300"),
            (2f64.powi(70), "1.1805916207174113e+21"),
            (f64::NAN, "null"),
        ];
        for (value, text) in cases {
            assert_eq!(es_number(value), text, "{value:e}");
        }
    }
}
