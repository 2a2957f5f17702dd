//! The servers a client agent sends its requests to, one at a time, as Consul's client
//! router does: every request goes to the first server of the list; a server that
//! fails is moved to the end, so the next request goes to the next one; and the list is
//! shuffled again once the current server has been used for the reuse period
//! (`120 s` plus up to `60 s` of jitter, longer in big clusters), so clients spread
//! over the servers and move to servers that joined.
//!
//! [`PoolCore`] is the pure part (no clock: callers pass the time; randomness from a
//! seeded generator in tests); [`ServerPool`] puts it behind a lock with the clock.
//! Its seam is [`ServerPool::replace`], which gossip feeds with the LAN members that are
//! this datacenter's servers (`crate::membership::servers`).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// A server a client agent can send requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEndpoint {
    /// The server's node name.
    pub name: String,
    /// Where its server RPC listens.
    pub rpc_addr: SocketAddr,
}

/// The least time a client keeps using one server (Consul's `clientRPCMinReuseDuration`).
pub const MIN_REUSE: Duration = Duration::from_secs(120);
/// The largest extra time added to [`MIN_REUSE`] at random (Consul: half of it).
pub const REUSE_JITTER: Duration = Duration::from_secs(60);
/// New connections per second per server that rebalancing may cause cluster-wide
/// (Consul's `newRebalanceConnsPerSecPerServer`).
const REBALANCE_CONNS_PER_SEC_PER_SERVER: u64 = 64;

/// The ordered list of servers and when to shuffle it next, without a clock.
#[derive(Debug)]
pub struct PoolCore {
    servers: Vec<ServerEndpoint>,
    rng: StdRng,
    /// When the list is shuffled next (`None`: at the first use).
    next_rebalance: Option<Instant>,
    /// How many agents share the servers (the LAN pool's size), which stretches the
    /// reuse period so that rebalancing stays under its connection rate.
    cluster_size: usize,
}

impl PoolCore {
    /// An empty pool drawing its randomness from `rng`.
    pub fn new(rng: StdRng) -> PoolCore {
        PoolCore {
            servers: Vec::new(),
            rng,
            next_rebalance: None,
            cluster_size: 1,
        }
    }

    /// The servers in the order they are tried.
    pub fn servers(&self) -> &[ServerEndpoint] {
        &self.servers
    }

    /// The server requests go to at `now` (reshuffling first when the reuse period is
    /// over); `None` when no server is known.
    pub fn current(&mut self, now: Instant) -> Option<ServerEndpoint> {
        if self.next_rebalance.is_none_or(|due| now >= due) {
            self.rebalance(now);
        }
        self.servers.first().cloned()
    }

    /// `server` failed a request: if it is still the current one, the next server
    /// becomes current and it goes to the end.
    pub fn failed(&mut self, server: &ServerEndpoint) {
        if self.servers.len() > 1 && self.servers.first() == Some(server) {
            self.servers.rotate_left(1);
        }
    }

    /// Replaces the list. Servers still present keep their order (the current one stays
    /// current); new ones go after them in random order; gone ones are dropped.
    pub fn replace(&mut self, servers: Vec<ServerEndpoint>) {
        let mut kept: Vec<ServerEndpoint> = self
            .servers
            .iter()
            .filter(|known| servers.contains(known))
            .cloned()
            .collect();
        let mut new: Vec<ServerEndpoint> = Vec::new();
        for server in servers {
            if !kept.contains(&server) && !new.contains(&server) {
                new.push(server);
            }
        }
        new.shuffle(&mut self.rng);
        kept.extend(new);
        self.servers = kept;
    }

    /// Sets how many agents share the servers (gossip's LAN member count).
    pub fn set_cluster_size(&mut self, agents: usize) {
        self.cluster_size = agents.max(1);
    }

    /// Shuffles the list and picks when to do it again.
    fn rebalance(&mut self, now: Instant) {
        self.servers.shuffle(&mut self.rng);
        let jitter = REUSE_JITTER.mul_f64(rand::Rng::random::<f64>(&mut self.rng));
        self.next_rebalance = Some(now + self.reuse_period(MIN_REUSE + jitter));
    }

    /// Consul's rate-scaled interval: at least `least`, and long enough that all the
    /// agents reconnecting once stay under the servers' rebalancing rate.
    fn reuse_period(&self, least: Duration) -> Duration {
        let servers = self.servers.len().max(1) as u64;
        let per_second = servers * REBALANCE_CONNS_PER_SEC_PER_SERVER;
        let scaled = Duration::from_secs_f64(self.cluster_size as f64 / per_second as f64);
        least.max(scaled)
    }
}

/// [`PoolCore`] with the clock, shared by everything of the agent that calls servers.
#[derive(Debug)]
pub struct ServerPool {
    core: Mutex<PoolCore>,
}

impl Default for ServerPool {
    fn default() -> Self {
        ServerPool {
            core: Mutex::new(PoolCore::new(StdRng::from_os_rng())),
        }
    }
}

impl ServerPool {
    /// The server to send the next request to; `None` when no server is known.
    pub fn current(&self) -> Option<ServerEndpoint> {
        self.core().current(Instant::now())
    }

