//! [`Consensus`]: the handle the agent writes through and reads from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use openraft::ServerState;
use openraft::async_runtime::Instant as _;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::Fatal;
use proconsul_api::operator::AutopilotConfiguration;
use proconsul_state::CommandOutcome;
use tokio_util::sync::CancellationToken;

use crate::error::ConsensusError;
use crate::fault::FaultLayer;
use crate::forward_queue::ForwardQueue;
use crate::log_store::memory::MemoryLogStore;
use crate::log_store::redb::RedbLogStore;
use crate::network::{NoNetwork, RpcNetwork};
use crate::reader::StateReader;
use crate::rpc::client::RpcClient;
use crate::rpc::messages::ServerInfo;
use crate::rpc::tls::{ListenerTls, RpcTls};
use crate::state_machine::StateMachine;
use crate::timing::RaftTiming;
use crate::types::{Raft, ServerNode, TypeConfig};

/// Who this server is in the Raft configuration.
#[derive(Debug, Clone)]
pub struct ConsensusConfig {
    /// The Raft ID.
    pub node_id: u64,
    /// The agent's node ID (a UUID), shown by `/v1/operator/raft/configuration`.
    pub server_id: String,
    pub node_name: String,
    /// The server RPC address peers (and `/v1/status/leader`) know this server by.
    pub rpc_addr: SocketAddr,
    /// The agent's `autopilot` block: in force until the cluster stores a configuration.
    pub autopilot: AutopilotConfiguration,
}

/// Server mode: where the Raft log and snapshots live, and when to snapshot.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub data_dir: std::path::PathBuf,
    /// `raft_snapshot_threshold`: log entries between snapshots (Consul: 16384).
    pub snapshot_threshold: u64,
    /// `raft_trailing_logs`: entries kept in the log after a snapshot (Consul: 10240).
    pub trailing_logs: u64,
    pub cluster: ClusterOptions,
    /// Server RPC's TLS (`tls.internal_rpc`); plaintext by default.
    pub tls: RpcTls,
    /// Tests only (`PROCONSUL_TEST_FAULTS=1`): run server RPC through a fault layer
    /// ([`crate::fault`]) that `/v1/internal/test/faults` controls.
    pub test_faults: bool,
}

/// How a server finds the others and forms or joins a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `-bootstrap`: initialise a cluster of this server alone.
    pub bootstrap: bool,
    /// `bootstrap_expect`: initialise once this many servers know each other.
    pub bootstrap_expect: u32,
    /// `retry_join`: server RPC addresses (`host[:port]`) to look for peers at.
    pub join: Vec<String>,
    /// `retry_interval`: the pause between rounds of join attempts.
    pub retry_interval: Duration,
    /// `performance.raft_multiplier` (1 fastest, Consul's default 5).
    pub raft_multiplier: u32,
    pub datacenter: String,
    /// This server's LAN gossip address, told to peers so that servers joined through
    /// server RPC addresses also meet in gossip.
    pub gossip_addr: String,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            bootstrap: true,
            bootstrap_expect: 0,
            join: Vec::new(),
            retry_interval: Duration::from_secs(30),
            raft_multiplier: 5,
            datacenter: "dc1".to_string(),
            gossip_addr: String::new(),
        }
    }
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
    /// The agent's node ID (a UUID).
    pub id: String,
    /// The server's node name.
    pub name: String,
    pub address: String,
    pub leader: bool,
    pub voter: bool,
    /// Whether this is the server answering.
    pub local: bool,
    /// The last log index it has: its own for the answering server, what the leader
    /// has replicated to it when the leader answers, else 0 (unknown).
    pub last_index: u64,
}

