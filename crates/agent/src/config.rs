//! The agent's runtime configuration, as the CLI flags (and later config files) set it.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use proconsul_api::{CheckRegistration, ServiceRegistration};
use proconsul_config::ConfigSource;
use proconsul_dns::DnsConfig;

use crate::acl_config::AclConfig;

/// Everything the agent needs to start. Defaults are Consul's.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// `-dev`: in-memory server with one voter, no data dir.
    pub dev: bool,
    /// `server`: run Raft and answer the whole API. A client agent (`false`) keeps its
    /// own services and checks and forwards everything else to servers; `-dev` is
    /// always a server. (Consul's default is a client; the CLI decides, and this
    /// struct's default is a server.)
    pub server: bool,
    /// Outside `-dev`: a server whose Raft log, snapshots and node ID live in this
    /// directory (`-data-dir`).
    pub data_dir: Option<std::path::PathBuf>,
    /// `raft_snapshot_threshold`: log entries between snapshots.
    pub raft_snapshot_threshold: u64,
    /// `raft_trailing_logs`: entries kept after a snapshot.
    pub raft_trailing_logs: u64,
    /// `-bootstrap`: a new server initialises a cluster of itself alone.
    pub bootstrap: bool,
    /// `-bootstrap-expect`: a new server initialises a cluster once this many servers
    /// know each other (0: never by itself).
    pub bootstrap_expect: u32,
    /// `-retry-join`/`retry_join`: servers to find others through, retried.
    pub retry_join: Vec<String>,
    /// `-join`/`start_join`: servers to join once at start.
    pub start_join: Vec<String>,
    /// `retry_interval`.
    pub retry_interval: Duration,
    /// `performance.raft_multiplier`.
    pub raft_multiplier: u32,
    /// `autopilot { ... }`: autopilot's settings until the cluster stores its own.
    pub autopilot: proconsul_api::operator::AutopilotConfiguration,
    /// `leave_on_terminate`: a server leaves the Raft configuration on SIGTERM.
    pub leave_on_terminate: bool,
    /// `-node`; the host name when unset.
    pub node_name: Option<String>,
    /// `-datacenter`.
    pub datacenter: String,
    /// `-client`: the address the HTTP (and later DNS) servers listen on.
    pub client_addr: IpAddr,
    /// `addresses.http`: where the HTTP API listens; the client address when unset.
    pub http_addr: Option<IpAddr>,
    /// `addresses.http = "unix:///path"`: the HTTP API listens on this Unix socket
    /// instead of TCP (a stale socket file there is replaced).
    pub http_unix_socket: Option<std::path::PathBuf>,
    /// The agent's CA and (with `verify_outgoing`) certificate, which HTTP checks use.
    pub checks_tls: crate::checks_tls::ChecksTls,
    /// `ports.https` with a certificate: the HTTPS API (off when `None`).
    pub https: Option<crate::https::HttpsSettings>,
    /// `tls.internal_rpc`: server RPC's TLS (plaintext when `None`).
    pub rpc_tls: Option<crate::rpc_tls::RpcTlsSettings>,
    /// `-http-port`.
    pub http_port: u16,
    /// `ports.http = -1`: no plain HTTP listener (an HTTPS-only agent).
    pub http_disabled: bool,
    /// `-bind`: the address for cluster traffic; advertised as the node's address.
    pub bind_addr: IpAddr,
    /// `ports.dns`: the DNS port, UDP and TCP; `None` (`-1`) turns DNS off.
    pub dns_port: Option<u16>,
    /// `addresses.dns`: where DNS listens; the client address when unset.
    pub dns_addr: Option<IpAddr>,
    /// `domain`, `alt_domain`, `recursors` and `dns_config`.
    pub dns: DnsConfig,
    /// `ports.server`: Raft and server RPC.
    pub server_port: u16,
    /// `kv_max_value_size`: the largest KV value accepted, in bytes.
    pub kv_max_value_size: usize,
    /// `default_query_time`: how long a blocking query waits without `?wait`.
    pub default_query_time: Duration,
    /// `max_query_time`: the longest a blocking query may wait.
    pub max_query_time: Duration,
    /// `enable_script_checks`: run script checks, from the HTTP API or config files.
    pub enable_script_checks: bool,
    /// `enable_local_script_checks`: run script checks from config files only.
    pub enable_local_script_checks: bool,
    /// The files and directories configuration came from, re-read by `reload`.
    pub config_sources: Vec<ConfigSource>,
    /// `service`/`services` blocks from the config files.
    pub services: Vec<ServiceRegistration>,
    /// `check`/`checks` blocks from the config files.
    pub checks: Vec<CheckRegistration>,
    /// `node_id`: this node's ID. Unset, a server keeps a generated one in its data dir
    /// (and `-dev` generates one per start).
    pub node_id: Option<uuid::Uuid>,
    /// `node_meta`: metadata of this agent's node in the catalog.
    pub node_meta: std::collections::BTreeMap<String, String>,
    /// `connect.enabled` (Consul: on in `-dev`): list a CA root at
    /// `/v1/connect/ca/roots`; nothing else of Connect exists.
    pub connect_enabled: bool,
    /// `connect.ca_config.cluster_id`: the CA's trust domain is `<cluster_id>.consul`
    /// (random when unset).
    pub connect_cluster_id: Option<String>,
    /// `-ui` / `ui_config` (on in `-dev`): serve the web UI and redirect `/` to it.
    pub ui: proconsul_ui::UiSettings,
    /// How often anti-entropy compares the agent with the catalog (Consul: about 1m).
    pub ae_interval: Duration,
    /// How often services with long-critical checks are looked for (Consul: 30s).
    pub check_reap_interval: Duration,
    /// The least `DeregisterCriticalServiceAfter` honoured (Consul: 1m).
    pub check_deregister_minimum: Duration,
    /// `primary_datacenter`: where the ACL objects live (this datacenter when unset;
    /// Proconsul has no other).
    pub primary_datacenter: Option<String>,
    /// `acl { ... }`.
    pub acl: AclConfig,
    /// The log as `/v1/agent/monitor` streams it; the process's `tracing` subscriber
    /// must carry its layer ([`crate::monitor::LogHub::layer`]) for lines to flow.
    pub log_hub: crate::monitor::LogHub,
    /// `telemetry { ... }`, and whether metrics are kept at all.
    pub telemetry: crate::telemetry::TelemetryConfig,
    /// Changes the printed log level on `reload` (made by [`crate::logging::init`]).
    pub log_level: crate::logging::LogLevelControl,
    /// The LAN gossip pool: port, encryption key, failure handling.
    pub gossip: crate::gossip_settings::GossipSettings,
    /// How network coordinates are batched into Raft and this agent's own reported.
    pub coordinates: crate::coordinate_settings::CoordinateSettings,
}

