//! Errors that stop the agent from starting or running.

/// Why the agent could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("consensus: {0}")]
    Consensus(#[from] proconsul_consensus::ConsensusError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error("cannot register the agent's own node: {0}")]
    SelfRegistration(String),
}
