//! The datacenters the WAN pool knows and, for each other one, a [`ServerLink`] whose
//! pool holds that datacenter's alive servers (their RPC addresses from the `port` tag),
//! as Consul's router keeps a server manager per datacenter. A datacenter stays known
//! while any of its servers is a member that has not left (a failed one included), so
//! that "no server reachable" can be told from "no such datacenter".

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use proconsul_consensus::RpcTls;
use proconsul_gossip::{Gossip, Member, MemberStatus};
use tokio_util::sync::CancellationToken;

use crate::membership::tags;
use crate::server_link::ServerLink;
use crate::server_pool::ServerEndpoint;

/// Why a request for another datacenter cannot go anywhere; Consul's texts (500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No server of that datacenter is known.
    #[error("No path to datacenter")]
    NoPath,
    /// Its servers are known, but none is alive.
    #[error("Remote DC has no server currently reachable")]
    Unreachable,
}

/// The datacenters of the WAN pool.
pub struct Datacenters {
    local: String,
    tls: RwLock<RpcTls>,
    /// Other datacenters by name (lowercase keys; Consul's names are matched as given,
    /// DNS lowercases them).
    remote: RwLock<BTreeMap<String, Arc<ServerLink>>>,
    /// The WAN pool, looked at again when a route is missing (the membership task may
    /// not have seen the latest event yet).
    pool: Option<Gossip>,
}

/// A server of some datacenter, as a WAN member's tags describe it.
pub struct WanServer<'a> {
    pub datacenter: &'a str,
    pub member: &'a Member,
}

/// The WAN members that are Consul servers (any datacenter), with their datacenters.
pub fn wan_servers(members: &[Member]) -> impl Iterator<Item = WanServer<'_>> {
    members.iter().filter_map(|member| {
        let datacenter = member.tags.get("dc")?;
        tags::server_rpc_addr(&member.tags, member.addr.ip(), datacenter)?;
        Some(WanServer { datacenter, member })
    })
}

impl Datacenters {
    pub fn new(local: &str, tls: &RpcTls) -> Datacenters {
        Datacenters {
            local: local.to_string(),
            tls: RwLock::new(tls.clone()),
            remote: RwLock::new(BTreeMap::new()),
            pool: None,
        }
    }

    /// Datacenters that look at `pool` again when a route is missing.
    pub fn with_pool(mut self, pool: Gossip) -> Datacenters {
        self.update(&pool.members());
        self.pool = Some(pool);
        self
    }

    /// This server's datacenter.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// Whether `datacenter` is this one (empty means this one).
    pub fn is_local(&self, datacenter: &str) -> bool {
        datacenter.is_empty() || datacenter == self.local
    }

