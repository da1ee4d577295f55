//! Test doubles for native tests (and the integration tests, through the `testing`
//! feature): a memory store, scripted transports, fake servers, a manual clock, seeded
//! randomness. Never part of the shipped build.

pub mod manual_clock;
pub mod memory_outbox;
pub mod memory_store;
pub mod outbox_contents;
pub mod push_server;
pub mod push_server_authoring;
pub mod scripted_transport;
pub mod seeded_random;
pub mod server_log;
