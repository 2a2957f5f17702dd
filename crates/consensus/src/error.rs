//! Why a write or a leadership check did not go through.

/// A consensus failure as the HTTP layer reports it. `NoLeader`'s text is Consul's.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    #[error("No cluster leader")]
    NoLeader,
    /// A write or read that waited its whole hold time (no quorum to commit it).
    #[error("timed out enqueuing operation")]
    Timeout,
    #[error("raft is shutting down")]
    ShuttingDown,
    #[error("raft storage error: {0}")]
    Storage(String),
    #[error("raft error: {0}")]
    Raft(String),
}
