//! The requests and answers of server RPC, and the paths they travel on.

use std::sync::Arc;

use openraft::alias::{SnapshotMetaOf, VoteOf};
use proconsul_state::{Command, CommandOutcome};
use serde::{Deserialize, Serialize};

use crate::error::ConsensusError;

pub const APPEND_ENTRIES: &str = "/raft/append-entries";
pub const VOTE: &str = "/raft/vote";
pub const PRE_VOTE: &str = "/raft/pre-vote";
pub const SNAPSHOT: &str = "/raft/snapshot";
pub const TRANSFER_LEADER: &str = "/raft/transfer-leader";
pub const HELLO: &str = "/cluster/hello";
pub const WRITE: &str = "/cluster/write";
pub const READ_INDEX: &str = "/cluster/read-index";
pub const ADD_SERVER: &str = "/cluster/add-server";
pub const REMOVE_SERVER: &str = "/cluster/remove-server";
pub const LEAD_TRANSFER: &str = "/cluster/transfer-leadership";
pub const AUTOPILOT_HEALTH: &str = "/cluster/autopilot-health";
/// Client agents: an HTTP request for the server's API.
pub const AGENT_HTTP: &str = "/agent/http";
/// Client agents: one of their own catalog writes.
pub const AGENT_WRITE: &str = "/agent/write";
/// Client agents: the catalog's view of their node.
pub const AGENT_NODE: &str = "/agent/node";
/// Client agents: a DNS query for the server's DNS.
pub const AGENT_DNS: &str = "/agent/dns";
/// Client agents with ACLs: what a token grants.
pub const AGENT_ACL_TOKEN: &str = "/agent/acl-token";

/// A whole snapshot in one message (the receiver installs it with the sender's vote).
#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotTransfer {
    pub vote: VoteOf<crate::types::TypeConfig>,
    pub meta: SnapshotMetaOf<crate::types::TypeConfig>,
    pub data: Vec<u8>,
}

/// A server as discovery knows it, before or after it is part of a Raft configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub node_id: u64,
    /// The agent's node ID (a UUID).
    pub id: String,
    pub name: String,
    pub rpc_addr: String,
    pub datacenter: String,
    /// `bootstrap_expect` of that server (0 when it has none).
    pub bootstrap_expect: u32,
    /// Whether it already belongs to a cluster (its Raft state is initialised).
    pub initialized: bool,
    /// Its LAN gossip address (empty if it did not say).
    pub gossip_addr: String,
}

impl ServerInfo {
    /// The server as the Raft configuration records it.
    pub fn node(&self) -> crate::types::ServerNode {
        crate::types::ServerNode {
            addr: self.rpc_addr.clone(),
            name: self.name.clone(),
            id: self.id.clone(),
        }
    }
}

/// Discovery: "here is who I am and whom I know"; the answer is the same from the peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub from: ServerInfo,
    pub known: Vec<ServerInfo>,
    /// The voters of the sender's Raft configuration (empty before it has one).
    pub voters: Vec<u64>,
}

/// Writes a follower proposes on behalf of its clients, in the order they arrived; the
/// answer holds one result per write, in the same order.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardedWrites {
    pub commands: Vec<Arc<Command>>,
}

/// The leader's answer to one forwarded write: the index it was applied at.
#[derive(Debug, Serialize, Deserialize)]
pub struct WriteApplied {
    pub index: u64,
    pub outcome: CommandOutcome,
}

/// A follower asks the leader up to which index it must apply before reading.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReadIndexRequest {
    /// `?consistent`: confirm leadership with a quorum (else a leader lease suffices).
    pub consistent: bool,
}

/// Asks the leader to change the voters.
#[derive(Debug, Serialize, Deserialize)]
pub struct AddServer {
    pub server: ServerInfo,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RemoveServer {
    pub node_id: u64,
}

/// Asks the leader to hand leadership to `to` (or to a voter of its choosing).
#[derive(Debug, Serialize, Deserialize)]
pub struct TransferLeadership {
    pub to: Option<u64>,
}

/// Why a server refused a request, as the requester needs to know it: only `NotLeader`
/// and `NoLeader` mean "nothing was done, ask again elsewhere".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RemoteError {
    NotLeader,
    NoLeader,
    ShuttingDown,
    Failed(String),
    /// The server's agent has not installed its handler of forwarded requests yet:
    /// nothing was done.
    NotReady,
}

impl From<ConsensusError> for RemoteError {
    fn from(error: ConsensusError) -> Self {
        match error {
            ConsensusError::NoLeader => RemoteError::NoLeader,
            ConsensusError::ShuttingDown => RemoteError::ShuttingDown,
            other => RemoteError::Failed(other.to_string()),
        }
    }
}

impl From<RemoteError> for ConsensusError {
    fn from(error: RemoteError) -> Self {
        match error {
            RemoteError::NotLeader | RemoteError::NoLeader => ConsensusError::NoLeader,
            RemoteError::ShuttingDown => ConsensusError::ShuttingDown,
            RemoteError::Failed(message) => ConsensusError::Raft(message),
            RemoteError::NotReady => ConsensusError::Raft("the server is not ready".to_string()),
        }
    }
}

/// What a handler answers: a result the requester decodes as such.
pub type Answer<T> = Result<T, RemoteError>;
