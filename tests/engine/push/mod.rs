//! Local edits end to end over the fake push server: batches, outcomes, conflicts, dead
//! letters, commands, crashes and races, the model-based test and the answer fuzz.

mod batch_loop;
mod command_routes;
mod commands;
mod conflict_privacy;
mod dead_letters;
mod fuzz;
mod model;
mod outcomes;
mod race;
mod recovery;
mod rejections;
