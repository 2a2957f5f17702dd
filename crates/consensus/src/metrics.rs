//! Consul's Raft and FSM metrics, recorded at this crate's edges through the `metrics`
//! facade (handles made once; timers in milliseconds):
//! - `raft.apply` (one per command proposed on the leader) and `raft.commitTime` (from
//!   the proposal to its commit and application on the leader: openraft answers a write
//!   once applied, so application is included, a few microseconds);
//! - `raft.fsm.apply` per command applied, and `fsm.register`, `fsm.deregister`,
//!   `fsm.kvs` and `fsm.session` (with Consul's `op` label) and `fsm.txn` beside it;
//! - `raft.state.follower|candidate|leader`, one per change of this server's state
//!   (openraft's metrics channel keeps the latest state, so a change undone before the
//!   task looked, like a brief candidacy ending in leadership, counts only its end);
//! - `raft.leader.lastContact` on the leader, each lease period per follower (the time
//!   since it last acknowledged the leader), and the `raft.applied_index` and
//!   `raft.last_index` gauges, every second.
//!
//! - `rpc.request`, one per write and per read checked with the leader, and
//!   `rpc.request_error`, one per such request that failed (no leader, a timeout, a
//!   refusal of Raft's);
//! - replication, log dispatch and the followers' Raft RPCs in [`replication`], snapshots
//!   and restores in [`snapshot`].
//!
//! The state machine itself (`proconsul-state`) knows nothing of this.

pub(crate) mod replication;
pub(crate) mod snapshot;

use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use openraft::ServerState;
use openraft::async_runtime::Instant as _;
use openraft::async_runtime::WatchReceiver;
use proconsul_state::{Command, KvOp};
use tokio_util::sync::CancellationToken;

use crate::types::Raft;

/// Milliseconds since `start`, as go-metrics' `MeasureSince` gives them.
pub(crate) fn millis_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// The handles of the write path on the leader.
#[derive(Debug)]
pub(crate) struct WriteMetrics {
    pub apply: Counter,
    pub commit_time: Histogram,
    /// `rpc.request`: each write and each read that asks the leader (what a Consul
    /// server serves through its RPC layer).
    pub request: Counter,
    /// `rpc.request_error`: those that failed.
    pub request_error: Counter,
    /// `raft.restore`: `snapshot restore`s proposed here.
    pub restore: Counter,
}

impl WriteMetrics {
    pub fn new() -> WriteMetrics {
        WriteMetrics {
            apply: counter!("raft.apply"),
            commit_time: histogram!("raft.commitTime"),
            request: counter!("rpc.request"),
            request_error: counter!("rpc.request_error"),
            restore: snapshot::restore_counter(),
        }
    }
}

/// The handles of the state machine adapter.
#[derive(Debug)]
pub(crate) struct FsmMetrics {
    apply: Histogram,
    register: Histogram,
    deregister: Histogram,
    txn: Histogram,
    /// `fsm.kvs` by Consul's op: set, cas, delete, delete-cas, delete-tree, lock, unlock.
    kvs: [Histogram; 7],
    /// `fsm.session` by op: create, destroy.
    session: [Histogram; 2],
    coordinate_batch_update: Histogram,
    /// `raft.fsm.restore`: a `snapshot restore` replacing the state.
    restore: Histogram,
}

const KV_OPS: [&str; 7] = [
    "set",
    "cas",
    "delete",
    "delete-cas",
    "delete-tree",
    "lock",
    "unlock",
];

impl FsmMetrics {
    pub fn new() -> FsmMetrics {
        FsmMetrics {
            apply: histogram!("raft.fsm.apply"),
            register: histogram!("fsm.register"),
            deregister: histogram!("fsm.deregister"),
            txn: histogram!("fsm.txn"),
            kvs: KV_OPS.map(|op| histogram!("fsm.kvs", "op" => op)),
            session: ["create", "destroy"].map(|op| histogram!("fsm.session", "op" => op)),
            coordinate_batch_update: histogram!("fsm.coordinate.batch-update"),
            restore: histogram!("raft.fsm.restore"),
        }
    }

    /// Records that applying `command` took `millis`.
    pub fn applied(&self, command: &Command, millis: f64) {
        self.apply.record(millis);
        if let Some(specific) = self.specific(command) {
            specific.record(millis);
        }
    }

    /// The histogram of `command`'s kind, if it has one (a forwarded write's own kind).
    fn specific(&self, command: &Command) -> Option<&Histogram> {
        Some(match command {
            Command::Register(_) => &self.register,
            Command::Deregister(_) => &self.deregister,
            Command::Txn(_) => &self.txn,
            Command::Kv(kv) => {
                let checked = kv.cas.is_some();
                &self.kvs[match (&kv.op, checked) {
                    (KvOp::Set, false) => 0,
                    (KvOp::Set, true) => 1,
                    (KvOp::Delete, false) => 2,
                    (KvOp::Delete, true) => 3,
                    (KvOp::DeleteTree, _) => 4,
                    (KvOp::Acquire(_), _) => 5,
                    (KvOp::Release(_), _) => 6,
                }]
            }
            Command::SessionCreate(_) => &self.session[0],
            Command::SessionDestroy { .. } => &self.session[1],
            Command::CoordinateBatchUpdate(_) => &self.coordinate_batch_update,
            Command::Restore(_) => &self.restore,
            Command::Identified { command, .. } => return self.specific(command),
            _ => return None,
        })
    }
}

/// Counts this server's state changes and samples the leader's contact with its
/// followers and the log's indexes, until `shutdown`.
pub(crate) fn spawn_watch(raft: Raft, node_id: u64, lease: Duration, shutdown: CancellationToken) {
    let follower = counter!("raft.state.follower");
    let candidate = counter!("raft.state.candidate");
    let leader = counter!("raft.state.leader");
    let last_contact = histogram!("raft.leader.lastContact");
    let applied_index: Gauge = gauge!("raft.applied_index");
    let last_index: Gauge = gauge!("raft.last_index");
    tokio::spawn(async move {
        let mut server = raft.server_metrics();
        let mut counted: Option<ServerState> = None;
        let mut lease_tick = tokio::time::interval(lease.max(Duration::from_millis(100)));
        let mut index_tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let state = server.borrow_watched().state;
            if counted != Some(state) {
                match state {
                    ServerState::Follower => follower.increment(1),
                    ServerState::Candidate => candidate.increment(1),
                    ServerState::Leader => leader.increment(1),
                    ServerState::Learner | ServerState::Shutdown => {}
                }
                counted = Some(state);
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = server.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = lease_tick.tick() => {
                    let metrics = raft.metrics();
                    let metrics = metrics.borrow_watched();
                    for (id, acked) in metrics.heartbeat.iter().flatten() {
                        if *id != node_id
                            && let Some(acked) = acked
                        {
                            last_contact.record(acked.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                }
                _ = index_tick.tick() => {
                    let metrics = raft.metrics();
                    let metrics = metrics.borrow_watched();
                    applied_index.set(metrics.last_applied.map_or(0, |id| id.index()) as f64);
                    last_index.set(metrics.last_log_index.unwrap_or(0) as f64);
                }
            }
        }
    });
}
