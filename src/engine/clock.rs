//! Time and randomness, injected so retries and freshness are testable without waiting.

/// Wall-clock time and sleeping.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Resolves after `ms` milliseconds (a fake clock advances instantly).
    async fn sleep(&self, ms: u64);
}

/// A source of randomness for backoff jitter and op ids.
pub trait Random {
    /// A uniformly distributed value in `[0, 1)`.
    fn next_f64(&self) -> f64;
}

/// A borrowed clock is a clock (wrappers such as `GatedTransport` may borrow one).
impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }

    async fn sleep(&self, ms: u64) {
        (**self).sleep(ms).await
    }
}
