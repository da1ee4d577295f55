//! The server's simulated clock. `--time-scale X` makes simulated time run X times faster
//! than real time (so a demo sees 5-minute snapshot cadences within seconds) and
//! `POST /admin/clock` jumps it forward. Everything time-based that the contract exposes
//! (generatedAt, observedAt ages, generator cadences) reads this clock; HTTP rate limits use
//! real time, because `Retry-After` is real seconds.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
pub struct SimClock {
    origin_real: Instant,
    origin_ms: i64,
    scale: f64,
    offset_ms: AtomicI64,
}

impl SimClock {
    /// Starts at the current wall-clock time. A non-finite or non-positive scale means 1.
    pub fn new(scale: f64) -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self::starting_at(origin_ms, scale)
    }

    pub fn starting_at(origin_ms: i64, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        SimClock {
            origin_real: Instant::now(),
            origin_ms,
            scale,
            offset_ms: AtomicI64::new(0),
        }
    }

    /// Simulated milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let real = self.origin_real.elapsed().as_secs_f64() * 1000.0;
        self.origin_ms + (real * self.scale) as i64 + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Jumps simulated time forward (or back, for a negative value).
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_and_scales() {
        let c = SimClock::starting_at(1_000_000, 1.0);
        let before = c.now_ms();
        c.advance_ms(60_000);
        assert!(c.now_ms() >= before + 60_000);
        assert_eq!(SimClock::starting_at(0, -3.0).scale(), 1.0);
    }
}
