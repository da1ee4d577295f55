//! The browser's clock and randomness for the engine's injected [`Clock`] and [`Random`].
//! Both resolve everything through the global scope, so they work in a window and a worker.

use super::global_scope::sleep_ms;
use crate::engine::{Clock, Random};
use js_sys::{Reflect, Uint32Array};
use wasm_bindgen::{JsCast, JsValue};

/// Wall-clock time from `Date.now()`, sleeping on `setTimeout`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebClock;

impl Clock for WebClock {
    fn now_ms(&self) -> u64 {
        // `Date.now()` is a non-negative integer well inside u64.
        js_sys::Date::now().max(0.0) as u64
    }

    async fn sleep(&self, ms: u64) {
        // setTimeout takes a 32-bit delay; longer waits are done in chunks.
        let mut left = ms;
        while left > 0 {
            let chunk = left.min(i32::MAX as u64);
            sleep_ms(chunk as u32).await;
            left -= chunk;
        }
    }
}

/// Randomness from `crypto.getRandomValues`, or `Math.random` where there is no `crypto`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebRandom;

impl WebRandom {
    /// 53 random bits from the global `crypto`, if it is there.
    fn crypto_f64() -> Option<f64> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
        let get_random_values = Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        let words = Uint32Array::new_with_length(2);
        get_random_values.call1(&crypto, &words).ok()?;
        let high = u64::from(words.get_index(0) >> 5); // 27 bits
        let low = u64::from(words.get_index(1) >> 6); // 26 bits
        Some(((high << 26) | low) as f64 / (1u64 << 53) as f64)
    }
}

impl Random for WebRandom {
    fn next_f64(&self) -> f64 {
        Self::crypto_f64().unwrap_or_else(js_sys::Math::random)
    }
}
