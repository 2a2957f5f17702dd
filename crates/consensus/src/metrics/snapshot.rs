//! hashicorp/raft's snapshot and restore timers, measured in the state machine adapter:
//! - `raft.snapshot.takeSnapshot`: one whole snapshot, from the state's version to its
//!   being kept (on disk for a server, in memory for `-dev`);
//! - `raft.snapshot.create`: opening the snapshot's file (in memory: nothing to open);
//! - `raft.snapshot.persist`: encoding the state and writing, syncing and renaming the
//!   file (in memory: keeping the version);
//! - `raft.fsm.restore`: decoding a snapshot into the state (at start-up, when a follower
//!   installs the leader's, and when `snapshot restore` is applied);
//! - `raft.restore` (counter): a `snapshot restore` proposed through this server.

use metrics::{Counter, Histogram, counter, histogram};

/// The snapshot timers, shared by the state machine and its snapshot builders.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotMetrics {
    pub take_snapshot: Histogram,
    pub create: Histogram,
    pub persist: Histogram,
    pub fsm_restore: Histogram,
}

impl SnapshotMetrics {
    pub fn new() -> SnapshotMetrics {
        SnapshotMetrics {
            take_snapshot: histogram!("raft.snapshot.takeSnapshot"),
            create: histogram!("raft.snapshot.create"),
            persist: histogram!("raft.snapshot.persist"),
            fsm_restore: histogram!("raft.fsm.restore"),
        }
    }
}

/// `raft.restore`, on the write path.
pub(crate) fn restore_counter() -> Counter {
    counter!("raft.restore")
}
