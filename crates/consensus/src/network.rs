//! The network between servers as openraft sees it. `-dev` is a cluster of one and never
//! sends a Raft RPC ([`NoNetwork`]); servers send theirs over server RPC ([`RpcNetwork`]).

use std::future::Future;
use std::time::{Duration, Instant};

use openraft::AnyError;
use openraft::alias::{SnapshotOf, VoteOf};
use openraft::errors::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::v2::RaftNetworkV2;
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::metrics::replication::PeerMetrics;
use crate::rpc::client::{CallError, RpcClient};
use crate::rpc::messages::{self, Answer, SnapshotTransfer};
use crate::types::{ServerNode, TypeConfig};

/// Hands out clients that cannot reach anyone.
#[derive(Debug, Clone, Default)]
pub struct NoNetwork;

/// A client for a peer that a single-server cluster does not have.
#[derive(Debug, Clone, Default)]
pub struct UnreachablePeer;

fn unreachable(reason: impl std::fmt::Display) -> Unreachable<TypeConfig> {
    Unreachable::new(&AnyError::error(reason))
}

/// The least time a whole-snapshot transfer is given, and how much more each
/// [`SNAPSHOT_TIMEOUT_SCALE`] bytes of it get (hashicorp/raft's transport scales its
/// InstallSnapshot deadline the same way: 10 s per 256 KiB, at least 10 s).
const SNAPSHOT_TIMEOUT_UNIT: Duration = Duration::from_secs(10);
const SNAPSHOT_TIMEOUT_SCALE: usize = 256 * 1024;

/// How long sending a snapshot of `bytes` may take before it counts as lost. Scaled by
/// size rather than openraft's one `install_snapshot_timeout`, so that a small snapshot
/// sent into a partition is given up, and sent again, within seconds of the partition
/// healing, while a large one still has time to cross.
fn snapshot_timeout(bytes: usize) -> Duration {
    let units = u32::try_from(bytes / SNAPSHOT_TIMEOUT_SCALE).unwrap_or(u32::MAX);
    SNAPSHOT_TIMEOUT_UNIT.saturating_mul(units.max(1))
}

const NO_PEERS: &str = "this server has no peers: server RPC is not available in -dev mode";

impl RaftNetworkFactory<TypeConfig> for NoNetwork {
    type Network = UnreachablePeer;

    async fn new_client(&mut self, _target: u64, _node: &ServerNode) -> UnreachablePeer {
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
        Err(RPCError::Unreachable(unreachable(NO_PEERS)))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(unreachable(NO_PEERS)))
    }

    async fn full_snapshot(
        &mut self,
        _vote: VoteOf<TypeConfig>,
        _snapshot: SnapshotOf<TypeConfig, Self::SnapshotData>,
        _cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        Err(StreamingError::Unreachable(unreachable(NO_PEERS)))
    }
}

/// Hands out server RPC clients, all sharing one connection pool.
#[derive(Clone, Default)]
pub struct RpcNetwork {
    client: RpcClient,
}

impl RpcNetwork {
    /// Raft's messages go through `client` (and its TLS settings).
    pub fn new(client: RpcClient) -> RpcNetwork {
        RpcNetwork { client }
    }
}

/// Raft's messages to one peer, sent to its server RPC address.
pub struct RpcPeer {
    client: RpcClient,
    addr: String,
    /// Its replication timers (`peer_id` = its node ID).
    metrics: PeerMetrics,
}

impl RaftNetworkFactory<TypeConfig> for RpcNetwork {
    type Network = RpcPeer;

    async fn new_client(&mut self, target: u64, node: &ServerNode) -> RpcPeer {
        let peer_id = if node.id.is_empty() {
            target.to_string()
        } else {
            node.id.clone()
        };
        RpcPeer {
            client: self.client.clone(),
            addr: node.addr.clone(),
            metrics: PeerMetrics::new(&peer_id),
        }
    }
}

impl RpcPeer {
    /// One Raft RPC: every failure to get an answer counts as "unreachable", so openraft
    /// backs off instead of retrying in a tight loop.
    async fn send<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, Unreachable<TypeConfig>> {
        self.send_within(path, request, option.hard_ttl()).await
    }

    /// [`RpcPeer::send`] given `ttl` to answer.
    async fn send_within<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        request: &Req,
        ttl: Duration,
    ) -> Result<Resp, Unreachable<TypeConfig>> {
        let answer: Answer<Resp> = self
            .client
            .call(&self.addr, path, request, ttl)
            .await
            .map_err(|error: CallError| unreachable(error))?;
        answer.map_err(|refused| unreachable(format!("{} refused: {refused:?}", self.addr)))
    }
}

impl RaftNetworkV2<TypeConfig> for RpcPeer {
    type SnapshotData = std::io::Cursor<Vec<u8>>;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        let started = Instant::now();
        let answer = self.send(messages::APPEND_ENTRIES, &rpc, &option).await;
        self.metrics.sent(rpc.entries.len(), started);
        Ok(answer?)
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Ok(self.send(messages::VOTE, &rpc, &option).await?)
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Ok(self.send(messages::PRE_VOTE, &rpc, &option).await?)
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<TypeConfig>,
        snapshot: SnapshotOf<TypeConfig, Self::SnapshotData>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let transfer = SnapshotTransfer {
            vote,
            meta: snapshot.meta,
            data: snapshot.snapshot.into_inner(),
        };
        let ttl = snapshot_timeout(transfer.data.len());
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            answer = self.send_within(messages::SNAPSHOT, &transfer, ttl) => Ok(answer?),
        }
    }

    async fn transfer_leader(
        &mut self,
        request: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        Ok(self
            .send(messages::TRANSFER_LEADER, &request, &option)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_gets_ten_seconds_per_quarter_mebibyte_and_at_least_ten() {
        assert_eq!(snapshot_timeout(0), Duration::from_secs(10));
        assert_eq!(snapshot_timeout(300 * 1024), Duration::from_secs(10));
        assert_eq!(snapshot_timeout(1024 * 1024), Duration::from_secs(40));
        assert_eq!(
            snapshot_timeout(100 * 1024 * 1024),
            Duration::from_secs(4000)
        );
        assert!(snapshot_timeout(usize::MAX) > Duration::from_secs(4000));
    }
}
