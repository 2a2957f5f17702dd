//! Starting this agent's LAN gossip pool from its configuration: where it listens, the
//! tags it gossips, its key and keyring file.

use std::net::SocketAddr;
use std::time::Duration;

use proconsul_gossip::{Gossip, GossipConfig, Keyring};
use tokio_util::sync::CancellationToken;

use crate::config::AgentConfig;
use crate::error::AgentError;
use crate::membership::tags;

/// Consul's WAN gossip port, advertised in `wan_join_port`.
const SERF_WAN_PORT: u16 = 8302;
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
    let bind = SocketAddr::new(config.bind_addr, settings.serf_lan_port);
    let mut gossip_config = GossipConfig::lan(me.name.to_string(), bind, advertised_addr(config));
    gossip_config.tags = if me.server {
        tags::server_tags(&tags::ServerFacts {
            datacenter: &config.datacenter,
            node_id: me.id,
            version: me.version,
            rpc_port: config.server_port,
            bootstrap_expect: config.bootstrap_expect,
            bootstrap: config.bootstrap,
            acls_enabled: config.acl.enabled,
            wan_join_port: SERF_WAN_PORT,
        })
    } else {
        tags::client_tags(&config.datacenter, me.id, me.version)
    };
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
        .map(|dir| dir.join("serf").join("local.keyring"));
    let gossip = Gossip::start(gossip_config, shutdown)
        .await
        .map_err(|error| AgentError::Config(format!("gossip on {bind}: {error}")))?;
    tracing::info!(
        %bind,
        encrypted = gossip.encryption_enabled(),
        "serf: LAN gossip listening (UDP and TCP)"
    );
    Ok(gossip)
}
