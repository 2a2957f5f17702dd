//! Changing who the voters are: adding a server that joins, removing one that leaves or
//! that an operator removes, and handing leadership over. Every change is made by the
//! leader; any server accepts the request and takes it there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use openraft::ChangeMembers;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::{ChangeMembershipError, ClientWriteError, RaftError};
use openraft::raft::ClientWriteResponse;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::error::ConsensusError;
use crate::node::{Consensus, fatal_error};
use crate::rpc::client::CallError;
use crate::rpc::messages::{
    self, AddServer, Answer, RemoteError, RemoveServer, ServerInfo, TransferLeadership,
};
use crate::types::{ServerNode, TypeConfig};

/// How long a membership change may take (a new server catching up included).
const CHANGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Promotions retried when a concurrent membership change got in first.
const PROMOTE_ATTEMPTS: u32 = 5;
/// How long a leadership transfer may take before it is reported as failed.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(10);

impl Consensus {
    /// Runs `here` on the leader: directly when this server leads, else by sending
    /// `request` to the leader's `path`. Retried while no leader is known or reachable.
    pub(crate) async fn at_leader<Req, Resp, Here>(
        &self,
        path: &str,
        request: &Req,
        here: impl Fn() -> Here,
        timeout: Duration,
    ) -> Result<Resp, ConsensusError>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        Here: Future<Output = Answer<Resp>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let answer = match self.leader() {
                Some(leader) if leader.node_id == self.inner.node_id => Some(here().await),
                Some(leader) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    match self
                        .inner
                        .rpc
                        .call(&leader.rpc_addr, path, request, remaining)
                        .await
                    {
                        Ok(answer) => Some(answer),
                        Err(CallError::Unreachable { .. }) => None,
                        Err(failed) => return Err(ConsensusError::Raft(failed.to_string())),
                    }
                }
                None => None,
            };
            match answer {
                Some(Ok(resp)) => return Ok(resp),
                Some(Err(RemoteError::NotLeader | RemoteError::NoLeader)) | None => {}
                Some(Err(refused)) => return Err(refused.into()),
            }
            if Instant::now() >= deadline {
                return Err(ConsensusError::NoLeader);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks the cluster to add `server` as a voter.
    pub(crate) async fn add_server(&self, server: ServerInfo) -> Result<(), ConsensusError> {
        let request = AddServer {
            server: server.clone(),
        };
        let stabilization = self.autopilot_configuration().server_stabilization_time;
        self.at_leader(
            messages::ADD_SERVER,
            &request,
            || self.add_as_leader(server.clone()),
            CHANGE_TIMEOUT + stabilization,
        )
        .await
    }

    /// `DELETE /v1/operator/raft/peer`, `proconsul leave`: removes a server from the
    /// voters (and from the configuration).
    pub async fn remove_server(&self, node_id: u64) -> Result<(), ConsensusError> {
        self.at_leader(
            messages::REMOVE_SERVER,
            &RemoveServer { node_id },
            || self.remove_as_leader(node_id),
            CHANGE_TIMEOUT,
        )
        .await
    }

    /// `POST /v1/operator/raft/transfer-leader`: hands leadership to `to`, or to the
    /// most up-to-date other voter. Returns the new leader's node ID.
    pub async fn transfer_leadership(&self, to: Option<u64>) -> Result<u64, ConsensusError> {
        self.at_leader(
            messages::LEAD_TRANSFER,
            &TransferLeadership { to },
            || self.transfer_as_leader(to),
            TRANSFER_TIMEOUT,
        )
        .await
    }

    /// A server leaving for good: it takes itself out of the configuration, so the
    /// others' quorum no longer counts it, and from then on does not ask to be added
    /// back (a restarted process does, as a returning server). A lone or unconfigured
    /// server has nothing to do. If the removal fails, the server stays as it was.
    pub async fn leave(&self) -> Result<(), ConsensusError> {
        let voters = self.voter_ids();
        if !voters.contains(&self.inner.node_id) || voters.len() < 2 {
            return Ok(());
        }
        self.inner.leaving.store(true, Ordering::SeqCst);
        let removed = self.remove_server(self.inner.node_id).await;
        if removed.is_err() {
            self.inner.leaving.store(false, Ordering::SeqCst);
        }
        removed
    }

    /// Whether [`Consensus::leave`] took this server out (or is taking it out).
    pub(crate) fn is_leaving(&self) -> bool {
        self.inner.leaving.load(Ordering::SeqCst)
    }

    /// The voters of the configuration this server knows.
    pub(crate) fn voter_ids(&self) -> BTreeSet<u64> {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        metrics.membership_config.voter_ids().collect()
    }

    /// On the leader: adds `server` as a learner, waits until it has caught up and stayed
    /// healthy for autopilot's `server_stabilization_time`, then makes it a voter. Adding a voter that is already there is a success.
    pub(crate) async fn add_as_leader(&self, server: ServerInfo) -> Answer<()> {
        if self.voter_ids().contains(&server.node_id) {
            return Ok(());
        }
        let raft = &self.inner.raft;
        let caught_up = tokio::time::timeout(
            CHANGE_TIMEOUT,
            retry_in_progress(|| raft.add_learner(server.node_id, server.node(), true)),
        )
        .await
        .map_err(|_| RemoteError::Failed(format!("{} did not catch up", server.name)))?;
        caught_up?;
        // Autopilot: a voter only once it has stayed healthy for the stabilization time.
        let stabilization = self.autopilot_configuration().server_stabilization_time;
        let deadline = Instant::now() + CHANGE_TIMEOUT + stabilization;
        self.wait_until_stable(server.node_id, deadline).await?;
        let promote = ChangeMembers::AddVoterIds(BTreeSet::from([server.node_id]));
        // Two requests to add the same server (its discovery and an operator's `join`)
        // may race: the loser's change fails on the winner's membership entry. It is done
        // once the server is a voter, whoever made it one.
        let mut attempts = 0;
        loop {
            if self.voter_ids().contains(&server.node_id) {
                break;
            }
            match retry_in_progress(|| raft.change_membership(promote.clone(), false)).await {
                Ok(_) => break,
                Err(_) if attempts < PROMOTE_ATTEMPTS => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error),
            }
        }
        tracing::info!(node = %server.name, addr = %server.rpc_addr, "raft: added server as a voter");
        Ok(())
    }

    /// On the leader: removes `node_id` from the configuration. A leader removing itself
    /// hands leadership to another voter once the change is committed.
    pub(crate) async fn remove_as_leader(&self, node_id: u64) -> Answer<()> {
        let voters = self.voter_ids();
        let learners: BTreeMap<u64, ServerNode> = {
            let metrics = self.inner.raft.metrics();
            let metrics = metrics.borrow_watched();
            metrics
                .membership_config
                .nodes()
                .filter(|(id, _)| !voters.contains(id))
                .map(|(id, node)| (*id, node.clone()))
                .collect()
        };
        let change = if voters.contains(&node_id) {
            if voters.len() == 1 {
                return Err(RemoteError::Failed(
                    "cannot remove the only voter of the Raft configuration".to_string(),
                ));
            }
            ChangeMembers::RemoveVoters(BTreeSet::from([node_id]))
        } else if learners.contains_key(&node_id) {
            ChangeMembers::RemoveNodes(BTreeSet::from([node_id]))
        } else {
            return Err(RemoteError::Failed(format!(
                "server {node_id} is not in the Raft configuration"
            )));
        };
        let raft = &self.inner.raft;
        retry_in_progress(|| raft.change_membership(change.clone(), false)).await?;
        tracing::info!(node_id, "raft: removed server from the configuration");
        Ok(())
    }

    /// On the leader: triggers the transfer and waits until `to` leads.
    pub(crate) async fn transfer_as_leader(&self, to: Option<u64>) -> Answer<u64> {
        let me = self.inner.node_id;
        let voters = self.voter_ids();
        let target = match to {
            Some(to) if to == me => {
                return Err(RemoteError::Failed(
                    "cannot transfer leadership to the current leader".to_string(),
                ));
            }
            Some(to) if !voters.contains(&to) => {
                return Err(RemoteError::Failed(format!(
                    "server {to} is not a voter of the Raft configuration"
                )));
            }
            Some(to) => to,
            None => self.most_caught_up_voter().ok_or_else(|| {
                RemoteError::Failed(
                    "cannot transfer leadership: there are no other voters".to_string(),
                )
            })?,
        };
        let raft = &self.inner.raft;
        raft.trigger()
            .transfer_leader(target)
            .await
            .map_err(|fatal| RemoteError::from(fatal_error(fatal)))?;
        raft.wait(Some(TRANSFER_TIMEOUT))
            .current_leader(target, "leadership transfer")
            .await
            .map_err(|_| {
                RemoteError::Failed(format!(
                    "server {target} did not take over leadership within {TRANSFER_TIMEOUT:?}"
                ))
            })?;
        tracing::info!(to = target, "raft: transferred leadership");
        Ok(target)
    }

    /// The other voter whose log the leader has replicated furthest.
    fn most_caught_up_voter(&self) -> Option<u64> {
        let me = self.inner.node_id;
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let replication = metrics.replication.as_ref();
        metrics
            .membership_config
            .voter_ids()
            .filter(|id| *id != me)
            .max_by_key(|id| {
                replication
                    .and_then(|r| r.get(id).cloned().flatten())
                    .map(|log_id| log_id.index())
            })
    }
}

/// Runs one membership change, waiting for one already in progress to finish first.
async fn retry_in_progress<Change>(change: impl Fn() -> Change) -> Answer<()>
where
    Change: Future<Output = Result<ClientWriteResponse<TypeConfig>, ChangeError>>,
{
    let deadline = Instant::now() + CHANGE_TIMEOUT;
    loop {
        match change().await {
            Ok(_) => return Ok(()),
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                ChangeMembershipError::InProgress(_),
            ))) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(membership_error(error)),
        }
    }
}

/// What openraft answers to a membership change.
type ChangeError = RaftError<TypeConfig, ClientWriteError<TypeConfig>>;

/// A membership change the leader could not make.
fn membership_error(error: ChangeError) -> RemoteError {
    match error {
        RaftError::APIError(ClientWriteError::ForwardToLeader(_)) => RemoteError::NotLeader,
        RaftError::Fatal(fatal) => fatal_error(fatal).into(),
        other => RemoteError::Failed(other.to_string()),
    }
}
