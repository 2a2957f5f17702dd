//! Finding the other servers before there is a cluster, and joining one that exists.
//!
//! Until gossip exists, servers introduce themselves over server RPC: a `Hello` carries
//! who the sender is and whom it knows, the answer the same from the other side, so
//! every server contacted through `retry_join` (or `/v1/agent/join`) soon knows all the
//! others. Then:
//! - a server that meets one already in a cluster asks that cluster to add it;
//! - with `bootstrap_expect = N`, once N servers know each other and none is in a
//!   cluster, the one with the lowest Raft ID, after asking every other that they still
//!   agree, initialises the cluster with all of them. The others receive the
//!   configuration through Raft, so exactly one server initialises.

use std::collections::BTreeMap;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;

use crate::error::ConsensusError;
use crate::node::{ClusterOptions, Consensus, lock};
use crate::rpc::client::CallError;
use crate::rpc::messages::{self, AddServer, Answer, Hello, ServerInfo};
use crate::types::ServerNode;

/// The server RPC port of an address given without one (Consul's `ports.server`).
pub const DEFAULT_SERVER_PORT: u16 = 8300;
/// How long one introduction may take.
const HELLO_TIMEOUT: Duration = Duration::from_secs(2);
/// How long being added to a cluster may take (catching up included).
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Until the cluster forms, rounds run at least this often whatever `retry_interval`
/// says: the servers are waiting for each other.
const FORMING_INTERVAL: Duration = Duration::from_secs(1);

/// `host` → `host:8300`; an address with a port is kept as it is.
pub fn with_default_port(addr: &str) -> String {
    with_port_unless_given(addr, DEFAULT_SERVER_PORT)
}

/// `host` → `host:port` and `ip` → `ip:port` (`[ip]:port` for IPv6); an address that has
/// a port keeps it. Server RPC and gossip join addresses both take this form.
pub fn with_port_unless_given(addr: &str, port: u16) -> String {
    let addr = addr.trim();
    if addr.parse::<std::net::SocketAddr>().is_ok() {
        return addr.to_string();
    }
    if let Ok(ip) = addr.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return std::net::SocketAddr::new(ip, port).to_string();
    }
    if addr.contains(':') {
        addr.to_string()
    } else {
        format!("{addr}:{port}")
    }
}

