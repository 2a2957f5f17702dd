//! Configuration of a gossip member: Consul's LAN defaults, and the timing knobs tests shorten.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::keyring::Keyring;

/// Protocol timing (memberlist's names and Consul's LAN values by default).
#[derive(Clone, Debug, PartialEq)]
pub struct GossipTiming {
    /// How often each member probes one other (memberlist `ProbeInterval`, 1 s).
    pub probe_interval: Duration,
    /// How long a direct ping waits before indirect probes start (`ProbeTimeout`, 500 ms).
    pub probe_timeout: Duration,
    /// Members asked to probe indirectly (`IndirectChecks`, 3).
    pub indirect_checks: usize,
    /// Suspicion multiplier (`SuspicionMult`, 4): an unconfirmed suspicion lasts
    /// `suspicion_mult × max(1, log10 n) × probe_interval`, Consul's own suspicion timeout.
    pub suspicion_mult: u32,
    /// The floor independent confirmations shrink a suspicion to, in probe intervals (2).
    pub suspicion_min_intervals: u32,
    /// How often pending gossip is pushed (`GossipInterval`, 200 ms) ...
    pub gossip_interval: Duration,
    /// ... to how many random members (`GossipNodes`, 3).
    pub gossip_nodes: usize,
    /// Retransmissions of each update: `retransmit_mult × log10(n + 1)` (`RetransmitMult`, 4).
    pub retransmit_mult: u32,
    /// Full state exchange over TCP with one random member (`PushPullInterval`, 30 s; scaled
    /// up past 32 members as memberlist does).
    pub push_pull_interval: Duration,
    /// Upper bound of Lifeguard's awareness multiplier (`AwarenessMaxMultiplier`, 8).
    pub awareness_max_multiplier: u32,
    /// Deadline of a TCP exchange (`TCPTimeout`, 10 s).
    pub tcp_timeout: Duration,
    /// Least time between two gossiped coordinate updates of this member (the newest one
    /// also rides on every ack).
    pub coordinate_broadcast_interval: Duration,
}

impl GossipTiming {
    /// Consul's LAN pool.
    pub fn lan() -> GossipTiming {
        GossipTiming {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            indirect_checks: 3,
            suspicion_mult: 4,
            suspicion_min_intervals: 2,
            gossip_interval: Duration::from_millis(200),
            gossip_nodes: 3,
            retransmit_mult: 4,
            push_pull_interval: Duration::from_secs(30),
            awareness_max_multiplier: 8,
            tcp_timeout: Duration::from_secs(10),
            coordinate_broadcast_interval: Duration::from_secs(15),
        }
    }

    /// Consul's WAN pool (probe 5 s / 3 s, suspicion ×6, gossip 500 ms × 4, push-pull 60 s).
    pub fn wan() -> GossipTiming {
        GossipTiming {
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(3),
            suspicion_mult: 6,
            gossip_interval: Duration::from_millis(500),
            gossip_nodes: 4,
            push_pull_interval: Duration::from_secs(60),
            tcp_timeout: Duration::from_secs(30),
            ..GossipTiming::lan()
        }
    }
}

/// A member's configuration.
#[derive(Clone, Debug)]
pub struct GossipConfig {
    /// This member's name (unique in the cluster).
    pub node_name: String,
    /// UDP and TCP listen address.
    pub bind: SocketAddr,
    /// The address other members dial.
    pub advertise: SocketAddr,
    /// This member's tags (≤ 512 bytes encoded).
    pub tags: BTreeMap<String, String>,
    /// Protocol timing.
    pub timing: GossipTiming,
    /// Failed members are reaped after this (Consul: 72 h).
    pub reconnect_timeout: Duration,
    /// Left members are forgotten after this (24 h).
    pub tombstone_timeout: Duration,
    /// How long `leave` lets the leave intent spread before going quiet (Consul: 3 s).
    pub leave_propagate_delay: Duration,
    /// Gossip keys (`encrypt`); `None` and no keyring file: no encryption.
    pub keyring: Option<Keyring>,
    /// Refuse unencrypted incoming messages (Consul's `encrypt_verify_incoming`).
    pub verify_incoming: bool,
    /// Encrypt outgoing messages (Consul's `encrypt_verify_outgoing`).
    pub verify_outgoing: bool,
    /// The persisted keyring (`data_dir/serf/local.keyring`). Consul's rule: when the file
    /// exists it is used and `keyring` is ignored; otherwise `keyring`, if set, is written to
    /// it. Every keyring change rewrites it.
    pub keyring_file: Option<PathBuf>,
    /// The `network` label of this pool's metrics, as Consul's: `lan` or `wan`.
    pub network: &'static str,
}

impl GossipConfig {
    /// Consul's LAN defaults for everything but the name and addresses.
    pub fn lan(
        node_name: impl Into<String>,
        bind: SocketAddr,
        advertise: SocketAddr,
    ) -> GossipConfig {
        GossipConfig {
            node_name: node_name.into(),
            bind,
            advertise,
            tags: BTreeMap::new(),
            timing: GossipTiming::lan(),
            reconnect_timeout: Duration::from_secs(72 * 3600),
            tombstone_timeout: Duration::from_secs(24 * 3600),
            leave_propagate_delay: Duration::from_secs(3),
            keyring: None,
            verify_incoming: true,
            verify_outgoing: true,
            keyring_file: None,
            network: "lan",
        }
    }
}