/// The Raft configuration and how far the log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftConfiguration {
    pub servers: Vec<RaftServer>,
    /// The log index at which this configuration took effect.
    pub index: u64,
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
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) raft: Raft,
    pub(crate) reader: StateReader,
    pub(crate) node_id: u64,
    /// Who this server is, as discovery describes it to peers.
    pub(crate) me: ServerIdentity,
    pub(crate) rpc: RpcClient,
    /// The TLS settings new server RPC connections are held to.
    pub(crate) listener_tls: Arc<ArcSwap<ListenerTls>>,
    /// Writes this server forwards to the leader, sent in batches.
    pub(crate) forward_queue: ForwardQueue,
    /// Servers heard of through join addresses and their answers, before and after the
    /// cluster forms.
    pub(crate) discovered: Mutex<BTreeMap<u64, ServerInfo>>,
    /// Server RPC addresses gossip found (servers' member tags), looked at by discovery
    /// beside the join addresses.
    pub(crate) gossip_servers: Mutex<std::collections::BTreeSet<String>>,
    /// When the leader last reached this follower (append entries or heartbeat).
    pub(crate) last_contact: Mutex<Option<Instant>>,
    pub(crate) started: Instant,
    pub(crate) timing: RaftTiming,
    /// `raft.apply` and `raft.commitTime`.
    pub(crate) write_metrics: crate::metrics::WriteMetrics,
    /// The timers of the Raft RPCs this server answers.
    pub(crate) raft_rpc_metrics: crate::metrics::replication::RaftRpcMetrics,
    /// Stops server RPC and discovery.
    pub(crate) shutdown: CancellationToken,
    /// Autopilot's settings until a configuration is stored.
    pub(crate) autopilot_defaults: AutopilotConfiguration,
    /// On the leader: since when each server has been healthy or unhealthy.
    pub(crate) autopilot_stability: Mutex<crate::autopilot::StabilityMap>,
    /// What answers client agents' HTTP requests and DNS queries, once the agent
    /// installed it.
    pub(crate) forwarded: crate::agent_rpc::InstalledHandler,
    /// The test fault layer, only when asked for.
    pub(crate) faults: Option<Arc<FaultLayer>>,
    /// The IDs of the writes this server forwards.
    pub(crate) request_ids: crate::forward::RequestIds,
    /// Set by [`Consensus::leave`]: a server leaving for good must not ask its cluster to
    /// add it back once it is out of the configuration (discovery would otherwise, in the
    /// seconds the agent spends gossiping its leave, and the cluster would count a voter
    /// that is about to exit).
    pub(crate) leaving: std::sync::atomic::AtomicBool,
}

/// The parts of a server's description that do not change while it runs.
#[derive(Debug, Clone)]
pub(crate) struct ServerIdentity {
    pub id: String,
    pub name: String,
    pub rpc_addr: String,
    pub datacenter: String,
    pub bootstrap_expect: u32,
    pub gossip_addr: String,
}

