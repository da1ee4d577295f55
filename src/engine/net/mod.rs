//! HTTP as the engine sees it, and how it retries.

pub mod retry;
pub mod retry_gate;
pub mod transport;
