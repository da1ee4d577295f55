//! A pulled page end to end over the memory store: planning, paging, replacement, the
//! state cache, the version guard, property tests and the decoder fuzz.

mod apply;
mod concurrent_pullers;
mod error_table;
mod fuzz;
mod held_index;
mod kept_state;
mod page_loop;
mod pipeline;
mod pipeline_rig;
mod props;
mod replacement;
mod state_cache;
mod version_guard;
