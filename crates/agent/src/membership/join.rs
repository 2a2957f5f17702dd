//! Joining the LAN pool: `start_join` once at start, `retry_join` until one address
//! answers, and `/v1/agent/join`. Addresses are gossip addresses (`host[:port]`, port
//! 8301 by default), as in Consul. Servers also join, in gossip, the servers that
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

/// `host[:port]` resolved, with the LAN gossip port when none is given.
pub async fn resolve(addr: &str) -> Result<Vec<SocketAddr>, String> {
    let with_port = proconsul_consensus::with_port_unless_given(addr, DEFAULT_SERF_LAN_PORT);
    if let Ok(socket) = with_port.parse::<SocketAddr>() {
        return Ok(vec![socket]);
    }
    tokio::net::lookup_host(&with_port)
        .await
        .map(Iterator::collect)
        .map_err(|error| format!("{}: {error}", addr.trim()))
}

/// Joins the pool through `addrs`; how many members answered.
pub async fn join(gossip: &Gossip, addrs: &[String]) -> Result<usize, String> {
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for addr in addrs {
        match resolve(addr).await {
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
    gossip: Gossip,
    consensus: Option<Consensus>,
    start_join: Vec<String>,
    retry_join: Vec<String>,
    retry_interval: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !start_join.is_empty() {
            match join(&gossip, &start_join).await {
                Ok(joined) => tracing::info!(joined, "serf: joined the LAN pool (start_join)"),
                Err(error) => tracing::warn!(%error, "serf: start_join failed"),
            }
        }
        let mut joined_retry = retry_join.is_empty();
        let mut next_retry = tokio::time::Instant::now();
        loop {
            let now = tokio::time::Instant::now();
            if !joined_retry && now >= next_retry {
                match join(&gossip, &retry_join).await {
                    Ok(joined) => {
                        tracing::info!(joined, "serf: joined the LAN pool (retry_join)");
                        joined_retry = true;
                    }
                    Err(error) => {
                        tracing::warn!(%error, retry_in = ?retry_interval, "serf: retry_join failed; will retry");
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
