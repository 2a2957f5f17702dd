//! [`RaftStats`]: this server's Raft state in the terms of hashicorp/raft's `Stats()`,
//! which `agent/self` reports under `Stats.raft` and `consul info` prints.

use std::time::Duration;

use openraft::ServerState;
use openraft::async_runtime::WatchReceiver;

use crate::node::Consensus;

/// hashicorp/raft's statistics, read from openraft's metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftStats {
    /// `Leader`, `Follower`, `Candidate` or `Shutdown` (a learner is a `Follower`).
    pub state: &'static str,
    pub term: u64,
    pub last_log_index: u64,
    pub last_log_term: u64,
    /// The last index known committed.
    pub commit_index: u64,
    /// The last index applied to the state machine.
    pub applied_index: u64,
    pub last_snapshot_index: u64,
    pub last_snapshot_term: u64,
    /// The servers of the configuration, in hashicorp/raft's `%+v` of
    /// `[]raft.Server`: `[{Suffrage:Voter ID:... Address:...} ...]`.
    pub latest_configuration: String,
    /// The log index the configuration took effect at.
    pub latest_configuration_index: u64,
    /// The other voters.
    pub num_peers: usize,
    /// Since the leader was last heard from; zero on the leader.
    pub last_contact: Duration,
}

impl Consensus {
    /// This server's Raft statistics now.
    pub fn raft_stats(&self) -> RaftStats {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let membership = &metrics.membership_config;
        let voters: Vec<u64> = membership.voter_ids().collect();
        let servers: Vec<String> = membership
            .nodes()
            .map(|(id, node)| {
                let suffrage = if voters.contains(id) {
                    "Voter"
                } else {
                    "Nonvoter"
                };
                format!(
                    "{{Suffrage:{suffrage} ID:{} Address:{}}}",
                    node.id, node.addr
                )
            })
            .collect();
        // openraft does not report the last entry's term: it is the applied entry's when
        // everything is applied, else (entries appended, not yet applied) this term's.
        let last_log_index = metrics.last_log_index.unwrap_or(0);
        let last_log_term = match &metrics.last_applied {
            Some(applied) if applied.index() == last_log_index => {
                applied.committed_leader_id().term
            }
            _ => metrics.current_term,
        };
        RaftStats {
            state: match metrics.state {
                ServerState::Leader => "Leader",
                ServerState::Candidate => "Candidate",
                ServerState::Follower | ServerState::Learner => "Follower",
                ServerState::Shutdown => "Shutdown",
            },
            term: metrics.current_term,
            last_log_index,
            last_log_term,
            commit_index: metrics.local_committed.as_ref().map_or(0, |id| id.index()),
            applied_index: metrics.last_applied.as_ref().map_or(0, |id| id.index()),
            last_snapshot_index: metrics.snapshot.as_ref().map_or(0, |id| id.index()),
            last_snapshot_term: metrics
                .snapshot
                .as_ref()
                .map_or(0, |id| id.committed_leader_id().term),
            latest_configuration: format!("[{}]", servers.join(" ")),
            latest_configuration_index: membership.log_id().as_ref().map_or(0, |id| id.index()),
            num_peers: voters
                .iter()
                .filter(|id| **id != self.inner.node_id)
                .count(),
            last_contact: self.last_contact(),
        }
    }
}
