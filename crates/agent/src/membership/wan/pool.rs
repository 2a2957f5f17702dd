//! Starting a server's WAN pool: the same tags, key and addresses as its LAN member, on
//! `ports.serf_wan` with memberlist's WAN timings, named `<node>.<dc>` and keeping its
//! keyring in `data_dir/serf/remote.keyring`, as Consul does.

use std::sync::Arc;

use proconsul_consensus::RpcTls;
use proconsul_gossip::GossipTiming;
use tokio_util::sync::CancellationToken;

use crate::config::AgentConfig;
use crate::coordinate_client::AgentCoordinate;
use crate::error::AgentError;
use crate::membership::start::{LocalMember, PoolSpec, server_tags, start_pool};
use crate::membership::wan::Wan;
use crate::membership::wan::datacenters::Datacenters;

/// This server's name in the WAN pool.
pub fn wan_name(node: &str, datacenter: &str) -> String {
    format!("{node}.{datacenter}")
}

/// Starts the WAN pool of a server (`None` on a client agent, or with `ports.serf_wan`
/// at -1). A `-dev` agent whose WAN port is taken runs without one, with a warning, so
/// that dev agents side by side keep starting.
pub async fn start(
    config: &AgentConfig,
    me: &LocalMember<'_>,
    rpc_tls: &RpcTls,
    shutdown: CancellationToken,
) -> Result<Option<Wan>, AgentError> {
    let Some(port) = config.gossip.serf_wan_port.filter(|_| me.server) else {
        return Ok(None);
    };
    let spec = PoolSpec {
        name: wan_name(me.name, &config.datacenter),
        port,
        tags: server_tags(config, me),
        timing: GossipTiming::wan(),
        keyring_file: "remote.keyring",
        network: "wan",
    };
    let (gossip, bind) = match start_pool(config, spec, shutdown).await {
        Ok(started) => started,
        Err(error) if config.dev => {
            tracing::warn!(%error, "serf: no WAN pool for this dev agent");
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    tracing::info!(
        %bind,
        encrypted = gossip.encryption_enabled(),
        "serf: WAN gossip listening (UDP and TCP)"
    );
    let datacenters = Datacenters::new(&config.datacenter, rpc_tls).with_pool(gossip.clone());
    Ok(Some(Wan {
        gossip,
        coordinate: AgentCoordinate::new(&format!("{}-wan", me.id), "wan"),
        datacenters: Arc::new(datacenters),
    }))
}
