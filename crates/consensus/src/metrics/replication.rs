//! hashicorp/raft's replication and log-dispatch timers, measured where openraft's
//! network and log storage do the work (handles made once per peer client and per store):
//! - `raft.replication.appendEntries.rpc` (timer) and `raft.replication.appendEntries.logs`
//!   (counter, by the entries sent), label `peer_id` (the follower's node ID, Consul's Raft
//!   server ID), for an AppendEntries that carries entries;
//! - `raft.replication.heartbeat` (timer, `peer_id`) for one that carries none (openraft's
//!   heartbeats, and its commit-index updates, which hashicorp/raft sends the same way);
//! - `raft.leader.dispatchLog` (timer): the leader writing its new entries to its log;
//!   `raft.rpc.appendEntries.storeLogs` (timer): a follower writing the leader's.
//!   An append is the leader's own when its entries carry this server's leader ID.
//! - `raft.rpc.appendEntries`, `raft.rpc.requestVote`, `raft.rpc.installSnapshot` (timers):
//!   a follower answering the leader's (or a candidate's) RPC.

use std::time::Instant;

use metrics::{Counter, Histogram, counter, histogram};

use super::millis_since;

/// One follower's handles, made when openraft opens its replication client.
pub(crate) struct PeerMetrics {
    append_entries: Histogram,
    logs: Counter,
    heartbeat: Histogram,
}

impl PeerMetrics {
    pub fn new(peer_id: &str) -> PeerMetrics {
        let peer_id = peer_id.to_string();
        PeerMetrics {
            append_entries: histogram!("raft.replication.appendEntries.rpc", "peer_id" => peer_id.clone()),
            logs: counter!("raft.replication.appendEntries.logs", "peer_id" => peer_id.clone()),
            heartbeat: histogram!("raft.replication.heartbeat", "peer_id" => peer_id),
        }
    }

    /// An AppendEntries with `entries` entries, sent at `started`, got its answer (or failed).
    pub fn sent(&self, entries: usize, started: Instant) {
        let millis = millis_since(started);
        if entries == 0 {
            self.heartbeat.record(millis);
        } else {
            self.append_entries.record(millis);
            self.logs.increment(entries as u64);
        }
    }
}

/// The log store's handles.
#[derive(Debug, Clone)]
pub(crate) struct LogMetrics {
    dispatch_log: Histogram,
    store_logs: Histogram,
}

impl LogMetrics {
    pub fn new() -> LogMetrics {
        LogMetrics {
            dispatch_log: histogram!("raft.leader.dispatchLog"),
            store_logs: histogram!("raft.rpc.appendEntries.storeLogs"),
        }
    }

    /// An append that began at `started` is on disk; `leading`: the entries are this
    /// server's own, written as the leader.
    pub fn appended(&self, leading: bool, started: Instant) {
        let millis = millis_since(started);
        if leading {
            self.dispatch_log.record(millis);
        } else {
            self.store_logs.record(millis);
        }
    }
}

/// A follower's (or voter's) handles for the Raft RPCs it answers.
#[derive(Debug)]
pub(crate) struct RaftRpcMetrics {
    pub append_entries: Histogram,
    pub request_vote: Histogram,
    pub install_snapshot: Histogram,
}

impl RaftRpcMetrics {
    pub fn new() -> RaftRpcMetrics {
        RaftRpcMetrics {
            append_entries: histogram!("raft.rpc.appendEntries"),
            request_vote: histogram!("raft.rpc.requestVote"),
            install_snapshot: histogram!("raft.rpc.installSnapshot"),
        }
    }
}
