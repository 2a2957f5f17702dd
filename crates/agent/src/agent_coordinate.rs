//! This agent's own network coordinate: a Vivaldi client moved by gossip's probe round
//! trips (each with the peer's coordinate, which rides on its ack, as serf's does), handed
//! back to gossip to carry on this agent's acks, shown by `/v1/agent/self`, and reported
//! to the catalog the way Consul's agents report theirs: every `sync_interval_min` or
//! more (stretched so a whole cluster stays near the rate target), staggered at random,
//! and only when the catalog does not already hold it.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{Histogram, histogram};
use proconsul_api::coordinate::Coordinate;
use proconsul_coordinate::{Config, CoordinateError, VivaldiClient};
use proconsul_gossip::{Gossip, MemberEvent, RttSample};
use proconsul_state::CoordinateUpdate;
use rand::Rng;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::agent::AgentInner;

/// The agent's Vivaldi client. The lock is held only for an update or a copy.
#[derive(Debug)]
pub struct AgentCoordinate {
    client: Mutex<VivaldiClient>,
    /// `serf.coordinate.adjustment-ms`: how far each sample moved the coordinate, as
    /// serf samples it (label `network` = `lan`).
    adjustment: Histogram,
}

impl AgentCoordinate {
    /// A client at the origin with Consul's defaults, seeded from the node ID so that
    /// nodes that start together do not move together.
    pub fn new(node_id: &str) -> AgentCoordinate {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        node_id.hash(&mut hasher);
        let config = Config {
            seed: hasher.finish(),
            ..Config::default()
        };
        AgentCoordinate {
            client: Mutex::new(VivaldiClient::new(config)),
            adjustment: histogram!("serf.coordinate.adjustment-ms", "network" => "lan"),
        }
    }

    fn client(&self) -> std::sync::MutexGuard<'_, VivaldiClient> {
        self.client
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The coordinate now.
    pub fn current(&self) -> Coordinate {
        self.client().coordinate()
    }

    /// One RTT sample to `node`, whose coordinate is `other`.
    pub fn observe(
        &self,
        node: &str,
        other: &Coordinate,
        rtt: Duration,
    ) -> Result<Coordinate, CoordinateError> {
        let mut client = self.client();
        let before = client.coordinate();
        let after = client.update(node, other, rtt)?;
        drop(client);
        let moved = before.distance_to(&after).as_secs_f64() * 1000.0;
        self.adjustment.record(moved);
        Ok(after)
    }

    /// Forgets the samples of a node that left.
    pub fn forget(&self, node: &str) {
        self.client().forget_node(node);
    }
}

/// A coordinate as gossip carries it: postcard (89 bytes for 8 dimensions, under
/// gossip's 128).
fn encode(coord: &Coordinate) -> Vec<u8> {
    postcard::to_stdvec(coord).unwrap_or_default()
}

/// Feeds gossip's round trips into the Vivaldi client and gives gossip each new
/// coordinate; forgets the samples of members that left or were reaped. Samples from
/// peers without a coordinate, or with one that does not decode or fit, are skipped.
pub async fn follow_gossip(agent: Arc<AgentInner>) {
    follow(&agent.gossip, &agent.coordinate, &agent.shutdown).await;
}

/// [`follow_gossip`] for a server's WAN pool and its WAN coordinate.
pub async fn follow_wan_gossip(agent: Arc<AgentInner>) {
    if let Some(wan) = &agent.wan {
        follow(&wan.gossip, &wan.coordinate, &agent.shutdown).await;
    }
}

