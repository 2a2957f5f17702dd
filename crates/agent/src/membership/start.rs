//! Starting this agent's gossip pools from its configuration: where each listens, the
//! tags it gossips, its key and keyring file. The LAN pool starts here; a server's WAN
//! pool (`crate::membership::wan::pool`) through [`start_pool`] too.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use proconsul_gossip::{Gossip, GossipConfig, GossipTiming, Keyring};
use tokio_util::sync::CancellationToken;

use crate::config::AgentConfig;
use crate::error::AgentError;
use crate::membership::tags;

/// Left members are forgotten after this long (serf's tombstone timeout).
const TOMBSTONE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// How long a leave waits for the news to spread (Consul's `LeavePropagateDelay`).
const LEAVE_PROPAGATE_DELAY: Duration = Duration::from_secs(3);

/// Who this agent is in gossip.
pub struct LocalMember<'a> {
    pub name: &'a str,
    /// The node ID (a UUID).
    pub id: &'a str,
    pub server: bool,
    /// The Consul version this build answers as.
    pub version: &'a str,
}

/// The gossip address this agent advertises.
pub fn advertised_addr(config: &AgentConfig) -> SocketAddr {
    SocketAddr::new(
        config.gossip.advertise_ip(config.bind_addr),
        config.gossip.serf_lan_port,
    )
}

/// Binds the LAN pool and starts gossiping; it stops with `shutdown`.
pub async fn start(
    config: &AgentConfig,
    me: &LocalMember<'_>,
    shutdown: CancellationToken,
) -> Result<Gossip, AgentError> {
    let settings = &config.gossip;
    let tags = if me.server {
        server_tags(config, me)
    } else {
        tags::client_tags(&config.datacenter, me.id, me.version)
    };
    let pool = PoolSpec {
        name: me.name.to_string(),
        port: settings.serf_lan_port,
        tags,
        timing: GossipTiming::lan(),
        keyring_file: "local.keyring",
        network: "lan",
    };
    let (gossip, bind) = start_pool(config, pool, shutdown).await?;
    tracing::info!(
        %bind,
        encrypted = gossip.encryption_enabled(),
        "serf: LAN gossip listening (UDP and TCP)"
    );
    Ok(gossip)
}

/// A server's tags (the same in the LAN and WAN pools, as in Consul).
pub fn server_tags(config: &AgentConfig, me: &LocalMember<'_>) -> BTreeMap<String, String> {
    tags::server_tags(&tags::ServerFacts {
        datacenter: &config.datacenter,
        node_id: me.id,
        version: me.version,
        rpc_port: config.server_port,
        bootstrap_expect: config.bootstrap_expect,
        bootstrap: config.bootstrap,
        acls_enabled: config.acl.enabled,
        wan_join_port: config.gossip.serf_wan_port,
    })
}

/// What tells one pool from the other.
pub struct PoolSpec {
    /// This member's name in the pool.
    pub name: String,
    pub port: u16,
    pub tags: BTreeMap<String, String>,
    /// The pool's protocol timing (scaled down when tests shorten the probe interval).
    pub timing: GossipTiming,
    /// The keyring file's name under `data_dir/serf`.
    pub keyring_file: &'static str,
    /// The `network` label of its metrics (`lan`, `wan`).
    pub network: &'static str,
}

/// Binds one pool with the agent's key, addresses and timeouts; returns it and its bind
/// address.
pub async fn start_pool(
    config: &AgentConfig,
    pool: PoolSpec,
    shutdown: CancellationToken,
) -> Result<(Gossip, SocketAddr), AgentError> {
    let settings = &config.gossip;
    let bind = SocketAddr::new(config.bind_addr, pool.port);
    let advertise = SocketAddr::new(settings.advertise_ip(config.bind_addr), pool.port);
    let mut gossip_config = GossipConfig::lan(pool.name, bind, advertise);
    gossip_config.tags = pool.tags;
    gossip_config.timing = pool.timing;
    gossip_config.network = pool.network;
    if let Some(probe) = settings.probe_interval {
        // Tests shorten every timer in proportion to the probe interval.
        let timing = &mut gossip_config.timing;
        timing.probe_interval = probe;
        timing.probe_timeout = probe / 2;
        timing.gossip_interval = probe / 5;
    }
    gossip_config.reconnect_timeout = settings.reconnect_timeout;
    gossip_config.tombstone_timeout = TOMBSTONE_TIMEOUT;
    gossip_config.leave_propagate_delay = if config.dev {
        Duration::ZERO
    } else {
        LEAVE_PROPAGATE_DELAY
    };
    gossip_config.keyring = settings
        .encrypt
        .as_deref()
        .map(Keyring::from_base64)
        .transpose()
        .map_err(|error| AgentError::Config(format!("encrypt: {error}")))?;
    gossip_config.verify_incoming = settings.verify_incoming;
    gossip_config.verify_outgoing = settings.verify_outgoing;
    gossip_config.keyring_file = config
        .data_dir
        .as_ref()
        .filter(|_| !config.dev)
        .map(|dir| dir.join("serf").join(pool.keyring_file));
    let gossip = Gossip::start(gossip_config, shutdown)
        .await
        .map_err(|error| AgentError::Config(format!("gossip on {bind}: {error}")))?;
    Ok((gossip, bind))
}
