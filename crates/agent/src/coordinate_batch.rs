//! The server's side of `PUT /v1/coordinate/update`: coordinates are not written one by
//! one but collected, the latest per node and segment, and proposed to Raft in batches
//! every update period (Consul: every 5 s, up to 5 batches of 128), so that thousands of
//! agents reporting every 15–30 s cost a few log entries, not thousands.
//!
//! The collection is bounded by what one period may write; updates beyond it are
//! dropped and counted, as Consul discards them, and the writer is not told (its next
//! report comes soon). The flushing task stops with the agent.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use proconsul_api::coordinate::Coordinate;
use proconsul_state::{Command, CommandOutcome, CoordinateUpdate};

use crate::agent::AgentInner;

/// The updates waiting for the next flush, keyed by `(node, segment)`: a node that
/// reports twice in one period is written once, with its latest coordinate.
#[derive(Debug, Default)]
pub struct CoordinateBatcher {
    pending: Mutex<BTreeMap<(String, String), Coordinate>>,
    /// Updates refused since the last flush because the collection was full.
    dropped: AtomicU64,
}

impl CoordinateBatcher {
    /// Queues one update, replacing an earlier one of the same node and segment. When
    /// `limit` updates of other nodes are waiting, it is dropped (and counted).
    pub fn queue(&self, update: CoordinateUpdate, limit: usize) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let key = (update.node, update.segment);
        if pending.len() >= limit && !pending.contains_key(&key) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(node = %key.0, "coordinate: update dropped, too many waiting");
            return;
        }
        pending.insert(key, update.coord);
    }

    /// Everything waiting, in batches of `batch_size`, and how many were dropped.
    fn take(&self, batch_size: usize) -> (Vec<Vec<CoordinateUpdate>>, u64) {
        let pending = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()),
        );
        let updates: Vec<CoordinateUpdate> = pending
            .into_iter()
            .map(|((node, segment), coord)| CoordinateUpdate {
                node,
                segment,
                coord,
            })
            .collect();
        let batches = updates
            .chunks(batch_size.max(1))
            .map(<[CoordinateUpdate]>::to_vec)
            .collect();
        (batches, self.dropped.swap(0, Ordering::Relaxed))
    }
}

impl AgentInner {
    /// Queues a coordinate for the next batch (bounded by what one period writes).
    pub fn queue_coordinate(&self, update: CoordinateUpdate) {
        let settings = &self.config.coordinates;
        let limit = settings.batch_size.max(1) * settings.max_batches.max(1);
        self.coordinate_batch.queue(update, limit);
    }
}

/// Writes the collected coordinates every update period until the agent stops.
pub async fn flush_periodically(agent: std::sync::Arc<AgentInner>) {
    let settings = agent.config.coordinates.clone();
    let mut ticks = tokio::time::interval(settings.update_period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = agent.shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let (batches, dropped) = agent.coordinate_batch.take(settings.batch_size);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "coordinate: discarded updates beyond what one period writes"
            );
        }
        for batch in batches {
            let entries = batch.len();
            let written = tokio::select! {
                _ = agent.shutdown.cancelled() => return,
                written = agent.catalog.write(Command::CoordinateBatchUpdate(batch), "") => written,
            };
            match written.map(|applied| applied.outcome) {
                Ok(CommandOutcome::Rejected(reason)) => {
                    tracing::warn!(entries, %reason, "coordinate: batch refused");
                }
                Ok(_) => tracing::debug!(entries, "coordinate: batch written"),
                Err(error) => {
                    // The rest would meet the same fate; their nodes report again soon.
                    tracing::warn!(entries, %error, "coordinate: batch not written");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(node: &str, x: f64) -> CoordinateUpdate {
        CoordinateUpdate {
            node: node.into(),
            segment: String::new(),
            coord: Coordinate {
                vec: vec![x],
                ..Coordinate::default()
            },
        }
    }

    #[test]
    fn the_latest_update_per_node_wins_and_batches_are_cut() {
        let batcher = CoordinateBatcher::default();
        for (node, x) in [("a", 1.0), ("b", 2.0), ("a", 3.0), ("c", 4.0)] {
            batcher.queue(update(node, x), 10);
        }
        let (batches, dropped) = batcher.take(2);
        assert_eq!(dropped, 0);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1]);
        assert_eq!(batches[0][0], update("a", 3.0));
        assert!(batcher.take(2).0.is_empty());
    }

    #[test]
    fn a_full_collection_drops_new_nodes_but_takes_known_ones() {
        let batcher = CoordinateBatcher::default();
        batcher.queue(update("a", 1.0), 2);
        batcher.queue(update("b", 1.0), 2);
        batcher.queue(update("c", 1.0), 2);
        batcher.queue(update("a", 5.0), 2);
        let (batches, dropped) = batcher.take(128);
        assert_eq!(dropped, 1);
        assert_eq!(batches, [vec![update("a", 5.0), update("b", 1.0)]]);
        assert_eq!(batcher.take(128).1, 0);
    }
}
