//! What the agent's gossip pools (LAN, and WAN on servers) are configured with: where it listens, the key it
//! encrypts with, and how the leader turns membership into catalog writes. The CLI fills
//! it from flags and files (`cli/src/commands/agent_gossip.rs`); `membership` uses it.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Consul's LAN gossip port (`ports.serf_lan`).
pub const DEFAULT_SERF_LAN_PORT: u16 = 8301;
/// Consul's WAN gossip port (`ports.serf_wan`).
pub const DEFAULT_SERF_WAN_PORT: u16 = 8302;

/// The gossip pool's settings. Defaults are Consul's, except where said.
#[derive(Debug, Clone, PartialEq)]
pub struct GossipSettings {
    /// `ports.serf_lan` (UDP and TCP).
    pub serf_lan_port: u16,
    /// `ports.serf_wan` (UDP and TCP) of a server's WAN pool; `None` (-1) turns it off.
    pub serf_wan_port: Option<u16>,
    /// `-join-wan`/`start_join_wan`: WAN addresses joined once at start.
    pub start_join_wan: Vec<String>,
    /// `-retry-join-wan`/`retry_join_wan`: WAN addresses joined, retried until one answers.
    pub retry_join_wan: Vec<String>,
    /// `advertise_addr`: the address other members dial (default: the bind address).
    pub advertise_addr: Option<IpAddr>,
    /// `encrypt`: the base64 gossip key; `None` keeps gossip in plaintext.
    pub encrypt: Option<String>,
    /// `encrypt_verify_incoming`: refuse unencrypted packets (true).
    pub verify_incoming: bool,
    /// `encrypt_verify_outgoing`: encrypt what is sent (true).
    pub verify_outgoing: bool,
    /// `reconnect_timeout`: a failed member is reaped (and its node deregistered) after
    /// this long (72h).
    pub reconnect_timeout: Duration,
    /// `skip_leave_on_interrupt`: on SIGINT, stop without leaving (servers: true,
    /// clients: false).
    pub skip_leave_on_interrupt: bool,
    /// Proconsul's `gossip_failure_hold_down`: a member reported failed is written
    /// critical only if it is still failed this long after, so a member that flaps back
    /// within a probe round costs no Raft write. Zero turns it off.
    pub failure_hold_down: Duration,
    /// How often the leader reconciles every member with the catalog (Consul: 60s; tests
    /// shorten it).
    pub reconcile_interval: Duration,
    /// Gossip timings shortened for tests (probe interval scale); `None` for Consul's
    /// LAN defaults.
    pub probe_interval: Option<Duration>,
}

impl Default for GossipSettings {
    fn default() -> Self {
        GossipSettings {
            serf_lan_port: DEFAULT_SERF_LAN_PORT,
            serf_wan_port: Some(DEFAULT_SERF_WAN_PORT),
            start_join_wan: Vec::new(),
            retry_join_wan: Vec::new(),
            advertise_addr: None,
            encrypt: None,
            verify_incoming: true,
            verify_outgoing: true,
            reconnect_timeout: Duration::from_secs(72 * 3600),
            skip_leave_on_interrupt: true,
            failure_hold_down: Duration::from_secs(2),
            reconcile_interval: Duration::from_secs(60),
            probe_interval: None,
        }
    }
}

impl GossipSettings {
    /// The address gossip advertises for an agent bound to `bind`: `advertise_addr`, or
    /// the bind address unless that is unspecified (then loopback, as `-dev` binds).
    pub fn advertise_ip(&self, bind: IpAddr) -> IpAddr {
        self.advertise_addr.unwrap_or(if bind.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            bind
        })
    }
}
