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
    #[error("configuration: {0}")]
    Config(String),
    #[error("DNS: {0}")]
    Dns(#[from] proconsul_dns::DnsError),
}

/// Why a write to the catalog did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Consensus(#[from] proconsul_consensus::ConsensusError),
    /// The state machine refused the command; the text is Consul's.
    #[error("{0}")]
    Rejected(String),
    /// A client agent's write did not reach a server, or failed there.
    #[error(transparent)]
    Servers(#[from] crate::server_link::LinkError),
    #[error(transparent)]
    NotAServer(#[from] NotAServer),
}

/// A request only servers serve reached a client agent (its router forwards them, so
/// this is a bug, answered as a 500).
#[derive(Debug, thiserror::Error)]
#[error("this request is served by servers only; this agent is a client")]
pub struct NotAServer;
