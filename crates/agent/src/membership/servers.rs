//! Servers found through gossip: the RPC addresses in the member tags of this
//! datacenter's alive servers, handed whenever membership changes to consensus's
//! discovery on a server (which forms or joins the Raft cluster with them), or to the
//! server pool on a client agent (which sends its requests to them).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use proconsul_consensus::Consensus;
use proconsul_gossip::{Gossip, MemberStatus};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::membership::tags;
use crate::server_pool::{ServerEndpoint, ServerPool};

/// A full look at the members even when no event arrives.
const RESCAN_INTERVAL: Duration = Duration::from_secs(5);

/// This datacenter's alive servers: their node names and RPC addresses, as their tags
/// give them.
pub fn alive_servers(gossip: &Gossip, datacenter: &str) -> Vec<ServerEndpoint> {
    gossip
        .members()
        .into_iter()
        .filter(|member| member.status == MemberStatus::Alive)
        .filter_map(|member| {
            let rpc_addr = tags::server_rpc_addr(&member.tags, member.addr.ip(), datacenter)?;
            Some(ServerEndpoint {
                name: member.name,
                rpc_addr,
            })
        })
        .collect()
}

/// The RPC addresses of this datacenter's alive servers.
pub fn server_rpc_addrs(gossip: &Gossip, datacenter: &str) -> Vec<SocketAddr> {
    alive_servers(gossip, datacenter)
        .into_iter()
        .map(|server| server.rpc_addr)
        .collect()
}

/// Feeds discovery with gossip's servers until `shutdown`.
pub fn spawn(
    gossip: Gossip,
    consensus: Consensus,
    datacenter: String,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    on_membership(gossip, shutdown, move |gossip| {
        consensus.learn_servers_from_gossip(
            server_rpc_addrs(gossip, &datacenter)
                .into_iter()
                .map(|addr| addr.to_string()),
        );
    })
}

/// Feeds a client agent's server pool with gossip's servers until `shutdown`.
pub fn spawn_for_client(
    gossip: Gossip,
    pool: Arc<ServerPool>,
    datacenter: String,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    on_membership(gossip, shutdown, move |gossip| {
        let members = gossip.members().len();
        pool.replace(alive_servers(gossip, &datacenter));
        pool.set_cluster_size(members);
    })
}

/// Runs `changed` now, on every membership event and every [`RESCAN_INTERVAL`], until
/// `shutdown`.
pub fn on_membership(
    gossip: Gossip,
    shutdown: CancellationToken,
    mut changed: impl FnMut(&Gossip) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    on_membership_async(gossip, shutdown, move |gossip| {
        changed(gossip);
        std::future::ready(())
    })
}

/// [`on_membership`] with work that awaits (each run finishes before the next wait).
pub fn on_membership_async<F>(
    gossip: Gossip,
    shutdown: CancellationToken,
    mut changed: impl FnMut(&Gossip) -> F + Send + 'static,
) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut events = gossip.subscribe();
        loop {
            changed(&gossip).await;
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
