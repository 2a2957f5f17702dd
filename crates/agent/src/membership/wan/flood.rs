//! Bringing this datacenter's servers into the WAN pool, as Consul's flood join does:
//! every server looks at its LAN pool's alive servers of its own datacenter, takes each
//! one's WAN address (its LAN address with the `wan_join_port` tag) and joins those the
//! WAN pool does not have yet. Joining one server of a datacenter over the WAN thus
//! brings in all of them.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use proconsul_gossip::{Gossip, MemberStatus};
use tokio_util::sync::CancellationToken;

use crate::membership::tags;

/// The WAN addresses of this datacenter's alive LAN servers, but this one's own.
fn lan_servers_wan_addrs(lan: &Gossip, datacenter: &str) -> Vec<SocketAddr> {
    lan.members()
        .into_iter()
        .filter(|member| member.status == MemberStatus::Alive && member.name != lan.local_name())
        .filter(|member| {
            tags::server_rpc_addr(&member.tags, member.addr.ip(), datacenter).is_some()
        })
        .filter_map(|member| {
            let port: u16 = member.tags.get("wan_join_port")?.parse().ok()?;
            Some(SocketAddr::new(member.addr.ip(), port))
        })
        .collect()
}

/// Joins, in the WAN pool, the LAN servers it lacks.
async fn flood_once(lan: &Gossip, wan: &Gossip, datacenter: &str) {
    let known: BTreeSet<SocketAddr> = wan
        .members()
        .into_iter()
        .filter(|member| member.status == MemberStatus::Alive)
        .map(|member| member.addr)
        .collect();
    let missing: Vec<SocketAddr> = lan_servers_wan_addrs(lan, datacenter)
        .into_iter()
        .filter(|addr| !known.contains(addr))
        .collect();
    if missing.is_empty() {
        return;
    }
    match wan.join(&missing).await {
        Ok(joined) => tracing::info!(joined, "serf: flood-joined LAN servers into the WAN pool"),
        Err(error) => tracing::debug!(%error, "serf: WAN flood join failed; will retry"),
    }
}

/// Floods on every LAN membership event and every few seconds until `shutdown`.
pub fn spawn(
    lan: Gossip,
    wan: Gossip,
    datacenter: String,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    crate::membership::servers::on_membership_async(lan, shutdown, move |lan| {
        let (lan, wan, datacenter) = (lan.clone(), wan.clone(), datacenter.clone());
        async move { flood_once(&lan, &wan, &datacenter).await }
    })
}
