//! Any server serves any request: writes go to the leader, and reads that must see the
//! leader's latest state first learn from it how far to apply.
//!
//! A write is retried only while it cannot have been done: no leader known, the leader
//! unreachable before the request reached it, or the leader's own refusal to propose
//! it. Once a proposal may have reached Raft, its failure is reported, never repeated,
//! so a write is never applied twice by us. Every write gives up after
//! [`WRITE_TIMEOUT`] (Consul's `rpc_hold_timeout`), so nothing hangs without a quorum.

use std::time::Duration;

use openraft::ReadPolicy;
use openraft::errors::{ClientWriteError, LinearizableReadError, RaftError};
use proconsul_state::Command;
use tokio::time::Instant;

use crate::error::ConsensusError;
use crate::node::{Applied, Consensus, fatal_error};
use crate::rpc::client::CallError;
use crate::rpc::messages::{
    self, Answer, ForwardedWrite, ReadIndexRequest, RemoteError, WriteApplied,
};
use crate::types::Proposal;

/// How long a write may wait for a leader and its commit (Consul's `rpc_hold_timeout`).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(7);
/// The pause between looks for a leader.
const LEADER_POLL: Duration = Duration::from_millis(25);

/// What proposing on this server came to.
enum Proposed {
    Done(Applied),
    /// Raft refused before accepting it: this server does not lead (now).
    NotLeader,
}

impl Consensus {
    /// Proposes `command` (through the leader if this server is not it) and returns once
    /// it is committed and applied on the leader.
    pub async fn write(&self, command: Command) -> Result<Applied, ConsensusError> {
        let deadline = Instant::now() + WRITE_TIMEOUT;
        loop {
            let leader = self.leader();
            match leader {
                Some(leader) if leader.node_id == self.inner.node_id => {
                    match tokio::time::timeout_at(deadline, self.propose(command.clone())).await {
                        Err(_) => return Err(ConsensusError::Timeout),
                        Ok(Ok(Proposed::Done(applied))) => return Ok(applied),
                        Ok(Ok(Proposed::NotLeader)) => {}
                        Ok(Err(error)) => return Err(error),
                    }
                }
                Some(leader) => {
                    let request = ForwardedWrite {
                        command: command.clone(),
                    };
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    let answer: Result<Answer<WriteApplied>, CallError> = self
                        .inner
                        .rpc
                        .call(&leader.rpc_addr, messages::WRITE, &request, remaining)
                        .await;
                    match answer {
                        Ok(Ok(applied)) => {
                            return Ok(Applied {
                                index: applied.index,
                                outcome: applied.outcome,
                            });
                        }
                        Ok(Err(RemoteError::NotLeader | RemoteError::NoLeader))
                        | Err(CallError::Unreachable { .. }) => {}
                        Ok(Err(refused)) => return Err(refused.into()),
                        Err(failed @ CallError::Failed { .. }) => {
                            return Err(ConsensusError::Raft(failed.to_string()));
                        }
                    }
                }
                None => {}
            }
            if Instant::now() + LEADER_POLL >= deadline {
                return Err(ConsensusError::NoLeader);
            }
            tokio::select! {
                _ = tokio::time::sleep(LEADER_POLL) => {}
                _ = self.inner.shutdown.cancelled() => return Err(ConsensusError::ShuttingDown),
            }
        }
    }

    /// Proposes on this server's Raft.
    async fn propose(&self, command: Command) -> Result<Proposed, ConsensusError> {
        match self.inner.raft.client_write(Proposal(command)).await {
            Ok(response) => Ok(Proposed::Done(Applied {
                index: response.log_id.index(),
                outcome: response.data,
            })),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                Ok(Proposed::NotLeader)
            }
            Err(RaftError::Fatal(fatal)) => Err(fatal_error(fatal)),
            Err(error) => Err(ConsensusError::Raft(error.to_string())),
        }
    }

    /// A write a follower forwarded: proposed here, never forwarded again.
    pub(crate) async fn write_for_follower(&self, command: Command) -> Answer<WriteApplied> {
        let proposed = tokio::time::timeout(WRITE_TIMEOUT, self.propose(command))
            .await
            .map_err(|_| RemoteError::from(ConsensusError::Timeout))?;
        match proposed? {
            Proposed::Done(applied) => Ok(WriteApplied {
                index: applied.index,
                outcome: applied.outcome,
            }),
            Proposed::NotLeader => Err(RemoteError::NotLeader),
        }
    }

    /// Makes this server's state at least as new as the leader's was when the read began
    /// (the default consistency mode), or additionally confirms the leader with a quorum
    /// (`consistent`). On the leader the default mode reads at once, as Consul's does.
    pub async fn read_barrier(&self, consistent: bool) -> Result<(), ConsensusError> {
        let leader = self.leader().ok_or(ConsensusError::NoLeader)?;
        if leader.node_id == self.inner.node_id {
            if consistent {
                self.read_index(true).await?;
            }
            return Ok(());
        }
        let request = ReadIndexRequest { consistent };
        let answer: Answer<u64> = self
            .inner
            .rpc
            .call(
                &leader.rpc_addr,
                messages::READ_INDEX,
                &request,
                WRITE_TIMEOUT,
            )
            .await
            .map_err(|error| match error {
                CallError::Unreachable { .. } => ConsensusError::NoLeader,
                failed => ConsensusError::Raft(failed.to_string()),
            })?;
        let index = answer?;
        self.inner
            .raft
            .wait(Some(WRITE_TIMEOUT))
            .applied_index_at_least(Some(index), "read barrier")
            .await
            .map(|_| ())
            .map_err(|_| ConsensusError::Timeout)
    }

    /// On the leader: the log index a follower must apply before it reads. With
    /// `consistent` the leadership is confirmed by a quorum round, else by the lease.
    pub(crate) async fn read_index(&self, consistent: bool) -> Result<u64, ConsensusError> {
        let policy = if consistent {
            ReadPolicy::ReadIndex
        } else {
            ReadPolicy::LeaseRead
        };
        let read = tokio::time::timeout(WRITE_TIMEOUT, self.inner.raft.ensure_linearizable(policy))
            .await
            .map_err(|_| ConsensusError::Timeout)?;
        match read {
            Ok(read_log_id) => Ok(read_log_id.index()),
            Err(RaftError::APIError(
                LinearizableReadError::ForwardToLeader(_)
                | LinearizableReadError::QuorumNotEnough(_),
            )) => Err(ConsensusError::NoLeader),
            Err(RaftError::Fatal(fatal)) => Err(fatal_error(fatal)),
        }
    }
}
