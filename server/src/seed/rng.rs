//! Deterministic randomness for demo data: SplitMix64 seeded from a hash of labels, so the
//! same (seed, tenant, thing) always produces the same value on every machine. The hash is
//! FNV-1a with a SplitMix64 finalizer: not cryptographic (nothing here is secret), and
//! cheap enough that building a 20 000-item tenant stays fast in debug builds.

/// A 64-bit hash of the parts joined by `|`.
pub fn hash64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ u64::from(b'|')).wrapping_mul(0x0000_0100_0000_01b3);
        }
        for b in part.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-looking stable id, e.g. `dsh_01J8…`, derived from `parts`.
pub fn stable_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = hash64(parts);
    let mut id = String::with_capacity(prefix.len() + 16);
    id.push_str(prefix);
    id.push_str("01J");
    for _ in 0..13 {
        id.push(char::from(CROCKFORD[(h & 31) as usize]));
        h >>= 5;
    }
    id
}

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(parts: &[&str]) -> Self {
        Rng(hash64(parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        assert_eq!(
            stable_id("dsh_", &["a", "1"]),
            stable_id("dsh_", &["a", "1"])
        );
        assert_ne!(
            stable_id("dsh_", &["a", "1"]),
            stable_id("dsh_", &["a", "2"])
        );
        let (mut a, mut b) = (Rng::new(&["x"]), Rng::new(&["x"]));
        assert_eq!(a.next_u64(), b.next_u64());
        assert!((0.0..1.0).contains(&a.unit()));
    }
}
