//! Where the agent's own catalog writes and reads of its node go: a server's own
//! consensus, or, on a client agent, a server over server RPC. The local-state code
//! (registrations, check updates, anti-entropy, alias checks) runs the same on both
//! through this seam; the server's HTTP API, which only servers serve, reaches
//! [`Consensus`] through [`CatalogBackend::server`].

use std::sync::Arc;

use proconsul_consensus::agent_rpc::NodeView;
use proconsul_consensus::{Applied, Consensus, ConsensusError, RpcTls};
use proconsul_state::Command;

use crate::error::WriteError;
use crate::server_link::ServerLink;

/// The agent's catalog: its own Raft (servers, `-dev`) or the servers (clients).
#[derive(Clone)]
pub enum CatalogBackend {
    Server(Consensus),
    Client(Arc<ServerLink>),
}

impl CatalogBackend {
    /// This server's consensus; `None` on a client agent.
    pub fn server(&self) -> Option<&Consensus> {
        match self {
            CatalogBackend::Server(consensus) => Some(consensus),
            CatalogBackend::Client(_) => None,
        }
    }

    /// The link to the servers; `None` on a server.
    pub fn client(&self) -> Option<&Arc<ServerLink>> {
        match self {
            CatalogBackend::Server(_) => None,
            CatalogBackend::Client(link) => Some(link),
        }
    }

    /// Commits `command` (through the leader) and returns once it is applied. A client
    /// makes it with the token whose secret is `token`, which the server checks with
    /// ACLs on; a server's own writes were vetted before (`sync_acl`) and ignore it.
    pub async fn write(&self, command: Command, token: &str) -> Result<Applied, WriteError> {
        match self {
            CatalogBackend::Server(consensus) => Ok(consensus.write(command).await?),
            CatalogBackend::Client(link) => Ok(link.write(&command, token).await?),
        }
    }

    /// The catalog's view of `node`: this server's replica, or what a server reads.
    pub async fn node_view(&self, node: &str) -> Result<NodeView, WriteError> {
        match self {
            CatalogBackend::Server(consensus) => {
                Ok(NodeView::of(&consensus.reader().current(), node))
            }
            CatalogBackend::Client(link) => Ok(link.node_view(node).await?),
        }
    }

    /// Server RPC's new TLS settings (a reload): both ways on a server, outgoing on a
    /// client.
    pub fn reload_tls(&self, tls: &RpcTls) {
        match self {
            CatalogBackend::Server(consensus) => consensus.reload_rpc_tls(tls),
            CatalogBackend::Client(link) => link.reload_tls(tls),
        }
    }

    /// Stops Raft on a server; a client has nothing to stop.
    pub async fn shutdown(&self) -> Result<(), ConsensusError> {
        match self {
            CatalogBackend::Server(consensus) => consensus.shutdown().await,
            CatalogBackend::Client(_) => Ok(()),
        }
    }
}
