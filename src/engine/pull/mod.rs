//! The pull side: a page fetched, decoded, planned against local state and committed.

pub mod apply_plan;
pub mod background;
pub mod cached_reads;
pub mod config;
pub mod decoded_page;
pub mod error;
pub mod fetch;
pub mod held_index;
pub mod integrity;
pub mod item_meta;
pub mod page_loop;
pub mod planner;
pub mod privacy;
pub mod read_ahead;
pub mod replacement;
pub mod report;
pub mod run;
pub mod snapshot_retention;
pub mod state_cache;
