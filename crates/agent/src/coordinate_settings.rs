//! How network coordinates are batched into Raft and how often an agent reports its
//! own: settings the agent's configuration carries, apart from the batching code so that
//! reading a configuration needs nothing of the agent's running parts.

use std::time::Duration;

/// How coordinates are collected and written; and how often this agent reports its own.
#[derive(Debug, Clone, PartialEq)]
pub struct CoordinateSettings {
    /// How long updates are collected before they are written (Consul's
    /// `CoordinateUpdatePeriod`, 5 s; tests shorten it with a hidden flag).
    pub update_period: Duration,
    /// Updates per Raft entry (Consul's `CoordinateUpdateBatchSize`, 128).
    pub batch_size: usize,
    /// Entries per period (Consul's `CoordinateUpdateMaxBatches`, 5).
    pub max_batches: usize,
    /// The least time between two reports of this agent's own coordinate (Consul's
    /// `sync_coordinate_interval_min`, 15 s), stretched for large clusters and
    /// staggered at random.
    pub sync_interval_min: Duration,
    /// The reports per second a whole cluster aims at (Consul's
    /// `sync_coordinate_rate_target`, 64).
    pub sync_rate_target: f64,
}

impl Default for CoordinateSettings {
    fn default() -> CoordinateSettings {
        CoordinateSettings {
            update_period: Duration::from_secs(5),
            batch_size: 128,
            max_batches: 5,
            sync_interval_min: Duration::from_secs(15),
            sync_rate_target: 64.0,
        }
    }
}
