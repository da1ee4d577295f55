//! Ids minted on the device for ops, commands, conflicts and dead letters.
//!
//! They come from the injected [`Random`] so native tests are reproducible; in the browser
//! the source is the platform's random generator. 128 bits make a collision between devices
//! of one user (which would make the server treat two edits as one op) negligible.

use super::clock::Random;

/// `prefix` followed by 32 lowercase hex digits (128 bits) drawn from `random`.
pub fn random_id(prefix: &str, random: &impl Random) -> String {
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    for _ in 0..4 {
        id.push_str(&format!("{:08x}", random_u32(random)));
    }
    id
}

/// 32 bits from one draw; a source that misbehaves (NaN, out of range) still gives a value.
fn random_u32(random: &impl Random) -> u32 {
    let r = random.next_f64();
    let r = if r.is_finite() {
        r.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // `as` saturates, so r == 1.0 gives u32::MAX rather than wrapping.
    (r * 4_294_967_296.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SeededRandom;

    #[test]
    fn prefix_and_32_hex_digits() {
        let random = SeededRandom::new(1);
        let a = random_id("op_", &random);
        let b = random_id("op_", &random);
        assert_eq!(a.len(), 35);
        assert!(a.starts_with("op_"));
        assert!(a[3..]
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }
}
