//! Any server serves any request: writes go to the leader, and reads that must see the
//! leader's latest state first learn from it how far to apply.
//!
//! A write is retried while it cannot have been done: no leader known, the leader
//! unreachable before the request reached it, or the leader's own refusal to propose
//! it. A forwarded write travels under a request ID ([`Command::Identified`]), which the
//! state machine applies at its first arrival only, so when the leader's answer is lost
//! (the connection broke after the request was sent) the write is sent again, to
//! whichever server leads by then, and is still applied at most once; its answer is the
//! first application's outcome. A write proposed on this server itself carries no ID
//! (and costs no bookkeeping): a failure after proposing is reported, never repeated.
//! Every write gives up after [`WRITE_TIMEOUT`] (Consul's `rpc_hold_timeout`), so
//! nothing hangs without a quorum.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use openraft::ReadPolicy;
use openraft::errors::{ClientWriteError, LinearizableReadError, RaftError};
use proconsul_state::{Command, RequestId};
use tokio::time::Instant;

use crate::error::ConsensusError;
use crate::node::{Applied, Consensus, fatal_error};
use crate::rpc::client::CallError;
use crate::rpc::messages::{self, Answer, ReadIndexRequest, RemoteError, WriteApplied};
use crate::types::Proposal;

/// How long a write may wait for a leader and its commit (Consul's `rpc_hold_timeout`).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(7);
/// The pause between looks for a leader.
const LEADER_POLL: Duration = Duration::from_millis(25);

/// Names the writes this server forwards: a number drawn at start-up (so a restarted
/// server never reuses an ID) and a count.
pub(crate) struct RequestIds {
    origin: u64,
    next: AtomicU64,
}

impl RequestIds {
    pub(crate) fn new() -> RequestIds {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        hasher.write_u128(now.as_nanos());
        hasher.write_u32(std::process::id());
        RequestIds {
            origin: hasher.finish(),
            next: AtomicU64::new(0),
        }
    }

    /// `command` under a new request ID.
    fn identify(&self, command: &Arc<Command>) -> Arc<Command> {
        let id = RequestId {
            origin: self.origin,
            seq: self.next.fetch_add(1, Ordering::Relaxed),
        };
        Arc::new(Command::Identified {
            id,
            command: command.clone(),
        })
    }
}

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
        let metrics = &self.inner.write_metrics;
        metrics.request.increment(1);
        if matches!(command, Command::Restore(_)) {
            metrics.restore.increment(1);
        }
        let written = self.write_through_leader(command).await;
        if written.is_err() {
            metrics.request_error.increment(1);
        }
        written
    }

    async fn write_through_leader(&self, command: Command) -> Result<Applied, ConsensusError> {
        let command = Arc::new(command);
        // The form the write travels in once forwarded; kept for every later attempt.
        let mut identified: Option<Arc<Command>> = None;
        // Why the last attempt's outcome is unknown, if it is.
        let mut unknown: Option<CallError> = None;
        let deadline = Instant::now() + WRITE_TIMEOUT;
        loop {
            let leader = self.leader();
            match leader {
                Some(leader) if leader.node_id == self.inner.node_id => {
                    let proposal = identified.clone().unwrap_or_else(|| command.clone());
                    match tokio::time::timeout_at(deadline, self.propose(proposal)).await {
                        Err(_) => return Err(ConsensusError::Timeout),
                        Ok(Ok(Proposed::Done(applied))) => return Ok(applied),
                        Ok(Ok(Proposed::NotLeader)) => {}
                        Ok(Err(error)) => return Err(error),
                    }
                }
                Some(leader) => {
                    let sent = identified
                        .get_or_insert_with(|| self.inner.request_ids.identify(&command))
                        .clone();
                    let forwarded = self.inner.forward_queue.forward(&leader.rpc_addr, sent);
                    let answer = match tokio::time::timeout_at(deadline, forwarded).await {
                        Ok(answer) => answer,
                        Err(_) => return Err(ConsensusError::Timeout),
                    };
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
                        // The answer was lost: the write may have been applied, and its
                        // request ID makes sending it again safe.
                        Err(failed @ CallError::Failed { .. }) => {
                            tracing::debug!(error = %failed, "forwarded write: answer lost; sending it again");
                            unknown = Some(failed);
                        }
                    }
                }
                None => {}
            }
            if Instant::now() + LEADER_POLL >= deadline {
                return Err(match unknown {
                    Some(failed) => ConsensusError::Raft(failed.to_string()),
                    None => ConsensusError::NoLeader,
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(LEADER_POLL) => {}
                _ = self.inner.shutdown.cancelled() => return Err(ConsensusError::ShuttingDown),
            }
        }
    }

    /// Proposes on this server's Raft.
    async fn propose(&self, command: Arc<Command>) -> Result<Proposed, ConsensusError> {
        let started = std::time::Instant::now();
        let written = self.inner.raft.client_write(Proposal(command)).await;
        if written.is_ok() {
            let metrics = &self.inner.write_metrics;
            metrics.apply.increment(1);
            metrics
                .commit_time
                .record(crate::metrics::millis_since(started));
        }
        match written {
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

    /// Writes a follower forwarded, proposed here together (one message to Raft) and
    /// never forwarded again; one answer per write, in order.
    pub(crate) async fn write_for_follower(
        &self,
        commands: Vec<Arc<Command>>,
    ) -> Vec<Answer<WriteApplied>> {
        let count = commands.len();
        let mut answers = Vec::with_capacity(count);
        let proposals = commands.into_iter().map(Proposal);
        let started = std::time::Instant::now();
        let mut results = match self.inner.raft.client_write_many(proposals).await {
            Ok(results) => results,
            Err(fatal) => {
                let refused = RemoteError::from(fatal_error(fatal));
                return (0..count).map(|_| Err(refused.clone())).collect();
            }
        };
        let deadline = Instant::now() + WRITE_TIMEOUT;
        while answers.len() < count {
            let answer = match tokio::time::timeout_at(deadline, results.next()).await {
                Ok(Some(Ok(Ok(written)))) => {
                    let metrics = &self.inner.write_metrics;
                    metrics.apply.increment(1);
                    metrics
                        .commit_time
                        .record(crate::metrics::millis_since(started));
                    Ok(WriteApplied {
                        index: written.log_id.index(),
                        outcome: written.response,
                    })
                }
                Ok(Some(Ok(Err(ClientWriteError::ForwardToLeader(_))))) => {
                    Err(RemoteError::NotLeader)
                }
                Ok(Some(Ok(Err(error)))) => Err(RemoteError::Failed(error.to_string())),
                Ok(Some(Err(fatal))) => Err(RemoteError::from(fatal_error(fatal))),
                Ok(None) => Err(RemoteError::ShuttingDown),
                Err(_) => Err(RemoteError::from(ConsensusError::Timeout)),
            };
            answers.push(answer);
        }
        answers
    }

    /// Makes this server's state at least as new as the leader's was when the read began
    /// (the default consistency mode), or additionally confirms the leader with a quorum
    /// (`consistent`). On the leader the default mode reads at once, as Consul's does.
    pub async fn read_barrier(&self, consistent: bool) -> Result<(), ConsensusError> {
        self.inner.write_metrics.request.increment(1);
        let confirmed = self.confirm_with_leader(consistent).await;
        if confirmed.is_err() {
            self.inner.write_metrics.request_error.increment(1);
        }
        confirmed
    }

    async fn confirm_with_leader(&self, consistent: bool) -> Result<(), ConsensusError> {
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
