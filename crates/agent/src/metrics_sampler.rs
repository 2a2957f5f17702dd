//! Every second: the gauges Consul emits periodically (`runtime.*`, the `state.*` and
//! `members.*` usage gauges, `version`, `session_ttl.active`, and on the leader
//! `autopilot.healthy` and `autopilot.failure_tolerance`, NaN elsewhere, as Consul
//! sets them), then a collection, so
//! that the in-memory intervals fill as go-metrics' do, and the intervals that finished
//! go to `/v1/agent/metrics/stream`. On the leader, every minute,
//! the timed Raft round of Consul's leader loop (`leader.barrier`): here a quorum
//! confirmation of leadership, the barrier a `?consistent` read waits on.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use metrics::{Gauge, Histogram, gauge, histogram};

use crate::agent::{AgentInner, CONSUL_COMPAT_VERSION};
use crate::telemetry::{Timer, process};

/// How often the gauges are set and the metrics collected (go-metrics' runtime
/// interval).
const TICK: Duration = Duration::from_secs(1);
/// How often the leader times a barrier (Consul's `reconcile_interval`).
const BARRIER_EVERY: Duration = Duration::from_secs(60);

/// The periodic gauges.
struct Gauges {
    alloc_bytes: Gauge,
    sys_bytes: Gauge,
    goroutines: Gauge,
    gc_pause: Gauge,
    nodes: Gauge,
    services: Gauge,
    service_instances: Gauge,
    kv_entries: Gauge,
    servers: Gauge,
    clients: Gauge,
    version: Gauge,
    session_ttls: Gauge,
    autopilot_healthy: Gauge,
    failure_tolerance: Gauge,
    barrier: Histogram,
}

impl Gauges {
    fn new() -> Gauges {
        Gauges {
            alloc_bytes: gauge!("runtime.alloc_bytes"),
            sys_bytes: gauge!("runtime.sys_bytes"),
            goroutines: gauge!("runtime.num_goroutines"),
            gc_pause: gauge!("runtime.total_gc_pause_ns"),
            nodes: gauge!("state.nodes"),
            services: gauge!("state.services"),
            service_instances: gauge!("state.service_instances"),
            kv_entries: gauge!("state.kv_entries"),
            servers: gauge!("members.servers"),
            clients: gauge!("members.clients"),
            version: gauge!("version", "version" => CONSUL_COMPAT_VERSION, "pre_release" => ""),
            session_ttls: gauge!("session_ttl.active"),
            autopilot_healthy: gauge!("autopilot.healthy"),
            failure_tolerance: gauge!("autopilot.failure_tolerance"),
            barrier: histogram!("leader.barrier"),
        }
    }

    fn sample(&self, agent: &AgentInner) {
        if let Some(bytes) = process::resident_bytes() {
            self.alloc_bytes.set(bytes as f64);
            self.sys_bytes.set(bytes as f64);
        }
        if let Some(tasks) = process::alive_tasks() {
            self.goroutines.set(tasks as f64);
        }
        self.gc_pause.set(0.0);
        self.version.set(1.0);
        self.session_ttls.set(agent.sessions.armed() as f64);
        // The catalog's gauges are a server's (Consul's clients do not emit them).
        let Some(consensus) = agent.catalog.server() else {
            return;
        };
        let counts = consensus.reader().current().counts();
        self.nodes.set(counts.nodes as f64);
        self.services.set(counts.services as f64);
        self.service_instances.set(counts.service_instances as f64);
        self.kv_entries.set(counts.kv_entries as f64);
        // Consul counts the alive members of the LAN pool, by role.
        let (mut servers, mut clients) = (0usize, 0usize);
        for member in agent.gossip.members() {
            if member.status != proconsul_gossip::MemberStatus::Alive {
                continue;
            }
            if crate::membership::tags::is_server(&member.tags) {
                servers += 1;
            } else {
                clients += 1;
            }
        }
        self.servers.set(servers as f64);
        self.clients.set(clients as f64);
        match consensus.health_if_leader() {
            Some(health) => {
                self.autopilot_healthy
                    .set(if health.healthy { 1.0 } else { 0.0 });
                self.failure_tolerance
                    .set(f64::from(health.failure_tolerance));
            }
            None => {
                self.autopilot_healthy.set(f64::NAN);
                self.failure_tolerance.set(f64::NAN);
            }
        }
    }
}

/// Runs until the agent shuts down.
pub async fn run(agent: Arc<AgentInner>) {
    let gauges = Gauges::new();
    let mut tick = tokio::time::interval(TICK);
    let mut next_barrier = tokio::time::Instant::now();
    let mut published = None;
    loop {
        tokio::select! {
            () = agent.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        gauges.sample(&agent);
        let leader = agent
            .catalog
            .server()
            .filter(|consensus| consensus.is_leader());
        if let Some(consensus) = leader
            && tokio::time::Instant::now() >= next_barrier
        {
            next_barrier = tokio::time::Instant::now() + BARRIER_EVERY;
            let _timer = Timer::start(&gauges.barrier);
            if let Err(error) = consensus.read_barrier(true).await {
                tracing::debug!(%error, "telemetry: leader barrier failed");
            }
        }
        agent.telemetry.collect(SystemTime::now());
        agent
            .metrics_stream
            .publish(&agent.telemetry, &mut published);
    }
}