    /// Moves on from `server`, which failed a request.
    pub fn failed(&self, server: &ServerEndpoint) {
        let mut core = self.core();
        core.failed(server);
        if let Some(next) = core.servers().first().filter(|next| *next != server) {
            tracing::warn!(failed = %server.name, next = %next.name, "client: server failed; moving to the next one");
        }
    }

    /// The seam gossip feeds: the servers known now.
    pub fn replace(&self, servers: Vec<ServerEndpoint>) {
        self.core().replace(servers);
    }

    /// Sets how many agents share the servers (gossip's LAN member count).
    pub fn set_cluster_size(&self, agents: usize) {
        self.core().set_cluster_size(agents);
    }

    /// The servers in the order they are tried.
    pub fn servers(&self) -> Vec<ServerEndpoint> {
        self.core().servers().to_vec()
    }

    fn core(&self) -> std::sync::MutexGuard<'_, PoolCore> {
        // Every change is a whole assignment or an in-place shuffle: never half done.
        self.core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(i: u8) -> ServerEndpoint {
        ServerEndpoint {
            name: format!("s{i}"),
            rpc_addr: SocketAddr::from(([127, 0, 0, i], 8300)),
        }
    }

    fn pool(seed: u64, servers: &[u8]) -> PoolCore {
        let mut core = PoolCore::new(StdRng::seed_from_u64(seed));
        core.replace(servers.iter().map(|i| server(*i)).collect());
        core
    }

    #[test]
    fn an_empty_pool_has_no_current_server() {
        let mut core = pool(1, &[]);
        assert_eq!(core.current(Instant::now()), None);
    }

    #[test]
    fn the_current_server_stays_until_it_fails_or_the_reuse_period_ends() {
        let start = Instant::now();
        let mut core = pool(7, &[1, 2, 3]);
        let first = core.current(start).unwrap();
        for second in 1..MIN_REUSE.as_secs() {
            assert_eq!(
                core.current(start + Duration::from_secs(second)),
                Some(first.clone())
            );
        }
    }

    #[test]
    fn a_failed_server_goes_last_and_each_server_is_tried_once_per_round() {
        let now = Instant::now();
        let mut core = pool(3, &[1, 2, 3]);
        let mut tried = Vec::new();
        for _ in 0..3 {
            let current = core.current(now).unwrap();
            tried.push(current.clone());
            core.failed(&current);
        }
        tried.sort_by_key(|s| s.name.clone());
        assert_eq!(tried, vec![server(1), server(2), server(3)]);
        // A second round starts over in the same order.
        assert_eq!(core.current(now), Some(core.servers()[0].clone()));
    }

    #[test]
    fn a_failure_reported_late_does_not_skip_the_new_current_server() {
        let now = Instant::now();
        let mut core = pool(5, &[1, 2, 3]);
        let first = core.current(now).unwrap();
        core.failed(&first);
        let second = core.current(now).unwrap();
        // Another request that was sent to `first` fails after the rotation.
        core.failed(&first);
        assert_eq!(core.current(now), Some(second));
    }

    #[test]
    fn rebalancing_reshuffles_after_the_reuse_period_and_reaches_every_server() {
        let start = Instant::now();
        let mut core = pool(11, &[1, 2, 3, 4]);
        let mut seen = std::collections::BTreeSet::new();
        let mut now = start;
        for _ in 0..40 {
            seen.insert(core.current(now).unwrap().name);
            now += MIN_REUSE + REUSE_JITTER;
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn the_reuse_period_is_between_its_bounds_and_scales_with_the_cluster() {
        let mut core = pool(2, &[1, 2]);
        let least = MIN_REUSE + Duration::from_secs(30);
        assert_eq!(core.reuse_period(least), least);
        core.set_cluster_size(2 * 64 * 1000);
        assert_eq!(core.reuse_period(least), Duration::from_secs(1000));
        let start = Instant::now();
        let mut core = pool(9, &[1, 2]);
        let first = core.current(start).unwrap();
        // Within the least period the choice holds; past the longest it may change.
        assert_eq!(
            core.current(start + MIN_REUSE - Duration::from_secs(1)),
            Some(first)
        );
        assert!(core.next_rebalance.unwrap() <= start + MIN_REUSE + REUSE_JITTER);
    }

    #[test]
    fn replacing_keeps_the_current_server_and_drops_gone_ones() {
        let now = Instant::now();
        let mut core = pool(4, &[1, 2, 3]);
        let current = core.current(now).unwrap();
        let mut next: Vec<ServerEndpoint> = [1, 2, 3, 4, 5].into_iter().map(server).collect();
        next.retain(|s| *s == current || s.name == "s4" || s.name == "s5");
        core.replace(next);
        assert_eq!(core.current(now), Some(current.clone()));
        assert_eq!(core.servers().len(), 3);
        core.replace(vec![server(4)]);
        assert_eq!(core.current(now), Some(server(4)));
        core.replace(Vec::new());
        assert_eq!(core.current(now), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_order() {
        let now = Instant::now();
        let order = |seed| {
            let mut core = pool(seed, &[1, 2, 3, 4, 5, 6]);
            core.current(now);
            core.servers().to_vec()
        };
        assert_eq!(order(42), order(42));
    }
}
