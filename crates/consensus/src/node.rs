//! [`Consensus`]: the handle the agent writes through and reads from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::errors::{ClientWriteError, Fatal, RaftError};
use openraft::{BasicNode, Config, ReadPolicy, ServerState, SnapshotPolicy};
use proconsul_state::{Command, CommandOutcome};

use crate::error::ConsensusError;
use crate::log_store::memory::MemoryLogStore;
use crate::log_store::redb::RedbLogStore;
use crate::network::NoNetwork;
use crate::reader::StateReader;
use crate::state_machine::StateMachine;
use crate::types::{Proposal, Raft, TypeConfig};

/// Who this server is in the Raft configuration.
#[derive(Debug, Clone)]
pub struct ConsensusConfig {
    pub node_id: u64,
    pub node_name: String,
    /// The server RPC address peers (and `/v1/status/leader`) know this server by.
    pub rpc_addr: SocketAddr,
}

/// Server mode: where the Raft log and snapshots live, and when to snapshot.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub data_dir: std::path::PathBuf,
    /// `raft_snapshot_threshold`: log entries between snapshots (Consul: 16384).
    pub snapshot_threshold: u64,
    /// `raft_trailing_logs`: entries kept in the log after a snapshot (Consul: 10240).
    pub trailing_logs: u64,
}

/// A committed and applied write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The log index the command was applied at: its CreateIndex/ModifyIndex.
    pub index: u64,
    pub outcome: CommandOutcome,
}

/// One server of the Raft configuration (`/v1/operator/raft/configuration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftServer {
    pub node_id: u64,
    pub address: String,
    pub leader: bool,
    pub voter: bool,
    /// Whether this is the server answering.
    pub local: bool,
}

/// The Raft configuration and how far the log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftConfiguration {
    pub servers: Vec<RaftServer>,
    /// The log index at which this configuration took effect.
    pub index: u64,
    /// The last log index of this server.
    pub last_index: u64,
}

/// The current leader as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderInfo {
    pub node_id: u64,
    pub rpc_addr: String,
}

/// A running Raft server and its published state. Cheap to clone.
#[derive(Clone)]
pub struct Consensus {
    inner: Arc<Inner>,
}

struct Inner {
    raft: Raft,
    reader: StateReader,
    node_id: u64,
}

/// Initialises a cluster whose only voter is this server.
async fn bootstrap_alone(raft: &Raft, config: &ConsensusConfig) -> Result<(), ConsensusError> {
    let members = BTreeMap::from([(
        config.node_id,
        BasicNode {
            addr: config.rpc_addr.to_string(),
        },
    )]);
    raft.initialize(members)
        .await
        .map_err(|error| ConsensusError::Raft(error.to_string()))
}

/// Waits until this server leads (a lone voter elects itself).
async fn lead_within(raft: &Raft, timeout: Duration) -> Result<(), ConsensusError> {
    raft.wait(Some(timeout))
        .state(ServerState::Leader, "the lone voter elects itself")
        .await
        .map(|_| ())
        .map_err(|error| ConsensusError::Raft(error.to_string()))
}

/// How long `start_dev` waits for the single voter to elect itself.
const DEV_ELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `start_server` waits for its election (replaying a long log included).
const SERVER_ELECTION_TIMEOUT: Duration = Duration::from_secs(60);

impl Consensus {
    /// `-dev` mode: an in-memory log and a cluster of one voter, initialised here.
    /// Returns once this server is the leader.
    pub async fn start_dev(config: ConsensusConfig) -> Result<Consensus, ConsensusError> {
        let raft_config = Config {
            cluster_name: "proconsul-dev".to_string(),
            heartbeat_interval: 50,
            election_timeout_min: 150,
            election_timeout_max: 300,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(16384),
            max_in_snapshot_log_to_keep: 10240,
            ..Config::default()
        };
        let raft_config = Arc::new(
            raft_config
                .validate()
                .map_err(|error| ConsensusError::Raft(error.to_string()))?,
        );
        let reader = StateReader::default();
        let raft = Raft::new(
            config.node_id,
            raft_config,
            NoNetwork,
            MemoryLogStore::default(),
            StateMachine::new(reader.clone()),
        )
        .await
        .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        bootstrap_alone(&raft, &config).await?;
        lead_within(&raft, DEV_ELECTION_TIMEOUT).await?;
        tracing::debug!(node = %config.node_name, "raft: leader");
        Ok(Consensus {
            inner: Arc::new(Inner {
                raft,
                reader,
                node_id: config.node_id,
            }),
        })
    }

