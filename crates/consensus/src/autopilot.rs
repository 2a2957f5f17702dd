//! Autopilot: the servers' health as the leader sees it (`/v1/operator/autopilot/health`
//! and `/state`), and the stabilization rule that a server joining a running cluster
//! becomes a voter only once it has stayed healthy for `server_stabilization_time`.
//!
//! A server is healthy when the leader heard from it within `last_contact_threshold`
//! (plus one heartbeat interval, since contact is only renewed that often), its log ends
//! in the leader's term, and it trails the leader by at most `max_trailing_logs`
//! entries. The leader remembers since when each server has been healthy or unhealthy
//! (`StableSince`). Any server answers; the figures come from the leader.
//!
//! Removing dead servers (`cleanup_dead_servers`) needs gossip's failure detection and
//! is not done here yet.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use openraft::async_runtime::Instant as _;
use openraft::async_runtime::WatchReceiver;
use proconsul_api::operator::AutopilotConfiguration;
use serde::{Deserialize, Serialize};

use crate::error::ConsensusError;
use crate::node::{Consensus, lock};
use crate::rpc::messages::{self, Answer, RemoteError};

/// How long a health request may take, the leader's answer included.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a joining server's health is looked at while it stabilizes.
const STABILIZATION_POLL: Duration = Duration::from_millis(250);

/// One server's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerHealth {
    /// The Raft ID.
    pub node_id: u64,
    /// The agent's node ID (a UUID).
    pub id: String,
    pub name: String,
    pub address: String,
    pub leader: bool,
    pub voter: bool,
    /// Since the leader last heard from it (zero for the leader); `None`: never.
    pub last_contact: Option<Duration>,
    /// The term of the last entry it is known to have.
    pub last_term: u64,
    /// The last log index it is known to have.
    pub last_index: u64,
    pub healthy: bool,
    /// When `healthy` last changed (as far as the current leader knows).
    pub stable_since: SystemTime,
}

/// The cluster's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterHealth {
    /// Every server is healthy.
    pub healthy: bool,
    /// How many voters could fail without losing the quorum.
    pub failure_tolerance: u32,
    /// The answering leader's Raft ID.
    pub leader: u64,
    pub servers: Vec<ServerHealth>,
}

/// Asks the leader for [`ClusterHealth`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HealthRequest;

impl Consensus {
    /// The autopilot configuration in force: the stored one, else the agent's defaults.
    pub fn autopilot_configuration(&self) -> AutopilotConfiguration {
        self.inner
            .reader
            .current()
            .autopilot_configuration()
            .map(|stored| (**stored).clone())
            .unwrap_or_else(|| self.inner.autopilot_defaults.clone())
    }

    /// The servers' health, from the leader.
    pub async fn server_health(&self) -> Result<ClusterHealth, ConsensusError> {
        self.at_leader(
            messages::AUTOPILOT_HEALTH,
            &HealthRequest,
            || async { self.health_as_leader() },
            HEALTH_TIMEOUT,
        )
        .await
    }

    /// The servers' health when this server leads (for the `autopilot.*` gauges).
    pub fn health_if_leader(&self) -> Option<ClusterHealth> {
        self.health_as_leader().ok()
    }

    /// On the leader: every server's health now.
    pub(crate) fn health_as_leader(&self) -> Answer<ClusterHealth> {
        let config = self.autopilot_configuration();
        let me = self.inner.node_id;
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        if metrics.current_leader != Some(me) {
            return Err(RemoteError::NotLeader);
        }
        let term = metrics.current_term;
        let leader_index = metrics.last_log_index.unwrap_or(0);
        let membership = &metrics.membership_config;
        let voters: Vec<u64> = membership.voter_ids().collect();
        let allowed_silence = config.last_contact_threshold
            + Duration::from_millis(self.inner.timing.heartbeat_millis());
        let now = SystemTime::now();
        let mut stability = lock(&self.inner.autopilot_stability);
        let servers: Vec<ServerHealth> = membership
            .nodes()
            .map(|(id, node)| {
                let (last_contact, last_term, last_index) = if *id == me {
                    (Some(Duration::ZERO), term, leader_index)
                } else {
                    let matched = metrics
                        .replication
                        .as_ref()
                        .and_then(|replication| replication.get(id).cloned().flatten());
                    let contact = metrics
                        .heartbeat
                        .as_ref()
                        .and_then(|heartbeat| heartbeat.get(id).cloned().flatten())
                        .map(|acked| acked.elapsed());
                    (
                        contact,
                        matched
                            .as_ref()
                            .map_or(0, |log_id| log_id.committed_leader_id().term),
                        matched.map_or(0, |log_id| log_id.index()),
                    )
                };
                let healthy = last_contact.is_some_and(|silence| silence <= allowed_silence)
                    && last_term == term
                    && last_index + config.max_trailing_logs >= leader_index;
                let since = stability.entry(*id).or_insert((healthy, now));
                if since.0 != healthy {
                    *since = (healthy, now);
                }
                ServerHealth {
                    node_id: *id,
                    id: node.id.clone(),
                    name: node.name.clone(),
                    address: node.addr.clone(),
                    leader: *id == me,
                    voter: voters.contains(id),
                    last_contact,
                    last_term,
                    last_index,
                    healthy,
                    stable_since: since.1,
                }
            })
            .collect();
        stability.retain(|id, _| membership.get_node(id).is_some());
        let healthy_voters = servers.iter().filter(|s| s.voter && s.healthy).count();
        let quorum = voters.len() / 2 + 1;
        Ok(ClusterHealth {
            healthy: servers.iter().all(|server| server.healthy),
            failure_tolerance: healthy_voters.saturating_sub(quorum) as u32,
            leader: me,
            servers,
        })
    }

    /// On the leader: waits until `node_id` has been healthy for the configured
    /// stabilization time, or `deadline` passes (then the caller gives up).
    pub(crate) async fn wait_until_stable(
        &self,
        node_id: u64,
        deadline: tokio::time::Instant,
    ) -> Answer<()> {
        loop {
            let stabilization = self.autopilot_configuration().server_stabilization_time;
            let health = self.health_as_leader()?;
            let stable_for = health
                .servers
                .iter()
                .find(|server| server.node_id == node_id)
                .filter(|server| server.healthy)
                .map(|server| server.stable_since.elapsed().unwrap_or_default());
            if stable_for.is_some_and(|stable| stable >= stabilization) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(RemoteError::Failed(format!(
                    "server {node_id} did not stay healthy for {stabilization:?}"
                )));
            }
            tokio::time::sleep(STABILIZATION_POLL).await;
        }
    }
}

/// What the leader remembers per server: whether it was healthy, and since when.
pub(crate) type StabilityMap = BTreeMap<u64, (bool, SystemTime)>;
