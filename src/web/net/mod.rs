//! The network: the fetch [`Transport`](crate::engine::Transport) and the host app's token
//! callback it calls, bounded by a timeout.

pub mod fetch_transport;
pub(crate) mod host_token;
