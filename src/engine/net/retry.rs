//! Retrying a request: the policy (attempts, capped exponential backoff with jitter, how long
//! a `Retry-After` may make us wait), its validation, and the one loop that pull, push and the
//! command replay send their requests through ([`send_with_retries`]).
//!
//! Jitter spreads the retries of many devices that lost the server at the same moment, so
//! they do not all come back in the same millisecond. Randomness and time are injected
//! (`Random`, `Clock`) so tests check exact delays without waiting.

use crate::engine::clock::{Clock, Random};
use crate::engine::net::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::engine::time::parse_http_date_ms;
/// How a backoff delay is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Uniform in `[0, min(cap, base·2^n))` ("full jitter").
    Full,
    /// Uniform in `[base, min(cap, 3·previous))` ("decorrelated jitter").
    Decorrelated,
}

/// Capped exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The retry rules of one call (`PullConfig::retry`, `PushConfig::retry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before giving up, the first included.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// A `Retry-After` longer than this is not slept through: the call fails `rate_limited`.
    pub max_retry_after_wait_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            backoff: Backoff::default(),
            max_retry_after_wait_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// Why the policy cannot be used, in the words the configs report; `None` when it can.
    pub fn problem(&self) -> Option<&'static str> {
        if self.max_attempts == 0 {
            Some("maxAttempts must be at least 1")
        } else if !self.backoff.is_valid() {
            Some("backoff needs 0 < baseMs <= capMs")
        } else {
            None
        }
    }
}

/// A failed attempt that may be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retryable {
    /// No answer: network error or timeout.
    Offline(String),
    /// 408 or 5xx.
    Server(u16),
    /// An answer the caller could not read.
    BadBody(String),
    /// 429, with the `Retry-After` in milliseconds when the server gave a usable one.
    RateLimited(Option<u64>),
}

/// What the caller makes of one answer.
pub enum Verdict<A, E> {
    /// Done: the call's answer.
    Answer(A),
    /// Done: a refusal the caller reports as it is.
    Refuse(E),
    /// Retry with backoff.
    Retry(Retryable),
    /// The contract's whole-request rules: 401 is retried once (the transport asks the host for
    /// a fresh token on every request), 429 waits at least `Retry-After`, 408 and 5xx are
    /// retried, any other status is an unreadable answer (retried).
    Default,
}

/// Why [`send_with_retries`] gave up; the caller's error converts from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GaveUp {
    /// The host's token callback failed, or the server refused the token twice.
    Unauthorized(String),
    /// The host's token callback did not answer in time.
    TokenTimeout,
    Offline {
        attempts: u32,
        detail: String,
    },
    Server {
        status: u16,
        attempts: u32,
    },
    BadBody {
        attempts: u32,
        detail: String,
    },
    RateLimited {
        retry_after_ms: u64,
    },
}

/// `impl From<GaveUp> for $error`, for an error enum with the variants `Unauthorized(String)`,
/// `TokenTimeout`, `Offline { attempts, detail }`, `ServerError { status, attempts }`,
/// `BadResponse { attempts, detail }` and `RateLimited { retry_after_ms }` (`PullError`,
/// `PushError`): the one mapping from a request given up to a call's error.
macro_rules! from_gave_up {
    ($error:ident) => {
        impl From<$crate::engine::net::retry::GaveUp> for $error {
            fn from(gave_up: $crate::engine::net::retry::GaveUp) -> Self {
                use $crate::engine::net::retry::GaveUp;
                match gave_up {
                    GaveUp::Unauthorized(detail) => $error::Unauthorized(detail),
                    GaveUp::TokenTimeout => $error::TokenTimeout,
                    GaveUp::Offline { attempts, detail } => $error::Offline { attempts, detail },
                    GaveUp::Server { status, attempts } => $error::ServerError { status, attempts },
                    GaveUp::BadBody { attempts, detail } => {
                        $error::BadResponse { attempts, detail }
                    }
                    GaveUp::RateLimited { retry_after_ms } => {
                        $error::RateLimited { retry_after_ms }
                    }
                }
            }
        }
    };
}
pub(crate) use from_gave_up;

/// Sends `request()` until `judge` takes an answer, the policy runs out, or the request cannot
/// be retried. `judge` sees every response first. `retries` counts repeated requests (the
/// token retry included).
pub async fn send_with_retries<T, C, R, A, E>(
    transport: &T,
    clock: &C,
    random: &R,
    policy: &RetryPolicy,
    retries: &mut u64,
    mut request: impl FnMut() -> HttpRequest,
    mut judge: impl FnMut(&HttpResponse) -> Verdict<A, E>,
) -> Result<A, E>
where
    T: Transport,
    C: Clock,
    R: Random,
    E: From<GaveUp>,
{
    let mut failed_attempts = 0u32;
    let mut token_retried = false;
    let mut previous_delay = 0u64;
    loop {
        let failure = match transport.send(request()).await {
            Err(TransportError::Token(detail)) => return Err(GaveUp::Unauthorized(detail).into()),
            Err(TransportError::TokenTimeout) => return Err(GaveUp::TokenTimeout.into()),
            Err(TransportError::Network(detail)) => Retryable::Offline(detail),
            Err(TransportError::Timeout) => Retryable::Offline("request timed out".into()),
            Ok(response) => match judge(&response) {
                Verdict::Answer(answer) => return Ok(answer),
                Verdict::Refuse(error) => return Err(error),
                Verdict::Retry(failure) => failure,
                Verdict::Default => match response.status {
                    401 if !token_retried => {
                        token_retried = true;
                        *retries += 1;
                        continue;
                    }
                    401 => return Err(GaveUp::Unauthorized("token refused twice".into()).into()),
                    429 => Retryable::RateLimited(
                        response
                            .retry_after
                            .as_deref()
                            .and_then(|v| retry_after_ms(v, clock.now_ms())),
                    ),
                    408 | 500..=599 => Retryable::Server(response.status),
                    other => Retryable::BadBody(format!("unexpected status {other}")),
                },
            },
        };
        failed_attempts += 1;
        if let Retryable::RateLimited(Some(wait)) = failure {
            if wait > policy.max_retry_after_wait_ms {
                return Err(GaveUp::RateLimited {
                    retry_after_ms: wait,
                }
                .into());
            }
        }
        let backoff = policy
            .backoff
            .delay_ms(failed_attempts, previous_delay, random);
        let delay = match failure {
            Retryable::RateLimited(Some(wait)) => wait,
            _ => backoff,
        };
        if failed_attempts >= policy.max_attempts {
            let attempts = failed_attempts;
            return Err(match failure {
                Retryable::Offline(detail) => GaveUp::Offline { attempts, detail },
                Retryable::Server(status) => GaveUp::Server { status, attempts },
                Retryable::BadBody(detail) => GaveUp::BadBody { attempts, detail },
                Retryable::RateLimited(_) => GaveUp::RateLimited {
                    retry_after_ms: delay,
                },
            }
            .into());
        }
        previous_delay = delay;
        *retries += 1;
        clock.sleep(delay).await;
    }
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
