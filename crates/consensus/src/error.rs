//! Why a write or a leadership check did not go through.

/// A consensus failure as the HTTP layer reports it. `NoLeader`'s text is Consul's.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    #[error("No cluster leader")]
    NoLeader,
    #[error("raft is shutting down")]
    ShuttingDown,
    #[error("raft storage error: {0}")]
    Storage(String),
    #[error("raft error: {0}")]
    Raft(String),
}
