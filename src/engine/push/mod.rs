//! The push side: local edits (renames, commands) sent in queue order and settled.

pub mod batch;
pub mod batch_loop;
pub mod command_replay;
pub mod commands;
pub mod config;
pub mod conflicts;
pub mod context;
pub mod dead_letters;
pub mod edit_error;
pub mod error;
pub mod exchange;
pub mod outcome;
pub mod rename;
pub mod report;
