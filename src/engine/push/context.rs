//! What one push call carries through its batches and its command replay, in a leaf of its own
//! so the push loop (`batch_loop.rs`) and the command replay (`command_replay.rs`) both use it
//! without importing each other.

use crate::engine::push::config::PushConfig;

/// Everything one push call needs besides the store.
pub(crate) struct PushContext<'a, T, C, R> {
    pub transport: &'a T,
    pub clock: &'a C,
    pub random: &'a R,
    pub config: &'a PushConfig,
}
