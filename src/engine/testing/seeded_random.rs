//! A deterministic [`Random`] (SplitMix64): the same seed gives the same jitter, so a test
//! that fails fails again. Good enough for jitter; never use it for anything secret.

use crate::engine::clock::Random;
use std::cell::Cell;

/// Seeded pseudo-random source.
#[derive(Debug)]
pub struct SeededRandom {
    state: Cell<u64>,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom {
            state: Cell::new(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Random for SeededRandom {
    fn next_f64(&self) -> f64 {
        // The top 53 bits give every double in [0, 1) with 2^-53 spacing.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let (a, b) = (SeededRandom::new(7), SeededRandom::new(7));
        for _ in 0..1000 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x.to_bits(), b.next_f64().to_bits());
        }
        assert_ne!(
            SeededRandom::new(8).next_u64(),
            SeededRandom::new(7).next_u64()
        );
    }
}
