//! The agent's metrics, with Consul's names (see docs/COMPATIBILITY.md, "Metrics"):
//! the recorder is installed first thing at start-up ([`start`]), so every handle made
//! afterwards reaches it; [`AgentMetrics`] holds the handles of the HTTP handlers, made
//! once (the ACL ones in [`acl`]); [`timed_routes`] times every request by route;
//! `metrics_sampler.rs` (a task of the agent's, outside this module because it reads the
//! whole agent) sets the gauges and collects every second, then hands finished intervals
//! to [`stream`];
//! `http/agent_metrics.rs` answers `/v1/agent/metrics` and
//! `http/agent_metrics_stream.rs` `/v1/agent/metrics/stream`.
//! Consensus records its Raft metrics itself, and DNS its queries.

pub mod acl;
mod labelled;
pub mod process;
pub mod stream;
pub mod timed_routes;

use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use proconsul_telemetry::{Settings, Telemetry};

pub use acl::{AclWriteMetrics, ResolverMetrics};
pub use labelled::ServiceQueries;

/// `telemetry { ... }` as the agent applies it, and whether metrics are kept at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `metrics_prefix` (Consul: `consul`).
    pub metrics_prefix: String,
    /// `disable_hostname`: leave the host name out of gauge names.
    pub disable_hostname: bool,
    /// `prometheus_retention_time`; zero turns `?format=prometheus` off.
    pub prometheus_retention: Duration,
    /// False: no recorder is installed, so instrumented code records nothing (the
    /// benchmarks' "metrics off"; `/v1/agent/metrics` then lists only declared ones).
    pub enabled: bool,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics_prefix: "consul".to_string(),
            disable_hostname: false,
            prometheus_retention: Duration::ZERO,
            enabled: true,
        }
    }
}

/// Installs the process's recorder (or, metrics off, makes a detached one). Gauges
/// carry `hostname` unless `disable_hostname`: modern Consul always runs a second
/// sink beside the in-memory one (HCP's), so go-metrics keeps the host name in.
pub fn start(config: &TelemetryConfig, hostname: &str) -> Telemetry {
    let settings = Settings {
        prefix: config.metrics_prefix.clone(),
        hostname: (!config.disable_hostname).then(|| hostname.to_string()),
        prometheus_retention: config.prometheus_retention,
    };
    if config.enabled {
        Telemetry::installed_or_install(settings)
    } else {
        Telemetry::detached(settings)
    }
}

/// The handles the HTTP handlers record with.
#[derive(Debug)]
pub struct AgentMetrics {
    pub kvs_apply: Histogram,
    pub txn_apply: Histogram,
    pub txn_read: Histogram,
    pub session_apply: Histogram,
    pub session_renew: Histogram,
    pub catalog_register: Histogram,
    pub catalog_deregister: Histogram,
    /// Blocking queries parked right now.
    pub queries_blocking: Gauge,
    /// `rpc.query`: every catalog read a server runs (blocking or not), as Consul counts
    /// the queries of its `blockingQuery`.
    pub query: Counter,
    /// `catalog.service.*` and `catalog.connect.*`.
    pub catalog_service: ServiceQueries,
    pub catalog_connect: ServiceQueries,
    /// `health.service.*` and `health.connect.*`.
    pub health_service: ServiceQueries,
    pub health_connect: ServiceQueries,
    /// The ACL writes' timers.
    pub acl: AclWriteMetrics,
}

impl AgentMetrics {
    pub fn new() -> AgentMetrics {
        AgentMetrics {
            kvs_apply: histogram!("kvs.apply"),
            txn_apply: histogram!("txn.apply"),
            txn_read: histogram!("txn.read"),
            session_apply: histogram!("session.apply"),
            session_renew: histogram!("session.renew"),
            catalog_register: histogram!("catalog.register"),
            catalog_deregister: histogram!("catalog.deregister"),
            queries_blocking: gauge!("rpc.queries_blocking"),
            query: counter!("rpc.query"),
            catalog_service: ServiceQueries::new("catalog.service"),
            catalog_connect: ServiceQueries::new("catalog.connect"),
            health_service: ServiceQueries::new("health.service"),
            health_connect: ServiceQueries::new("health.connect"),
            acl: AclWriteMetrics::new(),
        }
    }
}

impl Default for AgentMetrics {
    fn default() -> Self {
        AgentMetrics::new()
    }
}

/// Records the milliseconds from its start to its drop into a timer, as go-metrics'
/// `defer metrics.MeasureSince(...)` does (failures included).
#[must_use = "the time is recorded when the timer is dropped"]
pub struct Timer<'a> {
    histogram: &'a Histogram,
    start: Instant,
}

impl<'a> Timer<'a> {
    pub fn start(histogram: &'a Histogram) -> Timer<'a> {
        Timer {
            histogram,
            start: Instant::now(),
        }
    }
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        self.histogram
            .record(self.start.elapsed().as_secs_f64() * 1000.0);
    }
}

/// Counts one parked blocking query while it lives.
pub struct Parked<'a>(&'a Gauge);

impl<'a> Parked<'a> {
    pub fn new(gauge: &'a Gauge) -> Parked<'a> {
        gauge.increment(1.0);
        Parked(gauge)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