    /// Brings the datacenters and their server lists in line with the WAN members.
    pub fn update(&self, members: &[Member]) {
        let mut alive: BTreeMap<&str, Vec<ServerEndpoint>> = BTreeMap::new();
        for server in wan_servers(members) {
            if server.datacenter == self.local || server.member.status == MemberStatus::Left {
                continue;
            }
            let servers = alive.entry(server.datacenter).or_default();
            if server.member.status == MemberStatus::Alive
                && let Some(rpc_addr) = tags::server_rpc_addr(
                    &server.member.tags,
                    server.member.addr.ip(),
                    server.datacenter,
                )
            {
                servers.push(ServerEndpoint {
                    name: server.member.name.clone(),
                    rpc_addr,
                });
            }
        }
        let tls = read(&self.tls).clone();
        let mut remote = write(&self.remote);
        remote.retain(|name, _| alive.contains_key(name.as_str()));
        for (name, servers) in alive {
            let link = remote
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(ServerLink::new(&tls)));
            link.pool().replace(servers);
        }
    }

    /// Where a request for `datacenter` (not this one) goes: from the lists as the
    /// membership task left them, else from the WAN pool's members now.
    /// Each route given counts as Consul's `rpc.cross-dc` (`datacenter` label).
    pub fn route(&self, datacenter: &str) -> Result<Arc<ServerLink>, RouteError> {
        let route = match (self.known_route(datacenter), &self.pool) {
            (Err(_), Some(pool)) => {
                self.update(&pool.members());
                self.known_route(datacenter)
            }
            (found, _) => found,
        };
        if route.is_ok() {
            metrics::counter!("rpc.cross-dc", "datacenter" => datacenter.to_string()).increment(1);
        }
        route
    }

    fn known_route(&self, datacenter: &str) -> Result<Arc<ServerLink>, RouteError> {
        let remote = read(&self.remote);
        let link = remote
            .get(datacenter)
            .or_else(|| {
                remote
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(datacenter))
                    .map(|(_, link)| link)
            })
            .ok_or(RouteError::NoPath)?;
        if link.pool().servers().is_empty() {
            return Err(RouteError::Unreachable);
        }
        Ok(link.clone())
    }

    /// Every known datacenter, this one included, by name.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = read(&self.remote).keys().cloned().collect();
        names.push(self.local.clone());
        names.sort();
        names
    }

    /// Server RPC's new TLS settings (a reload).
    pub fn reload_tls(&self, tls: &RpcTls) {
        *write(&self.tls) = tls.clone();
        for link in read(&self.remote).values() {
            link.reload_tls(tls);
        }
    }

    /// Follows the WAN pool until `shutdown`.
    pub fn follow(
        self: Arc<Self>,
        gossip: Gossip,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        crate::membership::servers::on_membership(gossip, shutdown, move |gossip| {
            self.update(&gossip.members());
        })
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poison| poison.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, dc: &str, last: u8, status: MemberStatus) -> Member {
        let tags = tags::server_tags(&tags::ServerFacts {
            datacenter: dc,
            node_id: "00000000-0000-0000-0000-000000000001",
            version: "1.22.0",
            rpc_port: 8300,
            bootstrap_expect: 0,
            bootstrap: true,
            acls_enabled: false,
            wan_join_port: Some(8302),
        });
        Member {
            name: format!("{name}.{dc}"),
            addr: std::net::SocketAddr::from(([127, 0, 0, last], 8302)),
            tags,
            status,
            generation: 1,
        }
    }

    #[test]
    fn datacenters_route_to_their_alive_servers_and_tell_unknown_from_unreachable() {
        let dcs = Datacenters::new("dc1", &RpcTls::default());
        dcs.update(&[
            server("a", "dc1", 1, MemberStatus::Alive),
            server("b", "dc2", 2, MemberStatus::Alive),
            server("c", "dc2", 3, MemberStatus::Failed),
            server("d", "dc3", 4, MemberStatus::Failed),
            server("e", "dc4", 5, MemberStatus::Left),
        ]);
        assert_eq!(dcs.names(), ["dc1", "dc2", "dc3"]);
        let link = dcs.route("dc2").unwrap();
        let servers = link.pool().servers();
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].name, "b.dc2");
        assert_eq!(
            servers[0].rpc_addr,
            std::net::SocketAddr::from(([127, 0, 0, 2], 8300))
        );
        assert_eq!(dcs.route("DC2").unwrap().pool().servers().len(), 1);
        assert_eq!(dcs.route("dc3").err().unwrap(), RouteError::Unreachable);
        assert_eq!(dcs.route("dc4").err().unwrap(), RouteError::NoPath);
        assert_eq!(
            dcs.route("dc3").err().unwrap().to_string(),
            "Remote DC has no server currently reachable"
        );
        // dc2's server comes back in dc3; dc2 is gone once its members are.
        dcs.update(&[server("d", "dc3", 4, MemberStatus::Alive)]);
        assert!(dcs.route("dc3").is_ok());
        assert_eq!(dcs.route("dc2").err().unwrap(), RouteError::NoPath);
    }
}
