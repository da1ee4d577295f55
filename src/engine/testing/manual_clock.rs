//! A [`Clock`] that only moves when told to: `sleep` returns at once after advancing time by
//! the requested amount and recording it, so retry and `Retry-After` tests run in
//! microseconds and can assert every wait.

use crate::engine::clock::Clock;
use std::cell::{Cell, RefCell};

/// Fake wall clock.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: Cell<u64>,
    sleeps: RefCell<Vec<u64>>,
}

impl ManualClock {
    /// A clock that reads `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        ManualClock {
            now_ms: Cell::new(now_ms),
            sleeps: RefCell::new(Vec::new()),
        }
    }

    /// Moves time forward without recording a sleep.
    pub fn advance(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get().saturating_add(ms));
    }

    /// Every sleep requested, in order.
    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps.borrow().clone()
    }

    /// Sum of all sleeps.
    pub fn slept_ms(&self) -> u64 {
        self.sleeps
            .borrow()
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b))
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }

    async fn sleep(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.advance(ms);
    }
}
