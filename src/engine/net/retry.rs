//! Retry timing: capped exponential backoff with jitter, and `Retry-After`.
//!
//! Jitter spreads the retries of many devices that lost the server at the same moment, so
//! they do not all come back in the same millisecond. Randomness and time are injected
//! (`Random`, `Clock`) so tests check exact delays without waiting.

use crate::engine::clock::Random;
use crate::engine::time::parse_http_date_ms;
use serde::Deserialize;

/// How a backoff delay is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Jitter {
    /// Uniform in `[0, min(cap, base·2^n))` ("full jitter").
    Full,
    /// Uniform in `[base, min(cap, 3·previous))` ("decorrelated jitter").
    Decorrelated,
}

/// Capped exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Backoff {
    pub base_ms: u64,
    pub cap_ms: u64,
    pub jitter: Jitter,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 500,
            cap_ms: 30_000,
            jitter: Jitter::Full,
        }
    }
}

/// A random draw forced into `[0, 1)`, whatever the source returns.
fn unit(random: &impl Random) -> f64 {
    let r = random.next_f64();
    if r.is_finite() {
        r.clamp(0.0, 0.999_999_999)
    } else {
        0.0
    }
}

impl Backoff {
    /// A usable backoff: `0 < base_ms <= cap_ms` (checked by both pull and push configs).
    pub fn is_valid(&self) -> bool {
        self.base_ms > 0 && self.cap_ms >= self.base_ms
    }

    /// The delay before retry number `retry` (1 for the first retry); `previous_ms` is the
    /// delay used before the previous retry (0 for the first), needed by decorrelated jitter.
    pub fn delay_ms(&self, retry: u32, previous_ms: u64, random: &impl Random) -> u64 {
        let base = self.base_ms.min(self.cap_ms);
        match self.jitter {
            Jitter::Full => {
                let shift = retry.saturating_sub(1).min(62);
                let ceiling = base.saturating_mul(1u64 << shift).min(self.cap_ms);
                (unit(random) * ceiling as f64) as u64
            }
            Jitter::Decorrelated => {
                let upper = previous_ms.max(base).saturating_mul(3).min(self.cap_ms);
                let span = upper.saturating_sub(base);
                base + (unit(random) * span as f64) as u64
            }
        }
    }
}

/// The wait a `Retry-After` value asks for, in ms from `now_ms`: delta-seconds or an HTTP
/// date (a date in the past means no wait). `None` when the value is neither.
pub fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still a (very long) wait, not garbage.
        return Some(
            value
                .parse::<u64>()
                .map_or(u64::MAX, |s| s.saturating_mul(1_000)),
        );
    }
    let at = parse_http_date_ms(value)?;
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    Some(u64::try_from(at.saturating_sub(now)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Fixed(Cell<f64>);
    impl Random for Fixed {
        fn next_f64(&self) -> f64 {
            self.0.get()
        }
    }

    #[test]
    fn full_jitter_grows_and_caps() {
        let b = Backoff {
            base_ms: 100,
            cap_ms: 1_000,
            jitter: Jitter::Full,
        };
        let max = Fixed(Cell::new(0.999_999_999_9));
        let ceilings: Vec<u64> = (1..=6).map(|n| b.delay_ms(n, 0, &max)).collect();
        assert_eq!(ceilings, vec![99, 199, 399, 799, 999, 999]);
        assert_eq!(b.delay_ms(3, 0, &Fixed(Cell::new(0.5))), 200);
        assert_eq!(b.delay_ms(u32::MAX, 0, &Fixed(Cell::new(f64::NAN))), 0);
    }

    #[test]
    fn decorrelated_jitter_stays_in_bounds() {
        let b = Backoff {
            base_ms: 100,
            cap_ms: 1_000,
            jitter: Jitter::Decorrelated,
        };
        assert_eq!(b.delay_ms(1, 0, &Fixed(Cell::new(0.0))), 100);
        assert_eq!(b.delay_ms(2, 200, &Fixed(Cell::new(0.5))), 350);
        assert_eq!(b.delay_ms(9, 900, &Fixed(Cell::new(0.999_999_999_9))), 999);
    }

    #[test]
    fn retry_after_both_forms() {
        let now = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after_ms("120", now), Some(120_000));
        assert_eq!(retry_after_ms(" 0 ", now), Some(0));
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(30_000)
        );
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(
            retry_after_ms("99999999999999999999999", now),
            Some(u64::MAX)
        );
        assert_eq!(retry_after_ms("-5", now), None);
        assert_eq!(retry_after_ms("soon", now), None);
    }
}
