//! What the agent sees of the membership: members with Consul's statuses, the events that
//! change them, RTT samples for Vivaldi, and the counters `consul info` shows.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// A member as Consul's `/v1/agent/members` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// Node name.
    pub name: String,
    /// Gossip address (UDP and TCP).
    pub addr: SocketAddr,
    /// The member's tags (Consul's `role`, `dc`, `port`, `build`, ...).
    pub tags: BTreeMap<String, String>,
    /// Consul's serf status.
    pub status: MemberStatus,
    /// Which incarnation of the process this is: a restarted node has a higher one.
    pub generation: u64,
}

/// Serf's member status, with Consul's numeric values (`Status` in `/v1/agent/members`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MemberStatus {
    /// Unknown (never reported for a known member; Consul's zero value).
    None = 0,
    /// Reachable.
    Alive = 1,
    /// Announced its leave, not yet gone.
    Leaving = 2,
    /// Left on purpose (or force-left).
    Left = 3,
    /// Unreachable without having left.
    Failed = 4,
}

impl MemberStatus {
    /// Consul's lower-case name (`consul members` prints it).
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::None => "none",
            MemberStatus::Alive => "alive",
            MemberStatus::Leaving => "leaving",
            MemberStatus::Left => "left",
            MemberStatus::Failed => "failed",
        }
    }
}

/// A change in membership, as serf's member events (the leader reconciles the catalog on them).
#[derive(Clone, Debug, PartialEq)]
pub enum MemberEvent {
    /// A member became alive (first seen, or back after failing or leaving).
    Join(Member),
    /// A member left (or was force-left).
    Leave(Member),
    /// A member stopped answering.
    Failed(Member),
    /// An alive member changed its tags or address.
    Update(Member),
    /// A failed or left member was forgotten (`reconnect_timeout`, `tombstone_timeout`, prune).
    Reap(Member),
}

impl MemberEvent {
    /// The member the event is about.
    pub fn member(&self) -> &Member {
        match self {
            MemberEvent::Join(m)
            | MemberEvent::Leave(m)
            | MemberEvent::Failed(m)
            | MemberEvent::Update(m)
            | MemberEvent::Reap(m) => m,
        }
    }
}

/// One measured probe round trip (ping sent → ack received), with the coordinate the peer
/// attached to its ack (or the latest one gossiped), for the agent's Vivaldi update.
#[derive(Clone, Debug, PartialEq)]
pub struct RttSample {
    /// The probed member.
    pub node: String,
    /// Ping to ack.
    pub rtt: Duration,
    /// The peer's opaque coordinate blob, if it has set one.
    pub peer_coordinate: Option<Vec<u8>>,
}

/// Counters for `consul info`'s `serf_lan` section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GossipStats {
    /// Known members, any status, self included.
    pub members: usize,
    /// Members currently failed.
    pub failed: usize,
    /// Members currently left.
    pub left: usize,
    /// Lifeguard's local awareness: 0 is healthy; probing slows by (score + 1).
    pub health_score: u32,
    /// Lamport clock of membership intents.
    pub member_time: u64,
    /// Lamport clock of user events (none are sent yet; kept for `consul info`).
    pub event_time: u64,
    /// Custom broadcasts (intents, tags, coordinates, suspicions) waiting to be gossiped.
    pub intent_queue: usize,
    /// Whether gossip is encrypted.
    pub encrypted: bool,
}

/// A cluster-wide keyring operation (`consul keyring`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyringOp {
    /// Every member reports its keys.
    List,
    /// Every member installs the base64 key.
    Install(String),
    /// Every member makes the base64 key its primary (encrypting) key.
    Use(String),
    /// Every member removes the base64 key (never the primary).
    Remove(String),
}

/// The per-node answers to a keyring operation, in Consul's shape (`/v1/operator/keyring`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyringReport {
    /// Node name → error text, for each member that failed or did not answer.
    pub messages: BTreeMap<String, String>,
    /// Base64 key → number of members that have it (filled for `List`).
    pub keys: BTreeMap<String, usize>,
    /// Base64 key → number of members using it as primary (filled for `List`).
    pub primary_keys: BTreeMap<String, usize>,
    /// Members asked (alive members, self included).
    pub num_nodes: usize,
    /// Members that answered with an error or not at all.
    pub num_err: usize,
    /// Each member's own answer (filled for `List`), so that a caller can count a subset
    /// of the pool (Consul's WAN view: the servers).
    pub node_keys: BTreeMap<String, NodeKeyring>,
}

/// One member's keyring, as it answered a `List`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeKeyring {
    /// Its keys, base64.
    pub keys: Vec<String>,
    /// Its primary key, base64.
    pub primary: Option<String>,
}

impl KeyringReport {
    /// Serf's error when some members failed the operation: `"N/M nodes reported failure"`.
    pub fn failure_message(&self) -> Option<String> {
        (self.num_err > 0)
            .then(|| format!("{}/{} nodes reported failure", self.num_err, self.num_nodes))
    }
}
