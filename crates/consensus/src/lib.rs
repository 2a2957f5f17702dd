//! Consensus for Proconsul: openraft glue around the pure state machine.
//!
//! openraft (pinned `=0.10.0-alpha.37`) is hidden behind this crate, so its API churn
//! stops here. The crate provides the Raft log storage, the adapter that applies
//! committed entries to [`proconsul_state::State`] and publishes each new version to
//! readers, and [`Consensus`], the handle the agent writes through and reads from.

mod error;
mod log_store;
mod network;
mod node;
mod reader;
mod state_machine;
mod types;

pub use error::ConsensusError;
pub use node::{
    Applied, Consensus, ConsensusConfig, LeaderInfo, RaftConfiguration, RaftServer, ServerOptions,
};
pub use reader::StateReader;
