//! Retry-After and the token callback's timeout.

mod retry_after;
mod token_timeout;
