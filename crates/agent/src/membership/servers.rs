//! Servers found through gossip: the RPC addresses in the member tags of this
//! datacenter's alive servers, handed to consensus's discovery (which forms or joins the
//! Raft cluster with them) whenever membership changes.

use std::time::Duration;

use proconsul_consensus::Consensus;
use proconsul_gossip::{Gossip, MemberStatus};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::membership::tags;

/// A full look at the members even when no event arrives.
const RESCAN_INTERVAL: Duration = Duration::from_secs(5);

/// The RPC addresses of this datacenter's alive servers, as their tags give them.
pub fn server_rpc_addrs(gossip: &Gossip, datacenter: &str) -> Vec<std::net::SocketAddr> {
    gossip
        .members()
        .into_iter()
        .filter(|member| member.status == MemberStatus::Alive)
        .filter_map(|member| tags::server_rpc_addr(&member.tags, member.addr.ip(), datacenter))
        .collect()
}

/// Feeds discovery with gossip's servers until `shutdown`.
pub fn spawn(
    gossip: Gossip,
    consensus: Consensus,
    datacenter: String,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = gossip.subscribe();
        loop {
            consensus.learn_servers_from_gossip(
                server_rpc_addrs(&gossip, &datacenter)
                    .into_iter()
                    .map(|addr| addr.to_string()),
            );
            tokio::select! {
                _ = shutdown.cancelled() => return,
                event = events.recv() => {
                    if matches!(event, Err(RecvError::Closed)) {
                        return;
                    }
                }
                _ = tokio::time::sleep(RESCAN_INTERVAL) => {}
            }
        }
    })
}
