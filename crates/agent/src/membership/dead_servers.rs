//! Autopilot's dead-server cleanup, as a pure decision: which servers of the Raft
//! configuration the leader takes out because gossip says they are gone. A server that
//! left (or was reaped) is always removed, as Consul's leader does; with
//! `cleanup_dead_servers`, failed servers are removed too, but never so many that the
//! remaining voters fall below `min_quorum`, and only while fewer than half of the voters
//! have failed (so a partition that hides most servers from the leader removes nobody).

use std::collections::BTreeMap;

use proconsul_consensus::RaftServer;

/// What gossip says of a server of the Raft configuration, by node name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipVerdict {
    Alive,
    Failed,
    /// Left the pool. (A server gossip does not know has no verdict: a leader that just
    /// started may not have heard of every server yet.)
    Gone,
}

/// The Raft IDs to remove now, in a stable order.
pub fn servers_to_remove(
    servers: &[RaftServer],
    verdicts: &BTreeMap<String, GossipVerdict>,
    cleanup_dead_servers: bool,
    min_quorum: u32,
) -> Vec<u64> {
    let others = servers.iter().filter(|server| !server.local);
    let gone: Vec<u64> = others
        .clone()
        .filter(|server| verdicts.get(&server.name) == Some(&GossipVerdict::Gone))
        .map(|server| server.node_id)
        .collect();
    let mut removals = gone;
    if !cleanup_dead_servers {
        return removals;
    }
    let voters = servers
        .iter()
        .filter(|server| server.voter && !removals.contains(&server.node_id))
        .count();
    let failed: Vec<u64> = others
        .filter(|server| server.voter)
        .filter(|server| verdicts.get(&server.name) == Some(&GossipVerdict::Failed))
        .map(|server| server.node_id)
        .collect();
    // Consul's rule: more than half failed looks like a partition, not dead servers.
    if failed.is_empty() || failed.len() * 2 >= voters {
        return removals;
    }
    let floor = usize::try_from(min_quorum).unwrap_or(usize::MAX);
    let removable = voters.saturating_sub(floor).min(failed.len());
    removals.extend(failed.into_iter().take(removable));
    removals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: u64, local: bool) -> RaftServer {
        RaftServer {
            node_id: id,
            id: format!("id-{id}"),
            name: format!("s{id}"),
            address: format!("127.0.0.1:{}", 8300 + id),
            leader: local,
            voter: true,
            local,
            last_index: 0,
        }
    }

    fn verdicts(pairs: &[(u64, GossipVerdict)]) -> BTreeMap<String, GossipVerdict> {
        pairs
            .iter()
            .map(|(id, verdict)| (format!("s{id}"), *verdict))
            .collect()
    }

    #[test]
    fn a_server_that_left_is_removed_even_without_cleanup() {
        let servers = [server(1, true), server(2, false), server(3, false)];
        let seen = verdicts(&[
            (1, GossipVerdict::Alive),
            (2, GossipVerdict::Gone),
            (3, GossipVerdict::Alive),
        ]);
        assert_eq!(servers_to_remove(&servers, &seen, false, 0), [2]);
    }

    #[test]
    fn failed_servers_are_removed_only_with_cleanup_and_a_majority_alive() {
        let servers: Vec<RaftServer> = (1..=5).map(|id| server(id, id == 1)).collect();
        let one_failed = verdicts(&[(2, GossipVerdict::Failed)]);
        assert!(servers_to_remove(&servers, &one_failed, false, 0).is_empty());
        assert_eq!(servers_to_remove(&servers, &one_failed, true, 0), [2]);
        let two_failed = verdicts(&[(2, GossipVerdict::Failed), (3, GossipVerdict::Failed)]);
        assert_eq!(servers_to_remove(&servers, &two_failed, true, 0), [2, 3]);
        let three_failed = verdicts(&[
            (2, GossipVerdict::Failed),
            (3, GossipVerdict::Failed),
            (4, GossipVerdict::Failed),
        ]);
        assert!(servers_to_remove(&servers, &three_failed, true, 0).is_empty());
    }

    #[test]
    fn min_quorum_is_a_floor() {
        let servers: Vec<RaftServer> = (1..=3).map(|id| server(id, id == 1)).collect();
        let one_failed = verdicts(&[(3, GossipVerdict::Failed)]);
        assert!(servers_to_remove(&servers, &one_failed, true, 3).is_empty());
        assert_eq!(servers_to_remove(&servers, &one_failed, true, 2), [3]);
    }

    #[test]
    fn the_leader_never_removes_itself() {
        let servers = [server(1, true), server(2, false)];
        let seen = verdicts(&[(1, GossipVerdict::Gone)]);
        assert!(servers_to_remove(&servers, &seen, true, 0).is_empty());
    }
}
