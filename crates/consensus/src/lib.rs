//! Consensus for Proconsul: openraft glue around the pure state machine.
//!
//! openraft (pinned `=0.10.0-alpha.37`) is hidden behind this crate, so its API churn
//! stops here. The crate provides the Raft log storage, the adapter that applies
//! committed entries to [`proconsul_state::State`] and publishes each new version to
//! readers, server RPC between servers (Raft traffic, forwarded writes and reads,
//! discovery and membership changes), and [`Consensus`], the handle the agent writes
//! through and reads from. Client agents, which run no Raft, reach servers through
//! [`agent_rpc::ServerRpcClient`].

pub mod agent_acl;
pub mod agent_rpc;
mod autopilot;
mod discovery;
mod error;
pub mod fault;
mod forward;
mod forward_queue;
mod log_store;
mod membership;
mod metrics;
mod network;
mod node;
mod reader;
mod rpc;
mod state_machine;
mod stats;
mod timing;
mod types;

pub use autopilot::{ClusterHealth, ServerHealth};
pub use discovery::with_port_unless_given;
pub use error::ConsensusError;
pub use node::{
    Applied, ClusterOptions, Consensus, ConsensusConfig, LeaderInfo, RaftConfiguration, RaftServer,
    ServerOptions,
};
pub use reader::StateReader;
pub use rpc::tls::RpcTls;
pub use stats::RaftStats;
