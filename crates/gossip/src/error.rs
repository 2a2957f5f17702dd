//! Errors of the gossip layer.

/// What can go wrong starting, joining or operating the gossip layer.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    /// `force_leave` of a member this node does not know.
    #[error("No node found with name '{0}'")]
    NoSuchMember(String),
    /// Encoded tags above serf's 512-byte limit.
    #[error("Encoded length of tags exceeds limit of 512 bytes (got {0})")]
    TagsTooLarge(usize),
    /// `join` reached none of the addresses.
    #[error("Failed to join any nodes: {0}")]
    NoneJoined(String),
    /// A keyring problem (bad key, primary removal, unreadable keyring file).
    #[error("{0}")]
    Keyring(String),
    /// An operation this member refuses (force-leaving itself).
    #[error("{0}")]
    NotAllowed(String),
    /// A configuration the gossip layer cannot run with.
    #[error("invalid gossip configuration: {0}")]
    Config(String),
    /// The operation needs a running member, but this one left or shut down.
    #[error("gossip is shut down")]
    Shutdown,
    /// A peer answered something unexpected or could not be read (wrong key, garbage).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Socket or file error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
