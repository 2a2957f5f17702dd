//! The configuration keys Proconsul understands, with Consul's names. Keys Consul knows
//! that Proconsul does not act on are removed before these types see a file (see
//! [`crate::compat`]); anything else is refused, so a typo is an error rather than a
//! silently ignored setting.

use std::collections::BTreeMap;
use std::time::Duration;

use proconsul_api::{CheckRegistration, ServiceRegistration};
use serde::{Deserialize, Deserializer};

use crate::acl::AclFile;
use crate::tls::TlsFile;

/// The merged configuration. Every field is optional: unset means "the default, or the
/// command-line flag".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub datacenter: Option<String>,
    /// The datacenter whose servers hold the ACL objects (the local one when unset).
    pub primary_datacenter: Option<String>,
    pub data_dir: Option<String>,
    pub node_name: Option<String>,
    /// The node's ID (a UUID); by default a server keeps a generated one in its data dir.
    pub node_id: Option<String>,
    /// Metadata of this agent's node in the catalog.
    pub node_meta: BTreeMap<String, String>,
    pub client_addr: Option<std::net::IpAddr>,
    pub bind_addr: Option<std::net::IpAddr>,
    /// `advertise_addr`: the address other agents reach this one's gossip at.
    pub advertise_addr: Option<std::net::IpAddr>,
    /// `encrypt`: the gossip encryption key (base64 of 16, 24 or 32 bytes).
    pub encrypt: Option<String>,
    /// `encrypt_verify_incoming`: refuse unencrypted gossip (default true).
    pub encrypt_verify_incoming: Option<bool>,
    /// `encrypt_verify_outgoing`: encrypt outgoing gossip (default true).
    pub encrypt_verify_outgoing: Option<bool>,
    /// `reconnect_timeout`: how long a failed member is kept before it is reaped (72h).
    pub reconnect_timeout: Option<GoDuration>,
    /// `skip_leave_on_interrupt`: SIGINT stops without leaving (default: true on servers).
    pub skip_leave_on_interrupt: Option<bool>,
    /// Proconsul's `gossip_failure_hold_down`: how long a member must stay failed before
    /// the catalog marks it critical (default 2s; "0s" turns it off).
    pub gossip_failure_hold_down: Option<GoDuration>,
    pub ports: Ports,
    pub addresses: Addresses,
    pub domain: Option<String>,
    pub alt_domain: Option<String>,
    pub recursors: Vec<String>,
    pub dns_config: DnsConfigFile,
    pub log_level: Option<String>,
    /// `log_json`: the agent's own log as JSON lines (hclog's keys).
    pub log_json: Option<bool>,
    /// `log_file`: also write the log to this file, or to `consul.log` in this directory
    /// when the path ends in `/`.
    pub log_file: Option<String>,
    /// `log_rotate_bytes`: rotate the log file once it holds this many bytes (0: never).
    pub log_rotate_bytes: Option<u64>,
    /// `log_rotate_duration`: rotate the log file this long after it was opened (24h).
    pub log_rotate_duration: Option<GoDuration>,
    /// `log_rotate_max_files`: rotated files kept (0: all; -1: none).
    pub log_rotate_max_files: Option<i64>,
    pub enable_script_checks: Option<bool>,
    pub enable_local_script_checks: Option<bool>,
    pub server: Option<bool>,
    pub bootstrap: Option<bool>,
    pub bootstrap_expect: Option<u32>,
    pub raft_snapshot_threshold: Option<u64>,
    pub raft_trailing_logs: Option<u64>,
    pub retry_join: Vec<String>,
    /// Servers to join once at start (an error if none answers, unlike `retry_join`).
    pub start_join: Vec<String>,
    /// Servers of other datacenters to join in the WAN pool, retried (servers only).
    pub retry_join_wan: Vec<String>,
    /// Servers of other datacenters to join in the WAN pool once at start.
    pub start_join_wan: Vec<String>,
    pub retry_interval: Option<GoDuration>,
    /// Leave the cluster on SIGTERM (Consul: false for servers).
    pub leave_on_terminate: Option<bool>,
    pub performance: Performance,
    /// `autopilot { ... }`.
    pub autopilot: crate::autopilot::AutopilotFile,
    pub connect: Connect,
    /// `ui_config { ... }` (the legacy `ui`, `ui_content_path` and `ui_dir` keys are
    /// renamed into it).
    pub ui_config: UiConfig,
    pub limits: Limits,
    /// Access control: tokens, policies and what they allow.
    pub acl: AclFile,
    /// TLS for the HTTPS API (and, in Consul, server RPC and gRPC).
    pub tls: TlsFile,
    /// `telemetry { ... }`: how metrics are named and whether Prometheus output is on.
    pub telemetry: Telemetry,
    /// Raw service blocks; see [`FileConfig::service_registrations`].
    pub services: Vec<serde_json::Value>,
    /// Raw check blocks; see [`FileConfig::check_registrations`].
    pub checks: Vec<serde_json::Value>,
    /// Keys Consul knows that Proconsul accepted without acting on them (dotted paths,
    /// sorted, each once), for the agent's start-up warning.
    #[serde(skip)]
    pub ignored: Vec<String>,
}

