//! What the outbox side of a [`MemoryStore`](crate::engine::MemoryStore) holds, in a leaf of
//! its own: the store holds it (`memory_store.rs`) and the outbox semantics change it
//! (`memory_outbox.rs`), without the two files importing each other.

use crate::engine::{Conflict, DeadLetter, DeferredCommand, OutboxOp, PushBatch};
use std::collections::BTreeMap;

/// Everything the outbox side of a [`MemoryStore`] holds; comparable, so tests can assert
/// that a refused write changed nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxContents {
    /// Queued ops by seq.
    pub ops: BTreeMap<u64, OutboxOp>,
    pub in_flight: Option<PushBatch>,
    /// Queued commands by seq.
    pub commands: BTreeMap<u64, DeferredCommand>,
    /// Open and resolved, oldest first.
    pub conflicts: Vec<Conflict>,
    pub dead_letters: Vec<DeadLetter>,
    /// The last seq handed out; ops and commands share one sequence.
    pub last_seq: u64,
}

impl OutboxContents {
    pub(super) fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }
}