/// Initialises a cluster whose only voter is this server.
async fn bootstrap_alone(raft: &Raft, config: &ConsensusConfig) -> Result<(), ConsensusError> {
    let members = BTreeMap::from([(
        config.node_id,
        ServerNode {
            addr: config.rpc_addr.to_string(),
            name: config.node_name.clone(),
            id: config.server_id.clone(),
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
/// How long `start_server` waits for a lone voter's election (replaying a long log
/// included).
const SERVER_ELECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// `-dev`: entries between snapshots (Consul's `raft_snapshot_threshold` default).
const DEV_SNAPSHOT_THRESHOLD: u64 = 16384;
/// `-dev`: entries kept after a snapshot.
const DEV_TRAILING_LOGS: u64 = 64;

impl Consensus {
    /// `-dev` mode: an in-memory log and a cluster of one voter, initialised here.
    /// Returns once this server is the leader.
    pub async fn start_dev(config: ConsensusConfig) -> Result<Consensus, ConsensusError> {
        let timing = RaftTiming::dev();
        // No follower will ever need old entries, so a snapshot lets the in-memory log
        // drop nearly all of them (a server keeps `raft_trailing_logs` for followers).
        let raft_config =
            timing.raft_config("proconsul-dev", DEV_SNAPSHOT_THRESHOLD, DEV_TRAILING_LOGS)?;
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
        Ok(Consensus::assemble(
            raft,
            reader,
            &config,
            timing,
            None,
            (RpcClient::default(), &RpcTls::default(), None),
        ))
    }

    fn assemble(
        raft: Raft,
        reader: StateReader,
        config: &ConsensusConfig,
        timing: RaftTiming,
        cluster: Option<&ClusterOptions>,
        (rpc, tls, faults): (RpcClient, &RpcTls, Option<Arc<FaultLayer>>),
    ) -> Consensus {
        let shutdown = CancellationToken::new();
        crate::metrics::spawn_watch(
            raft.clone(),
            config.node_id,
            Duration::from_millis(timing.lease_millis()),
            shutdown.clone(),
        );
        Consensus {
            inner: Arc::new(Inner {
                raft,
                reader,
                node_id: config.node_id,
                me: ServerIdentity {
                    id: config.server_id.clone(),
                    name: config.node_name.clone(),
                    rpc_addr: config.rpc_addr.to_string(),
                    datacenter: cluster.map(|c| c.datacenter.clone()).unwrap_or_default(),
                    bootstrap_expect: cluster.map_or(0, |c| c.bootstrap_expect),
                    gossip_addr: cluster.map(|c| c.gossip_addr.clone()).unwrap_or_default(),
                },
                gossip_servers: Mutex::default(),
                forward_queue: ForwardQueue::spawn(rpc.clone(), shutdown.clone()),
                rpc,
                listener_tls: Arc::new(ArcSwap::from_pointee(ListenerTls::from(tls))),
                autopilot_defaults: config.autopilot.clone(),
                autopilot_stability: Mutex::new(BTreeMap::new()),
                forwarded: Default::default(),
                faults,
                request_ids: crate::forward::RequestIds::new(),
                leaving: std::sync::atomic::AtomicBool::new(false),
                discovered: Mutex::new(BTreeMap::new()),
                last_contact: Mutex::new(None),
                started: Instant::now(),
                timing,
                write_metrics: crate::metrics::WriteMetrics::new(),
                raft_rpc_metrics: crate::metrics::replication::RaftRpcMetrics::new(),
                shutdown,
            }),
        }
    }

    /// Server mode: a durable log (redb) and snapshots in `data_dir/raft`, and server RPC
    /// on `config.rpc_addr`. A restart replays the snapshot and the log. A new server
    /// either bootstraps a cluster of its own (`-bootstrap`, or `bootstrap_expect = 1`),
    /// forms one with the `bootstrap_expect` servers it discovers through its join
    /// addresses, or asks an existing cluster found there to add it.
    ///
    /// A lone voter returns once it leads; a server of a larger cluster returns at once
    /// and finds its leader in the background.
    pub async fn start_server(
        config: ConsensusConfig,
        options: ServerOptions,
    ) -> Result<Consensus, ConsensusError> {
        let raft_dir = options.data_dir.join("raft");
        std::fs::create_dir_all(&raft_dir).map_err(|error| {
            ConsensusError::Storage(format!("cannot create {}: {error}", raft_dir.display()))
        })?;
        let timing = RaftTiming::from_multiplier(options.cluster.raft_multiplier);
        let raft_config = timing.raft_config(
            "proconsul",
            options.snapshot_threshold,
            options.trailing_logs,
        )?;
        let listen_error = |error: std::io::Error| {
            ConsensusError::Storage(format!(
                "cannot listen for server RPC on {}: {error}",
                config.rpc_addr
            ))
        };
        let listener = tokio::net::TcpListener::bind(config.rpc_addr)
            .await
            .map_err(listen_error)?;
        // Port 0 (tests): peers must be told the port actually bound.
        let config = ConsensusConfig {
            rpc_addr: listener.local_addr().map_err(listen_error)?,
            ..config
        };
        let storage = |error: std::io::Error| ConsensusError::Storage(error.to_string());
        let log = RedbLogStore::open(&raft_dir.join("raft.db"), config.node_id).map_err(storage)?;
        let reader = StateReader::default();
        let machine = StateMachine::durable(reader.clone(), &raft_dir).map_err(storage)?;
        let faults = options.test_faults.then(|| {
            tracing::warn!(
                "test faults: server RPC runs through the fault layer (PROCONSUL_TEST_FAULTS)"
            );
            FaultLayer::new(config.rpc_addr.to_string())
        });
        let rpc = RpcClient::for_server(
            options.tls.connector.as_ref(),
            config.rpc_addr.ip(),
            faults.clone(),
        );
        let raft = Raft::new(
            config.node_id,
            raft_config,
            RpcNetwork::new(rpc.clone()),
            log,
            machine,
        )
        .await
        .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        let consensus = Consensus::assemble(
            raft,
            reader,
            &config,
            timing,
            Some(&options.cluster),
            (rpc, &options.tls, faults),
        );
        crate::rpc::server::spawn(consensus.clone(), listener);

        let raft = &consensus.inner.raft;
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        let cluster = &options.cluster;
        let alone = !initialized && (cluster.bootstrap || cluster.bootstrap_expect == 1);
        if alone {
            bootstrap_alone(raft, &config).await?;
            tracing::info!(node = %config.node_name, "raft: bootstrapped a new single-server cluster");
        } else if !initialized {
            tracing::info!(
                node = %config.node_name,
                bootstrap_expect = cluster.bootstrap_expect,
                join = ?cluster.join,
                "raft: not part of a cluster yet; looking for servers"
            );
        }
        if alone || consensus.lone_voter() {
            if initialized {
                // Nobody else can be waited for: elect at once, not after a timeout.
                raft.trigger().elect(false).await.map_err(fatal_error)?;
            }
            lead_within(raft, SERVER_ELECTION_TIMEOUT).await?;
        }
        crate::discovery::spawn(consensus.clone(), cluster.clone());
        Ok(consensus)
    }

    /// The test fault layer, when `PROCONSUL_TEST_FAULTS=1` asked for one.
    pub fn faults(&self) -> Option<&Arc<FaultLayer>> {
        self.inner.faults.as_ref()
    }

    /// Whether the configuration has exactly one voter and it is this server.
    fn lone_voter(&self) -> bool {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let voters: Vec<u64> = metrics.membership_config.voter_ids().collect();
        voters == [self.inner.node_id]
    }

    /// Server RPC's new TLS settings (a `reload`): new connections, both ways, use them;
    /// open ones keep theirs.
    pub fn reload_rpc_tls(&self, tls: &RpcTls) {
        self.inner
            .listener_tls
            .store(Arc::new(ListenerTls::from(tls)));
        self.inner.rpc.reconfigure(tls.connector.as_ref());
        tracing::info!(?tls, "server RPC: TLS settings reloaded");
    }

    /// Installs what answers client agents' forwarded HTTP requests and DNS queries;
    /// until then they are refused as "not ready" (nothing done, so clients try another
    /// server). Only the first installation counts.
    pub fn serve_forwarded(&self, handler: Arc<dyn crate::agent_rpc::ForwardedRequests>) {
        if self.inner.forwarded.set(handler).is_err() {
            tracing::warn!("server RPC: a handler of forwarded requests was already installed");
        }
    }

    /// The published state and its change notifications.
    pub fn reader(&self) -> &StateReader {
        &self.inner.reader
    }

    /// The leader this server knows of, if any. A leader whose last acknowledgement by a
    /// quorum is older than its lease does not count: it can commit nothing. (One just
    /// elected, not yet acknowledged, counts: its election was a quorum's answer.)
    pub fn leader(&self) -> Option<LeaderInfo> {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        let leader = metrics.current_leader?;
        if leader == self.inner.node_id
            && metrics.membership_config.voter_ids().nth(1).is_some()
            && metrics.last_quorum_acked.as_ref().is_some_and(|acked| {
                acked.elapsed() > Duration::from_millis(self.inner.timing.lease_millis())
            })
        {
            return None;
        }
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
        let replicated = |id: &u64| {
            metrics
                .replication
                .as_ref()
                .and_then(|replication| replication.get(id).cloned().flatten())
                .map_or(0, |log_id| log_id.index())
        };
        let servers = membership
            .nodes()
            .map(|(id, node)| RaftServer {
                node_id: *id,
                id: node.id.clone(),
                name: node.name.clone(),
                address: node.addr.clone(),
                leader: metrics.current_leader == Some(*id),
                voter: voters.contains(id),
                local: *id == self.inner.node_id,
                last_index: if *id == self.inner.node_id {
                    metrics.last_log_index.unwrap_or(0)
                } else {
                    replicated(id)
                },
            })
            .collect();
        RaftConfiguration {
            servers,
            index: membership.log_id().map_or(0, |log_id| log_id.index()),
        }
    }

    /// The server RPC address this server is known by.
    pub fn rpc_addr(&self) -> &str {
        &self.inner.me.rpc_addr
    }

    /// Has the leader answer `request` through its own HTTP router (state kept on the
    /// leader alone, such as ACL replication's status); `None` without a known leader.
    pub async fn http_on_leader(
        &self,
        request: &crate::agent_rpc::ForwardedHttpRequest,
        timeout: Duration,
    ) -> Option<Result<crate::agent_rpc::ForwardedHttpResponse, crate::agent_rpc::AgentCallError>>
    {
        let leader = self.leader()?;
        let answer: Result<
            crate::rpc::messages::Answer<crate::agent_rpc::ForwardedHttpResponse>,
            _,
        > = self
            .inner
            .rpc
            .call(
                &leader.rpc_addr,
                crate::rpc::messages::AGENT_HTTP,
                request,
                timeout,
            )
            .await;
        Some(
            answer
                .map_err(Into::into)
                .and_then(|answer| answer.map_err(Into::into)),
        )
    }

    /// Whether this server leads.
    pub fn is_leader(&self) -> bool {
        self.inner.raft.metrics().borrow_watched().current_leader == Some(self.inner.node_id)
    }

    /// How long since this server last heard from the leader, as `X-Consul-LastContact`
    /// reports it: zero on the leader itself; since start-up if no leader ever called.
    pub fn last_contact(&self) -> Duration {
        if self.is_leader() {
            return Duration::ZERO;
        }
        let last = *lock(&self.inner.last_contact);
        last.unwrap_or(self.inner.started).elapsed()
    }

    /// Records that the leader reached this server (server RPC calls it).
    pub(crate) fn heard_from_leader(&self) {
        *lock(&self.inner.last_contact) = Some(Instant::now());
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

    /// Stops server RPC, discovery and Raft. Later writes fail with
    /// [`ConsensusError::ShuttingDown`].
    pub async fn shutdown(&self) -> Result<(), ConsensusError> {
        self.inner.shutdown.cancel();
        self.inner
            .raft
            .shutdown()
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))
    }
}

/// Locks a mutex whose holders never leave it half-written (single assignments), so a
/// poisoned one is still consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Maps openraft's fatal errors: a stopped Raft is a shutdown, anything else a failure.
pub(crate) fn fatal_error(fatal: Fatal<TypeConfig>) -> ConsensusError {
    match fatal {
        Fatal::Stopped => ConsensusError::ShuttingDown,
        Fatal::StorageError(error) => ConsensusError::Storage(error.to_string()),
        other => ConsensusError::Raft(other.to_string()),
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod tests;
