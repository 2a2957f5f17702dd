//! The network between servers. A `-dev` agent is a cluster of one and never sends a Raft
//! RPC; every target is reported unreachable. Server RPC (port 8300) replaces this when
//! several servers form a cluster.

use std::future::Future;

use openraft::AnyError;
use openraft::BasicNode;
use openraft::alias::{SnapshotOf, VoteOf};
use openraft::errors::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};

use crate::types::TypeConfig;

/// Hands out clients that cannot reach anyone.
#[derive(Debug, Clone, Default)]
pub struct NoNetwork;

/// A client for a peer that a single-server cluster does not have.
#[derive(Debug, Clone, Default)]
pub struct UnreachablePeer;

fn unreachable() -> Unreachable<TypeConfig> {
    Unreachable::new(&AnyError::error(
        "this server has no peers: server RPC is not available in -dev mode",
    ))
}

impl RaftNetworkFactory<TypeConfig> for NoNetwork {
    type Network = UnreachablePeer;

    async fn new_client(&mut self, _target: u64, _node: &BasicNode) -> UnreachablePeer {
        UnreachablePeer
    }
}

impl RaftNetworkV2<TypeConfig> for UnreachablePeer {
    type SnapshotData = std::io::Cursor<Vec<u8>>;

    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(unreachable()))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(unreachable()))
    }

    async fn full_snapshot(
        &mut self,
        _vote: VoteOf<TypeConfig>,
        _snapshot: SnapshotOf<TypeConfig, Self::SnapshotData>,
        _cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        Err(StreamingError::Unreachable(unreachable()))
    }
}