async fn follow(gossip: &Gossip, coordinate: &AgentCoordinate, shutdown: &CancellationToken) {
    let mut samples = gossip.rtt_samples();
    let mut events = gossip.subscribe();
    gossip.set_coordinate(encode(&coordinate.current()));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            sample = samples.recv() => match sample {
                Ok(sample) => observe(gossip, coordinate, sample),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "coordinate: RTT samples missed");
                }
                Err(RecvError::Closed) => return,
            },
            event = events.recv() => match event {
                Ok(MemberEvent::Leave(member) | MemberEvent::Reap(member)) => {
                    coordinate.forget(&member.name);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// One probe round trip: moves this agent's coordinate and hands the new one to gossip.
fn observe(gossip: &Gossip, coordinate: &AgentCoordinate, sample: RttSample) {
    let Some(blob) = sample.peer_coordinate else {
        return;
    };
    let Some(peer) = decode(&blob) else {
        tracing::debug!(node = %sample.node, "coordinate: peer's does not decode");
        return;
    };
    match coordinate.observe(&sample.node, &peer, sample.rtt) {
        Ok(moved) => gossip.set_coordinate(encode(&moved)),
        Err(error) => {
            tracing::debug!(node = %sample.node, %error, "coordinate: sample skipped");
        }
    }
}

/// A coordinate gossip carried (postcard), if it decodes.
pub fn decode(blob: &[u8]) -> Option<Coordinate> {
    postcard::from_bytes(blob).ok()
}

/// Reports this agent's coordinate to the catalog until the agent stops: a server
/// queues it for its own batches (unless the catalog already holds it); a client agent
/// sends it to a server as a one-entry batch.
pub async fn report_periodically(agent: Arc<AgentInner>) {
    let settings = agent.config.coordinates.clone();
    loop {
        let state = agent
            .consensus()
            .ok()
            .map(|consensus| consensus.reader().current());
        // A client does not know the catalog's size: the members it gossips with.
        let nodes = state.as_ref().map_or_else(
            || agent.gossip.members().len(),
            |state| state.counts().nodes,
        );
        let wait = report_wait(
            settings.sync_interval_min,
            settings.sync_rate_target,
            nodes,
            rand::rng().random::<f64>(),
        );
        tokio::select! {
            _ = agent.shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let coord = agent.coordinate.current();
        let node = agent.node.name.as_str();
        let update = CoordinateUpdate {
            node: node.to_string(),
            segment: String::new(),
            coord: coord.clone(),
        };
        let Some(consensus) = agent.consensus().ok() else {
            // Made with the agent token, which needs `node:write` on this node.
            if let Err(error) = agent
                .commit(proconsul_state::Command::CoordinateBatchUpdate(vec![
                    update,
                ]))
                .await
            {
                tracing::debug!(%error, "coordinate: report to a server failed; will retry");
            }
            continue;
        };
        let state = consensus.reader().current();
        // Not registered yet (the batch would skip it), or already there.
        if state.node(node).is_none()
            || state
                .coordinate(node, "")
                .is_some_and(|stored| **stored == coord)
        {
            continue;
        }
        agent.queue_coordinate(update);
    }
}

/// Consul's schedule: the interval that keeps `nodes` reporting agents at
/// `rate_target` per second, never under `minimum`, plus a random stagger of up to one
/// more interval (`stagger` in `[0, 1)`).
fn report_wait(minimum: Duration, rate_target: f64, nodes: usize, stagger: f64) -> Duration {
    let spread = if rate_target > 0.0 {
        Duration::from_secs_f64(nodes as f64 / rate_target)
    } else {
        Duration::ZERO
    };
    let interval = minimum.max(spread);
    interval + interval.mul_f64(stagger.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coordinate_fits_what_gossip_carries_and_decodes_back() {
        let coord = AgentCoordinate::new("n").current();
        let blob = encode(&coord);
        assert!(
            blob.len() <= proconsul_gossip::MAX_COORDINATE,
            "{}",
            blob.len()
        );
        assert_eq!(postcard::from_bytes::<Coordinate>(&blob).unwrap(), coord);
    }

    #[test]
    fn reports_are_spaced_by_cluster_size_and_staggered() {
        let min = Duration::from_secs(15);
        assert_eq!(report_wait(min, 64.0, 3, 0.0), min);
        assert_eq!(
            report_wait(min, 64.0, 3, 0.5),
            Duration::from_millis(22_500)
        );
        // 6400 nodes at 64 per second: every 100 s at least.
        assert_eq!(report_wait(min, 64.0, 6400, 0.0), Duration::from_secs(100));
        assert_eq!(report_wait(min, 0.0, 6400, 0.0), min);
    }

    #[test]
    fn different_nodes_get_different_seeds_and_the_same_node_the_same() {
        let a = AgentCoordinate::new("node-a");
        let b = AgentCoordinate::new("node-b");
        let again = AgentCoordinate::new("node-a");
        let peer = Coordinate::new(&Config::default());
        let rtt = Duration::from_millis(2);
        let moved_a = a.observe("p", &peer, rtt).unwrap();
        assert_ne!(moved_a, b.observe("p", &peer, rtt).unwrap());
        assert_eq!(moved_a, again.observe("p", &peer, rtt).unwrap());
        assert_eq!(a.current(), moved_a);
        a.forget("p");
    }
}
