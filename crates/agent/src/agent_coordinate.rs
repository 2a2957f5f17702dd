//! This agent's own network coordinate: a Vivaldi client moved by gossip's probe round
//! trips (each with the peer's coordinate, which rides on its ack, as serf's does), handed
//! back to gossip to carry on this agent's acks, shown by `/v1/agent/self`, and reported
//! to the catalog the way Consul's agents report theirs: every `sync_interval_min` or
//! more (stretched so a whole cluster stays near the rate target), staggered at random,
//! and only when the catalog does not already hold it.

use std::sync::Arc;
use std::time::Duration;

use proconsul_gossip::{Gossip, MemberEvent, RttSample};
use proconsul_state::CoordinateUpdate;
use rand::Rng;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::agent::AgentInner;
pub use crate::coordinate_client::AgentCoordinate;
use crate::coordinate_client::{decode, encode};

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
}
