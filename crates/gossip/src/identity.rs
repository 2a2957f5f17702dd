//! The identity foca gossips about: a node name (the cluster-unique key), the address other
//! members dial, and a generation that makes a restarted node replace its old self.

use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One incarnation of a member process. Members are unique by `name`; when two identities
/// share a name, the higher `generation` wins (foca's address conflict), so a node that
/// restarts (new generation, possibly a new address) simply replaces its old self instead of
/// being refused as a name conflict.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeId {
    /// Node name, unique in the cluster (shared: foca compares names on every update).
    pub name: Arc<str>,
    /// Gossip address (UDP and TCP) other members dial.
    pub addr: SocketAddr,
    /// Starts at the process start time in unix milliseconds; +1 on each automatic rejoin.
    pub generation: u64,
}

impl foca::Identity for NodeId {
    type Addr = Arc<str>;

    /// After being declared down (a false failure, a healed partition), rejoin as the next
    /// generation, which wins over the identity the cluster buried.
    fn renew(&self) -> Option<Self> {
        Some(NodeId {
            name: self.name.clone(),
            addr: self.addr,
            generation: self.generation.saturating_add(1),
        })
    }

    fn addr(&self) -> Arc<str> {
        self.name.clone()
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        // Higher generation wins; the address only breaks ties so that every member picks
        // the same winner.
        (self.generation, self.addr) > (adversary.generation, adversary.addr)
    }
}

#[cfg(test)]
mod tests {
    use foca::Identity;

    use super::*;

    #[test]
    fn newer_generation_wins_and_renew_increments() {
        let old = NodeId {
            name: "a".into(),
            addr: "127.0.0.1:8301".parse().unwrap(),
            generation: 10,
        };
        let restarted = NodeId {
            addr: "127.0.0.9:8301".parse().unwrap(),
            generation: 20,
            ..old.clone()
        };
        assert!(restarted.win_addr_conflict(&old));
        assert!(!old.win_addr_conflict(&restarted));
        assert_eq!(old.renew().unwrap().generation, 11);
        assert_eq!(&*old.addr(), "a");
    }
}
