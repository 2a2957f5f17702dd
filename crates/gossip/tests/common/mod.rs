//! Helpers for the real-socket tests: fast timing, members on loopback, polling.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use proconsul_gossip::{Gossip, GossipConfig, GossipTiming, Keyring, MemberStatus};
use tokio_util::sync::CancellationToken;

/// LAN timing shortened ~5× so failures are detected in a couple of seconds.
pub fn fast_timing() -> GossipTiming {
    GossipTiming {
        probe_interval: Duration::from_millis(200),
        probe_timeout: Duration::from_millis(100),
        gossip_interval: Duration::from_millis(50),
        push_pull_interval: Duration::from_secs(2),
        tcp_timeout: Duration::from_secs(2),
        ..GossipTiming::lan()
    }
}

/// A config for a member on `ip` with an ephemeral port.
pub fn config(name: &str, ip: &str) -> GossipConfig {
    let addr: SocketAddr = format!("{ip}:0").parse().unwrap();
    let mut config = GossipConfig::lan(name, addr, addr);
    config.timing = fast_timing();
    config.leave_propagate_delay = Duration::from_millis(500);
    config.tags = BTreeMap::from([("role".to_string(), "node".to_string())]);
    config
}

pub fn encrypted(mut config: GossipConfig, key: &str) -> GossipConfig {
    config.keyring = Some(Keyring::from_base64(key).unwrap());
    config
}

pub async fn start(config: GossipConfig) -> Gossip {
    Gossip::start(config, CancellationToken::new())
        .await
        .unwrap()
}

pub fn addr(g: &Gossip) -> SocketAddr {
    g.local_id().addr
}

/// Polls `check` every 50 ms until it holds or `deadline` passes.
pub async fn eventually(what: &str, deadline: Duration, mut check: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if check() {
            return;
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn status_of(g: &Gossip, name: &str) -> Option<MemberStatus> {
    g.member(name).map(|m| m.status)
}

/// Every member in `gs` sees `name` with `status`.
pub fn all_see(gs: &[&Gossip], name: &str, status: MemberStatus) -> bool {
    gs.iter().all(|g| status_of(g, name) == Some(status))
}