/// `performance { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Performance {
    /// Scales Raft's timeouts: 1 is the fastest, Consul's default is 5.
    pub raft_multiplier: Option<u32>,
}

/// `connect { ... }`: only what decides the CA root Proconsul lists; the rest of
/// Connect is in [`crate::compat::IGNORED`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connect {
    pub enabled: Option<bool>,
    pub ca_config: CaConfig,
}

/// `ui_config { ... }`: whether the agent serves the web UI, and under which path.
/// Its metrics-provider and dashboard keys are in [`crate::compat::IGNORED`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    pub enabled: Option<bool>,
    pub content_path: Option<String>,
}

/// `connect.ca_config`: provider-specific, so any key is accepted; only `cluster_id` is
/// read (the others are reported as ignored).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CaConfig {
    pub cluster_id: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `ports { ... }`. `-1` disables a listener, as in Consul. The other ports Consul has
/// (`grpc`, `grpc_tls`, ...) are accepted and ignored: nothing listens on them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ports {
    pub http: Option<i32>,
    /// The HTTPS API (Consul: off unless set; 8501 by convention).
    pub https: Option<i32>,
    pub dns: Option<i32>,
    pub server: Option<i32>,
    /// LAN gossip, UDP and TCP (8301).
    pub serf_lan: Option<i32>,
    /// WAN gossip between the servers of all datacenters, UDP and TCP (8302; -1: off).
    pub serf_wan: Option<i32>,
}

/// `addresses { ... }`: per-listener addresses that override `client_addr`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Addresses {
    pub dns: Option<std::net::IpAddr>,
    pub http: Option<HttpAddress>,
    pub https: Option<std::net::IpAddr>,
}

/// `addresses.http`: an IP address, or `unix:///path` for a Unix socket (then the HTTP
/// API listens on the socket only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAddress {
    Ip(std::net::IpAddr),
    Unix(std::path::PathBuf),
}

impl<'de> Deserialize<'de> for HttpAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if let Some(path) = text.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(serde::de::Error::custom("unix:// needs a socket path"));
            }
            return Ok(HttpAddress::Unix(path.into()));
        }
        text.parse().map(HttpAddress::Ip).map_err(|_| {
            serde::de::Error::custom(format!(
                "{text:?} is neither an IP address nor unix:///path"
            ))
        })
    }
}

/// `dns_config { ... }`, with Consul's key names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfigFile {
    pub allow_stale: Option<bool>,
    pub max_stale: Option<GoDuration>,
    pub node_ttl: Option<GoDuration>,
    pub service_ttl: BTreeMap<String, GoDuration>,
    pub udp_answer_limit: Option<usize>,
    pub a_record_limit: Option<usize>,
    pub enable_truncate: Option<bool>,
    pub only_passing: Option<bool>,
    pub recursor_timeout: Option<GoDuration>,
    pub recursor_strategy: Option<RecursorStrategyName>,
    pub disable_compression: Option<bool>,
    pub enable_additional_node_meta_txt: Option<bool>,
    pub soa: SoaFile,
    pub use_cache: Option<bool>,
    pub cache_max_age: Option<GoDuration>,
}

/// `dns_config.soa { ... }`, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoaFile {
    pub refresh: Option<u32>,
    pub retry: Option<u32>,
    pub expire: Option<u32>,
    pub min_ttl: Option<u32>,
}

/// `dns_config.recursor_strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecursorStrategyName {
    Sequential,
    Random,
}

/// A duration written as Go writes them (`"10s"`, `"1h30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        proconsul_api::duration::parse_duration(&text)
            .map(GoDuration)
            .map_err(|error| serde::de::Error::custom(format!("{text:?}: {error}")))
    }
}

/// `telemetry { ... }`: the keys that shape `/v1/agent/metrics` (the other sinks and
/// filters are in [`crate::compat::IGNORED`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Telemetry {
    /// The first part of every metric name (Consul: `consul`).
    pub metrics_prefix: Option<String>,
    /// Leave the host name out of gauge names (Consul: false).
    pub disable_hostname: Option<bool>,
    /// How long Prometheus output keeps a metric nobody updates; unset or zero turns
    /// `?format=prometheus` off.
    pub prometheus_retention_time: Option<GoDuration>,
    /// Whether the pre-1.9 metric names are left out (Consul: true). Proconsul emits
    /// only the current names either way.
    #[serde(rename = "disable_compat_1.9")]
    pub disable_compat_1_9: Option<bool>,
}

/// `limits { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub kv_max_value_size: Option<usize>,
}

impl FileConfig {
    /// The service blocks as registrations, decoded as the HTTP API decodes them.
    pub fn service_registrations(&self) -> Result<Vec<ServiceRegistration>, String> {
        decode_blocks(&self.services, "services")
    }

    /// The check blocks as registrations.
    pub fn check_registrations(&self) -> Result<Vec<CheckRegistration>, String> {
        decode_blocks(&self.checks, "checks")
    }
}

/// Decodes raw blocks leniently, naming the failing one as `list[i]`.
fn decode_blocks<T: serde::de::DeserializeOwned>(
    blocks: &[serde_json::Value],
    list: &str,
) -> Result<Vec<T>, String> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            proconsul_api::decode::decode_lenient(block.clone())
                .map_err(|error| format!("{list}[{i}]: {error}"))
        })
        .collect()
}
