//! Local storage as the engine sees it: the cache of pulled data, the outbox, and the reads
//! written once over them.

pub mod cache;
pub mod cache_reads;
pub mod error;
pub mod freshness;
pub mod held_index;
pub mod json_rows;
pub mod outbox;
pub mod outbox_plan;
pub mod outbox_reads;
