//! A gossip pool's Vivaldi client (`AgentCoordinate`): the LAN one every agent keeps and
//! a server's WAN one, and the postcard form coordinates travel in over gossip. A leaf:
//! `agent_coordinate` moves them with gossip's round trips and reports the LAN one.

use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use metrics::{Histogram, histogram};
use proconsul_api::coordinate::Coordinate;
use proconsul_coordinate::{Config, CoordinateError, VivaldiClient};

/// The agent's Vivaldi client. The lock is held only for an update or a copy.
#[derive(Debug)]
pub struct AgentCoordinate {
    client: Mutex<VivaldiClient>,
    /// `serf.coordinate.adjustment-ms`: how far each sample moved the coordinate, as
    /// serf samples it (label `network`: the pool, `lan` or `wan`).
    adjustment: Histogram,
}

impl AgentCoordinate {
    /// A client at the origin with Consul's defaults, seeded from the node ID so that
    /// nodes that start together do not move together; `network` names its pool.
    pub fn new(node_id: &str, network: &'static str) -> AgentCoordinate {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        node_id.hash(&mut hasher);
        let config = Config {
            seed: hasher.finish(),
            ..Config::default()
        };
        AgentCoordinate {
            client: Mutex::new(VivaldiClient::new(config)),
            adjustment: histogram!("serf.coordinate.adjustment-ms", "network" => network),
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
pub fn encode(coord: &Coordinate) -> Vec<u8> {
    postcard::to_stdvec(coord).unwrap_or_default()
}

/// A coordinate gossip carried (postcard), if it decodes.
pub fn decode(blob: &[u8]) -> Option<Coordinate> {
    postcard::from_bytes(blob).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coordinate_fits_what_gossip_carries_and_decodes_back() {
        let coord = AgentCoordinate::new("n", "lan").current();
        let blob = encode(&coord);
        assert!(
            blob.len() <= proconsul_gossip::MAX_COORDINATE,
            "{}",
            blob.len()
        );
        assert_eq!(postcard::from_bytes::<Coordinate>(&blob).unwrap(), coord);
    }

    #[test]
    fn different_nodes_get_different_seeds_and_the_same_node_the_same() {
        let a = AgentCoordinate::new("node-a", "lan");
        let b = AgentCoordinate::new("node-b", "lan");
        let again = AgentCoordinate::new("node-a", "lan");
        let peer = Coordinate::new(&proconsul_coordinate::Config::default());
        let rtt = Duration::from_millis(2);
        let moved_a = a.observe("p", &peer, rtt).unwrap();
        assert_ne!(moved_a, b.observe("p", &peer, rtt).unwrap());
        assert_eq!(moved_a, again.observe("p", &peer, rtt).unwrap());
        assert_eq!(a.current(), moved_a);
        a.forget("p");
    }
}