    /// Server mode with one voter (`-server -bootstrap`): a durable log (redb) and
    /// snapshots in `data_dir/raft`; the cluster is initialised on first start only, and
    /// a restart replays the snapshot and the log. Returns once this server leads.
    pub async fn start_server(
        config: ConsensusConfig,
        options: ServerOptions,
    ) -> Result<Consensus, ConsensusError> {
        let raft_dir = options.data_dir.join("raft");
        std::fs::create_dir_all(&raft_dir).map_err(|error| {
            ConsensusError::Storage(format!("cannot create {}: {error}", raft_dir.display()))
        })?;
        let raft_config = Config {
            cluster_name: "proconsul".to_string(),
            heartbeat_interval: 100,
            election_timeout_min: 500,
            election_timeout_max: 1000,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(options.snapshot_threshold),
            max_in_snapshot_log_to_keep: options.trailing_logs,
            ..Config::default()
        };
        let raft_config = Arc::new(
            raft_config
                .validate()
                .map_err(|error| ConsensusError::Raft(error.to_string()))?,
        );
        let storage = |error: std::io::Error| ConsensusError::Storage(error.to_string());
        let log = RedbLogStore::open(&raft_dir.join("raft.db")).map_err(storage)?;
        let reader = StateReader::default();
        let machine = StateMachine::durable(reader.clone(), &raft_dir).map_err(storage)?;
        let raft = Raft::new(config.node_id, raft_config, NoNetwork, log, machine)
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        if !initialized {
            bootstrap_alone(&raft, &config).await?;
            tracing::info!(node = %config.node_name, "raft: bootstrapped a new single-server cluster");
        }
        lead_within(&raft, SERVER_ELECTION_TIMEOUT).await?;
        Ok(Consensus {
            inner: Arc::new(Inner {
                raft,
                reader,
                node_id: config.node_id,
            }),
        })
    }

    /// Proposes `command` and returns once it is committed and applied.
    pub async fn write(&self, command: Command) -> Result<Applied, ConsensusError> {
        match self.inner.raft.client_write(Proposal(command)).await {
            Ok(response) => Ok(Applied {
                index: response.log_id.index(),
                outcome: response.data,
            }),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                Err(ConsensusError::NoLeader)
            }
            Err(RaftError::Fatal(fatal)) => Err(fatal_error(fatal)),
            Err(error) => Err(ConsensusError::Raft(error.to_string())),
        }
    }

    /// The published state and its change notifications.
    pub fn reader(&self) -> &StateReader {
        &self.inner.reader
    }

    /// The leader this server knows of, if any.
    pub fn leader(&self) -> Option<LeaderInfo> {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let leader = metrics.current_leader?;
        let node = metrics.membership_config.get_node(&leader)?;
        Some(LeaderInfo {
            node_id: leader,
            rpc_addr: node.addr.clone(),
        })
    }

    /// The server RPC addresses of the voters.
    pub fn voters(&self) -> Vec<String> {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let membership = &metrics.membership_config;
        membership
            .voter_ids()
            .filter_map(|id| membership.get_node(&id).map(|node| node.addr.clone()))
            .collect()
    }

    /// The servers of the configuration, voters first.
    pub fn configuration(&self) -> RaftConfiguration {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let membership = &metrics.membership_config;
        let voters: Vec<u64> = membership.voter_ids().collect();
        let servers = membership
            .nodes()
            .map(|(id, node)| RaftServer {
                node_id: *id,
                address: node.addr.clone(),
                leader: metrics.current_leader == Some(*id),
                voter: voters.contains(id),
                local: *id == self.inner.node_id,
            })
            .collect();
        RaftConfiguration {
            servers,
            index: membership.log_id().map_or(0, |log_id| log_id.index()),
            last_index: metrics.last_log_index.unwrap_or(0),
        }
    }

    /// Whether this server leads.
    pub fn is_leader(&self) -> bool {
        self.inner.raft.metrics().borrow_watched().current_leader == Some(self.inner.node_id)
    }

    /// How long since this server last heard from the leader, as `X-Consul-LastContact`
    /// reports it: zero on the leader itself, which is the only server in `-dev`.
    /// (Followers measure it from heartbeats once servers form clusters.)
    pub fn last_contact(&self) -> Duration {
        Duration::ZERO
    }

    /// Confirms with a quorum that this server still leads (ReadIndex), for `?consistent`.
    pub async fn confirm_leadership(&self) -> Result<(), ConsensusError> {
        self.inner
            .raft
            .ensure_linearizable(ReadPolicy::ReadIndex)
            .await
            .map(|_| ())
            .map_err(|error| match error {
                RaftError::APIError(_) => ConsensusError::NoLeader,
                RaftError::Fatal(fatal) => fatal_error(fatal),
            })
    }

    /// Asks openraft to build a snapshot now (tests and operators; normally the policy
    /// decides).
    pub async fn trigger_snapshot(&self) -> Result<(), ConsensusError> {
        self.inner
            .raft
            .trigger()
            .snapshot()
            .await
            .map_err(fatal_error)
    }

    /// Stops Raft. Later writes fail with [`ConsensusError::ShuttingDown`].
    pub async fn shutdown(&self) -> Result<(), ConsensusError> {
        self.inner
            .raft
            .shutdown()
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))
    }
}

/// Maps openraft's fatal errors: a stopped Raft is a shutdown, anything else a failure.
fn fatal_error(fatal: Fatal<TypeConfig>) -> ConsensusError {
    match fatal {
        Fatal::Stopped => ConsensusError::ShuttingDown,
        Fatal::StorageError(error) => ConsensusError::Storage(error.to_string()),
        other => ConsensusError::Raft(other.to_string()),
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
