//! Server RPC (port 8300): what servers say to each other. Raft's own messages, plus what
//! makes any server able to serve any request: writes and read barriers forwarded to the
//! leader, and the discovery and membership requests that form and change a cluster;
//! and what client agents ask of servers ([`crate::agent_rpc`], [`agent_routes`]).
//!
//! It is HTTP/1.1 with postcard bodies: axum routes it, hyper's pooled client sends it,
//! so connection reuse, framing and timeouts come from well-worn code; rustls secures it
//! as Consul's `tls.internal_rpc` says ([`tls`]).

pub(crate) mod agent_routes;
pub(crate) mod client;
pub(crate) mod listener;
pub(crate) mod messages;
pub(crate) mod server;
pub(crate) mod tls;
