//! Joining a gossip pool: `start_join` once at start, `retry_join` until one address
//! answers, and `/v1/agent/join`. Addresses are gossip addresses (`host[:port]`, port
//! 8301 by default, 8302 for the WAN pool), as in Consul. Servers also join, in gossip, the servers that
//! discovery found through server RPC addresses, so that configurations naming server
//! RPC addresses keep working.

use std::net::SocketAddr;
use std::time::Duration;

use proconsul_consensus::Consensus;
use proconsul_gossip::Gossip;
use tokio_util::sync::CancellationToken;

use crate::gossip_settings::DEFAULT_SERF_LAN_PORT;

/// How often servers look for servers discovery knows but gossip does not.
const BRIDGE_INTERVAL: Duration = Duration::from_secs(2);

/// Which pool a join is for: its name in logs and the port an address without one gets.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    pub name: &'static str,
    pub default_port: u16,
}

/// The LAN pool (port 8301).
pub const LAN: Pool = Pool {
    name: "LAN",
    default_port: DEFAULT_SERF_LAN_PORT,
};

/// The WAN pool of servers (port 8302).
pub const WAN: Pool = Pool {
    name: "WAN",
    default_port: crate::gossip_settings::DEFAULT_SERF_WAN_PORT,
};

/// `host[:port]` resolved, with the LAN gossip port when none is given.
pub async fn resolve(addr: &str) -> Result<Vec<SocketAddr>, String> {
    resolve_in(addr, LAN).await
}

/// `host[:port]` resolved, with `pool`'s port when none is given.
async fn resolve_in(addr: &str, pool: Pool) -> Result<Vec<SocketAddr>, String> {
    let with_port = proconsul_consensus::with_port_unless_given(addr, pool.default_port);
    if let Ok(socket) = with_port.parse::<SocketAddr>() {
        return Ok(vec![socket]);
    }
    tokio::net::lookup_host(&with_port)
        .await
        .map(Iterator::collect)
        .map_err(|error| format!("{}: {error}", addr.trim()))
}

/// Joins the LAN pool through `addrs`; how many members answered.
pub async fn join(gossip: &Gossip, addrs: &[String]) -> Result<usize, String> {
    join_pool(gossip, addrs, LAN).await
}

/// Joins `pool` through `addrs`; how many members answered.
pub async fn join_pool(gossip: &Gossip, addrs: &[String], pool: Pool) -> Result<usize, String> {
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for addr in addrs {
        match resolve_in(addr, pool).await {
            Ok(found) => resolved.extend(found),
            Err(error) => errors.push(error),
        }
    }
    if resolved.is_empty() {
        return Err(errors.join("; "));
    }
    gossip
        .join(&resolved)
        .await
        .map_err(|error| error.to_string())
}

/// `start_join` now, then `retry_join` every `retry_interval` until an address answers;
/// on servers, also the gossip addresses of servers discovery met, for good.
pub fn spawn(
    pool: Pool,
    gossip: Gossip,
    consensus: Option<Consensus>,
    start_join: Vec<String>,
    retry_join: Vec<String>,
    retry_interval: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !start_join.is_empty() {
            match join_pool(&gossip, &start_join, pool).await {
                Ok(joined) => tracing::info!(
                    joined,
                    pool = pool.name,
                    "serf: joined the pool (start_join)"
                ),
                Err(error) => tracing::warn!(%error, pool = pool.name, "serf: start_join failed"),
            }
        }
        let mut joined_retry = retry_join.is_empty();
        let mut next_retry = tokio::time::Instant::now();
        loop {
            let now = tokio::time::Instant::now();
            if !joined_retry && now >= next_retry {
                match join_pool(&gossip, &retry_join, pool).await {
                    Ok(joined) => {
                        tracing::info!(
                            joined,
                            pool = pool.name,
                            "serf: joined the pool (retry_join)"
                        );
                        joined_retry = true;
                    }
                    Err(error) => {
                        tracing::warn!(%error, pool = pool.name, retry_in = ?retry_interval, "serf: retry_join failed; will retry");
                        next_retry = now + retry_interval;
                    }
                }
            }
            if let Some(consensus) = &consensus {
                join_discovered(&gossip, consensus).await;
            }
            if joined_retry && consensus.is_none() {
                return;
            }
            let pause = if joined_retry {
                BRIDGE_INTERVAL
            } else {
                BRIDGE_INTERVAL
                    .min(next_retry.saturating_duration_since(tokio::time::Instant::now()))
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    })
}

/// Joins, in gossip, the servers discovery knows and gossip does not.
async fn join_discovered(gossip: &Gossip, consensus: &Consensus) {
    let members: std::collections::BTreeSet<SocketAddr> = gossip
        .members()
        .into_iter()
        .filter(|member| member.status == proconsul_gossip::MemberStatus::Alive)
        .map(|member| member.addr)
        .collect();
    let missing: Vec<SocketAddr> = consensus
        .discovered_gossip_addrs()
        .iter()
        .filter_map(|addr| addr.parse().ok())
        .filter(|addr| !members.contains(addr))
        .collect();
    if missing.is_empty() {
        return;
    }
    match gossip.join(&missing).await {
        Ok(joined) => tracing::info!(joined, "serf: joined servers found through server RPC"),
        Err(error) => {
            tracing::debug!(%error, "serf: joining servers found through server RPC failed")
        }
    }
}