impl AgentConfig {
    /// The datacenter holding the ACL objects: `primary_datacenter`, else this one.
    pub fn primary_datacenter(&self) -> &str {
        self.primary_datacenter
            .as_deref()
            .unwrap_or(&self.datacenter)
    }

    /// Whether this agent's datacenter is an ACL secondary: ACLs on and
    /// `primary_datacenter` naming another datacenter, whose ACL objects it replicates
    /// ([`crate::acl_replication`]).
    pub fn is_acl_secondary(&self) -> bool {
        self.acl.enabled && self.primary_datacenter() != self.datacenter
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            dev: false,
            server: true,
            data_dir: None,
            raft_snapshot_threshold: 16384,
            raft_trailing_logs: 10240,
            bootstrap: false,
            bootstrap_expect: 0,
            retry_join: Vec::new(),
            start_join: Vec::new(),
            retry_interval: Duration::from_secs(30),
            raft_multiplier: 5,
            autopilot: Default::default(),
            leave_on_terminate: false,
            node_name: None,
            datacenter: "dc1".to_string(),
            client_addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_addr: None,
            http_unix_socket: None,
            https: None,
            rpc_tls: None,
            checks_tls: crate::checks_tls::ChecksTls::default(),
            http_port: 8500,
            http_disabled: false,
            bind_addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            dns_port: Some(8600),
            dns_addr: None,
            dns: DnsConfig::default(),
            server_port: 8300,
            kv_max_value_size: 512 * 1024,
            default_query_time: Duration::from_secs(300),
            max_query_time: Duration::from_secs(600),
            enable_script_checks: false,
            enable_local_script_checks: false,
            config_sources: Vec::new(),
            services: Vec::new(),
            checks: Vec::new(),
            node_id: None,
            node_meta: std::collections::BTreeMap::new(),
            connect_enabled: false,
            connect_cluster_id: None,
            ui: proconsul_ui::UiSettings::default(),
            ae_interval: Duration::from_secs(60),
            check_reap_interval: Duration::from_secs(30),
            check_deregister_minimum: Duration::from_secs(60),
            primary_datacenter: None,
            acl: AclConfig::default(),
            log_hub: crate::monitor::LogHub::default(),
            telemetry: crate::telemetry::TelemetryConfig::default(),
            log_level: crate::logging::LogLevelControl::default(),
            gossip: crate::gossip_settings::GossipSettings::default(),
            coordinates: crate::coordinate_settings::CoordinateSettings::default(),
        }
    }
}