/// Looks for servers whenever this one is not a settled voter (a voter that knows its
/// leader), until the server stops. A new server looks until it is added; one that was
/// removed and restarted, or left a learner by an interrupted join, asks its cluster to
/// make it a voter again. A settled server only checks every `retry_interval`; one that
/// left ([`Consensus::leave`]) does not look at all.
pub(crate) fn spawn(consensus: Consensus, options: ClusterOptions) {
    let shutdown = consensus.inner.shutdown.clone();
    tokio::spawn(async move {
        let forming = options.retry_interval.min(FORMING_INTERVAL);
        let mut was_settled = consensus.settled();
        loop {
            let settled = consensus.settled();
            if settled && !was_settled {
                tracing::info!("raft: this server is a voter of its cluster");
            }
            was_settled = settled;
            // A server that left stays out until it exits.
            let looking = !settled && !consensus.is_leaving();
            if looking && let Err(error) = round(&consensus, &options).await {
                tracing::warn!(%error, "raft: joining the cluster failed; will retry");
            }
            let pause = if settled {
                options.retry_interval
            } else {
                forming
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    });
}

/// One round: introduce ourselves everywhere, then join or bootstrap if we can.
async fn round(consensus: &Consensus, options: &ClusterOptions) -> Result<(), ConsensusError> {
    let mut targets: Vec<String> = options.join.iter().map(|a| with_default_port(a)).collect();
    targets.extend(
        lock(&consensus.inner.discovered)
            .values()
            .map(|server| server.rpc_addr.clone()),
    );
    targets.extend(lock(&consensus.inner.gossip_servers).iter().cloned());
    targets.sort();
    targets.dedup();
    targets.retain(|addr| *addr != consensus.inner.me.rpc_addr);
    let me = consensus.inner.node_id;
    for addr in &targets {
        let Ok((peer, voters)) = consensus.hello(addr).await else {
            continue;
        };
        // A cluster that does not count this server as a voter (it never joined, or it
        // was removed while down) is asked to add it.
        if peer.initialized && !voters.is_empty() && !voters.contains(&me) {
            tracing::info!(peer = %peer.name, %addr, "raft: found a cluster that does not count this server; asking to join it");
            return consensus.ask_to_be_added(addr).await;
        }
    }
    if options.bootstrap_expect > 1 && !consensus.initialized() {
        consensus.bootstrap_if_ready(options).await?;
    }
    Ok(())
}

impl Consensus {
    /// Whether this server belongs to a Raft configuration (initialised, or added).
    pub(crate) fn initialized(&self) -> bool {
        let metrics = self.inner.raft.metrics();
        let metrics = metrics.borrow_watched();
        metrics.membership_config.nodes().next().is_some()
    }

    /// A voter that leads or recently heard from its leader: nothing for discovery to
    /// do. (A server removed while it was down still names its old leader, but that
    /// leader no longer calls it.)
    fn settled(&self) -> bool {
        let quiet_limit = Duration::from_millis(3 * self.inner.timing.lease_millis());
        self.is_voter()
            && self.leader().is_some()
            && (self.is_leader() || self.last_contact() < quiet_limit)
    }

    /// Whether this server is a voter of the configuration it knows.
    pub(crate) fn is_voter(&self) -> bool {
        self.voter_ids().contains(&self.inner.node_id)
    }

    /// This server as discovery describes it.
    pub(crate) fn server_info(&self) -> ServerInfo {
        let me = &self.inner.me;
        ServerInfo {
            node_id: self.inner.node_id,
            id: me.id.clone(),
            name: me.name.clone(),
            rpc_addr: me.rpc_addr.clone(),
            datacenter: me.datacenter.clone(),
            bootstrap_expect: me.bootstrap_expect,
            initialized: self.initialized(),
            gossip_addr: me.gossip_addr.clone(),
        }
    }

    /// Gossip found these servers (their RPC addresses): discovery introduces itself to
    /// them as it does to join addresses.
    pub fn learn_servers_from_gossip(&self, rpc_addrs: impl IntoIterator<Item = String>) {
        let mine = &self.inner.me.rpc_addr;
        let mut known = lock(&self.inner.gossip_servers);
        known.extend(rpc_addrs.into_iter().filter(|addr| addr != mine));
    }

    /// The gossip addresses of the servers discovery heard of, so that the agent can
    /// join them in gossip when they were found through server RPC addresses.
    pub fn discovered_gossip_addrs(&self) -> Vec<String> {
        lock(&self.inner.discovered)
            .values()
            .map(|server| server.gossip_addr.clone())
            .filter(|addr| !addr.is_empty())
            .collect()
    }

    /// Introduces this server to `addr` and learns whom it knows; returns the peer and
    /// the voters of its configuration.
    async fn hello(&self, addr: &str) -> Result<(ServerInfo, Vec<u64>), CallError> {
        let hello = self.hello_message();
        let answer: Hello = self
            .inner
            .rpc
            .call(addr, messages::HELLO, &hello, HELLO_TIMEOUT)
            .await?;
        let (peer, voters) = (answer.from.clone(), answer.voters.clone());
        self.learn(answer);
        Ok((peer, voters))
    }

    fn hello_message(&self) -> Hello {
        Hello {
            from: self.server_info(),
            known: lock(&self.inner.discovered).values().cloned().collect(),
            voters: self.voter_ids().into_iter().collect(),
        }
    }

    /// Server RPC: a peer introduced itself; remember it and whom it knows, answer alike.
    pub(crate) fn answer_hello(&self, hello: Hello) -> Hello {
        self.learn(hello);
        self.hello_message()
    }

    fn learn(&self, hello: Hello) {
        let me = self.inner.node_id;
        let mut discovered = lock(&self.inner.discovered);
        // What a server says of itself wins over what others say of it.
        for server in hello.known.into_iter().chain([hello.from]) {
            if server.node_id != me {
                discovered.insert(server.node_id, server);
            }
        }
    }

    /// `bootstrap_expect`: initialises the cluster if enough servers know each other,
    /// none is in a cluster, and this one has the lowest ID of them all.
    async fn bootstrap_if_ready(&self, options: &ClusterOptions) -> Result<(), ConsensusError> {
        let me = self.server_info();
        let peers: Vec<ServerInfo> = lock(&self.inner.discovered)
            .values()
            .filter(|peer| peer.datacenter == me.datacenter)
            .cloned()
            .collect();
        for peer in &peers {
            if peer.bootstrap_expect != 0 && peer.bootstrap_expect != options.bootstrap_expect {
                tracing::warn!(
                    peer = %peer.name,
                    theirs = peer.bootstrap_expect,
                    ours = options.bootstrap_expect,
                    "raft: servers disagree on bootstrap_expect"
                );
            }
        }
        let count = peers.len() + 1;
        if count < options.bootstrap_expect as usize
            || peers
                .iter()
                .any(|peer| peer.node_id < me.node_id || peer.initialized)
        {
            return Ok(());
        }
        // Ask everyone again: all must answer, none may be in a cluster or know of a
        // server with a lower ID.
        for peer in &peers {
            let answer: Hello = self
                .inner
                .rpc
                .call(
                    &peer.rpc_addr,
                    messages::HELLO,
                    &self.hello_message(),
                    HELLO_TIMEOUT,
                )
                .await
                .map_err(|error| ConsensusError::Raft(error.to_string()))?;
            let lower = answer.known.iter().any(|s| s.node_id < me.node_id);
            if answer.from.initialized || lower {
                self.learn(answer);
                return Ok(());
            }
        }
        let members: BTreeMap<u64, ServerNode> = peers
            .iter()
            .chain([&me])
            .map(|server| (server.node_id, server.node()))
            .collect();
        let names: Vec<&str> = members.values().map(|node| node.name.as_str()).collect();
        tracing::info!(servers = ?names, "raft: bootstrap_expect reached; initialising the cluster");
        self.inner
            .raft
            .initialize(members)
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))
    }

    /// Asks the cluster `addr` belongs to to add this server (its leader does it).
    async fn ask_to_be_added(&self, addr: &str) -> Result<(), ConsensusError> {
        let request = AddServer {
            server: self.server_info(),
        };
        let answer: Answer<()> = self
            .inner
            .rpc
            .call(addr, messages::ADD_SERVER, &request, JOIN_TIMEOUT)
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        Ok(answer?)
    }

    /// `/v1/agent/join`: introduces this server to `addr`. If exactly one side is in a
    /// cluster, the other is added to it.
    pub async fn join(&self, addr: &str) -> Result<(), ConsensusError> {
        let addr = with_default_port(addr);
        let (peer, _) = self
            .hello(&addr)
            .await
            .map_err(|error| ConsensusError::Raft(error.to_string()))?;
        match (self.initialized(), peer.initialized) {
            (true, false) => self.add_server(peer).await,
            (false, true) => self.ask_to_be_added(&addr).await,
            (true, true) => {
                let known = self
                    .configuration()
                    .servers
                    .iter()
                    .any(|server| server.node_id == peer.node_id);
                if known {
                    Ok(())
                } else {
                    Err(ConsensusError::Raft(format!(
                        "{} at {addr} belongs to another cluster",
                        peer.name
                    )))
                }
            }
            (false, false) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{with_default_port, with_port_unless_given};

    #[test]
    fn addresses_get_the_server_port_when_they_have_none() {
        assert_eq!(with_default_port("10.0.0.1"), "10.0.0.1:8300");
        assert_eq!(with_default_port("10.0.0.1:9300"), "10.0.0.1:9300");
        assert_eq!(with_default_port("::1"), "[::1]:8300");
        assert_eq!(with_default_port("[::1]:9300"), "[::1]:9300");
        assert_eq!(with_default_port("server-1"), "server-1:8300");
        assert_eq!(with_default_port("server-1:9300"), "server-1:9300");
        assert_eq!(with_port_unless_given(" [::1] ", 8301), "[::1]:8301");
        assert_eq!(with_port_unless_given("gossip-1", 8301), "gossip-1:8301");
    }
}
