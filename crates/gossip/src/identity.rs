//! The identity foca gossips about: a node name (the cluster-unique key), the address other
//! members dial, and a generation that makes a restarted node replace its old self.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One incarnation of a member process. Members are unique by `name`; when two identities
/// share a name, the higher `generation` wins (foca's address conflict), so a node that
/// restarts (new generation, possibly a new address) simply replaces its old self instead of
/// being refused as a name conflict.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "NodeIdWire")]
pub struct NodeId {
    /// A 128-bit digest of `name`, computed locally (never sent): foca compares the names of
    /// every member on every update, and comparing two integers is what keeps a 5,000-member
    /// cluster cheap. Declared first so that equality checks it first.
    #[serde(skip_serializing)]
    key: NameKey,
    /// Node name, unique in the cluster.
    pub name: Arc<str>,
    /// Gossip address (UDP and TCP) other members dial.
    pub addr: SocketAddr,
    /// The process start time in unix milliseconds; +1 on each automatic rejoin.
    pub generation: u64,
}

/// The key foca identifies members by: a digest of the node name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NameKey(u128);

impl NameKey {
    fn of(name: &str) -> NameKey {
        // Two SipHash digests with distinct prefixes: collisions between real names are
        // out of reach (2^64 work for a birthday collision), and the digest never leaves the
        // process, so the hasher may differ between builds.
        let half = |prefix: u8| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            prefix.hash(&mut h);
            name.hash(&mut h);
            h.finish()
        };
        NameKey(((half(1) as u128) << 64) | half(2) as u128)
    }
}

#[derive(Deserialize)]
struct NodeIdWire {
    name: Arc<str>,
    addr: SocketAddr,
    generation: u64,
}

impl From<NodeIdWire> for NodeId {
    fn from(w: NodeIdWire) -> NodeId {
        NodeId::new(w.name, w.addr, w.generation)
    }
}

impl NodeId {
    /// An identity.
    pub fn new(name: impl Into<Arc<str>>, addr: SocketAddr, generation: u64) -> NodeId {
        let name = name.into();
        NodeId {
            key: NameKey::of(&name),
            name,
            addr,
            generation,
        }
    }
}

impl foca::Identity for NodeId {
    type Addr = NameKey;

    /// After being declared down (a false failure, a healed partition), rejoin as the next
    /// generation, which wins over the identity the cluster buried.
    fn renew(&self) -> Option<Self> {
        Some(NodeId {
            generation: self.generation.saturating_add(1),
            ..self.clone()
        })
    }

    fn addr(&self) -> NameKey {
        self.key
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
        let old = NodeId::new("a", "127.0.0.1:8301".parse().unwrap(), 10);
        let restarted = NodeId::new("a", "127.0.0.9:8301".parse().unwrap(), 20);
        assert!(restarted.win_addr_conflict(&old));
        assert!(!old.win_addr_conflict(&restarted));
        assert_eq!(old.renew().unwrap().generation, 11);
        assert_eq!(old.addr(), restarted.addr());
        assert_ne!(old.addr(), NodeId::new("b", old.addr, 10).addr());
    }

    #[test]
    fn the_digest_is_recomputed_on_decode() {
        let id = NodeId::new("node-1", "10.0.0.1:8301".parse().unwrap(), 7);
        let bytes = postcard::to_allocvec(&id).unwrap();
        let back: NodeId = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, id);
    }
}
