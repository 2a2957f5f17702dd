//! Raft timing: Consul's `performance.raft_multiplier` turned into openraft's settings.
//!
//! Consul scales its Raft timeouts by the multiplier: with 1, a follower stands for
//! election 1000–2000 ms after the last heartbeat, and a leader's lease is 500 ms; the
//! default of 5 is tuned for small cloud machines. An openraft follower waits its leader's
//! lease (the longest election timeout) *plus* an election timeout, so our timeouts are
//! half Consul's: 500–750 ms per unit, a failover after 1250–1500 ms, and a 750 ms lease.
//! Heartbeats go out every 100 ms per unit, so a few lost packets start no election.

use std::sync::Arc;

use openraft::{Config, SnapshotPolicy};

use crate::error::ConsensusError;

/// The shortest election timeout, in milliseconds, for one unit of `raft_multiplier`.
const ELECTION_TIMEOUT_MS: u64 = 500;

/// The timeouts one server runs with.
#[derive(Debug, Clone, Copy)]
pub struct RaftTiming {
    heartbeat_ms: u64,
    election_min_ms: u64,
    election_max_ms: u64,
}

impl RaftTiming {
    /// `-dev`: a lone in-memory voter, quick to elect itself.
    pub fn dev() -> Self {
        RaftTiming {
            heartbeat_ms: 50,
            election_min_ms: 150,
            election_max_ms: 300,
        }
    }

    /// Consul's scaling; 0 means the default (5), values above 10 are capped as in Consul.
    pub fn from_multiplier(multiplier: u32) -> Self {
        let multiplier = u64::from(if multiplier == 0 {
            5
        } else {
            multiplier.min(10)
        });
        let election_min_ms = ELECTION_TIMEOUT_MS * multiplier;
        RaftTiming {
            heartbeat_ms: election_min_ms / 5,
            election_min_ms,
            election_max_ms: election_min_ms + election_min_ms / 2,
        }
    }

    /// How long a leader may go without a quorum's acknowledgement and still count as
    /// the leader (openraft's lease is the longest election timeout).
    /// How often the leader sends heartbeats.
    pub fn heartbeat_millis(&self) -> u64 {
        self.heartbeat_ms
    }

    pub fn lease_millis(&self) -> u64 {
        self.election_max_ms
    }

    /// The openraft configuration for these timeouts and snapshot settings.
    pub fn raft_config(
        &self,
        cluster_name: &str,
        snapshot_threshold: u64,
        trailing_logs: u64,
    ) -> Result<Arc<Config>, ConsensusError> {
        let config = Config {
            cluster_name: cluster_name.to_string(),
            heartbeat_interval: self.heartbeat_ms,
            election_timeout_min: self.election_min_ms,
            election_timeout_max: self.election_max_ms,
            // A partitioned server that comes back must not depose a healthy leader.
            enable_pre_vote: Some(true),
            install_snapshot_timeout: 60_000,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_threshold),
            max_in_snapshot_log_to_keep: trailing_logs,
            ..Config::default()
        };
        config
            .validate()
            .map(Arc::new)
            .map_err(|error| ConsensusError::Raft(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multiplier_scales_every_timeout() {
        let fastest = RaftTiming::from_multiplier(1);
        assert_eq!(
            (
                fastest.heartbeat_ms,
                fastest.election_min_ms,
                fastest.election_max_ms
            ),
            (100, 500, 750)
        );
        let default = RaftTiming::from_multiplier(0);
        assert_eq!(default.election_min_ms, 2500);
        assert_eq!(RaftTiming::from_multiplier(50).election_min_ms, 5000);
        for multiplier in 0..12 {
            let timing = RaftTiming::from_multiplier(multiplier);
            assert!(timing.raft_config("t", 100, 10).is_ok(), "{multiplier}");
        }
    }
}
