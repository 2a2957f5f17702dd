//! Consul's DNS interface: `<service>.service.consul`, tags, RFC 2782 SRV names,
//! `<node>.node.consul`, `<hex>.addr`, reverse lookups, SOA and NS, answered from the
//! agent's replica of the state without a Raft round trip.
//!
//! Layers, each ignorant of the one above: [`name`] turns labels into a lookup,
//! [`answer`] turns a lookup and a state into records, [`fit`] cuts them to the packet,
//! [`server`] speaks DNS through hickory and forwards other names to recursors. What
//! the agent reaches for this crate is given as closures: other datacenters' names
//! ([`remote`]), prepared queries failing over ([`query_failover`]), client agents'
//! queries sent to a server ([`forwarding`]).

pub mod answer;
pub mod config;
pub mod fit;
pub mod forwarding;
pub mod healthy;
pub mod in_process;
pub mod name;
pub mod order;
pub mod query_failover;
pub mod recursor;
pub mod remote;
pub mod response_cache;
pub mod server;
pub mod udp;

pub use config::{DnsConfig, RecursorStrategy, SoaConfig};
pub use forwarding::{ForwardQuery, ForwardingDnsServer};
pub use query_failover::{FailoverFound, FailoverRequest, QueryFailover};
pub use remote::{RemoteAnswer, RemoteQuery};
pub use server::{AclSource, DnsError, DnsHandler, DnsServer, StateSource};
