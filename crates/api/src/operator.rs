//! Autopilot's configuration, as the cluster stores it (`/v1/operator/autopilot/
//! configuration`): Consul's fields and defaults. It is rendered in Consul's JSON by the
//! agent (durations as Go strings); here it is the replicated value.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How autopilot judges and manages servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotConfiguration {
    /// Remove servers that failed from the Raft configuration.
    pub cleanup_dead_servers: bool,
    /// The longest a server may go without the leader's contact and stay healthy.
    pub last_contact_threshold: Duration,
    /// How many log entries a server may trail the leader by and stay healthy.
    pub max_trailing_logs: u64,
    /// Dead servers are not removed below this many servers.
    pub min_quorum: u32,
    /// How long a new server must stay healthy before it becomes a voter.
    pub server_stabilization_time: Duration,
    /// Enterprise-only settings, kept as written.
    pub redundancy_zone_tag: String,
    pub disable_upgrade_migration: bool,
    pub upgrade_version_tag: String,
    pub create_index: u64,
    pub modify_index: u64,
}

impl Default for AutopilotConfiguration {
    /// Consul's defaults.
    fn default() -> AutopilotConfiguration {
        AutopilotConfiguration {
            cleanup_dead_servers: true,
            last_contact_threshold: Duration::from_millis(200),
            max_trailing_logs: 250,
            min_quorum: 0,
            server_stabilization_time: Duration::from_secs(10),
            redundancy_zone_tag: String::new(),
            disable_upgrade_migration: false,
            upgrade_version_tag: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }
}

/// One datacenter's catalog usage (`/v1/operator/usage`): the `api` package's
/// `ServiceUsage`. The Enterprise partition and namespace breakdowns are `null` in
/// Consul CE's shape here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceUsage {
    pub nodes: usize,
    /// Distinct service names, `consul` included.
    pub services: usize,
    /// Service instances, `consul` included.
    pub service_instances: usize,
    /// Per Connect kind (`connect-proxy`, `connect-native`, the gateways), every kind
    /// listed, zeros included.
    pub connect_service_instances: std::collections::BTreeMap<String, usize>,
    /// Instances of typical services (not proxies or gateways; Connect-native counts),
    /// without the `consul` service.
    pub billable_service_instances: usize,
    pub partition_namespace_services: Option<std::collections::BTreeMap<String, usize>>,
    pub partition_namespace_service_instances: Option<std::collections::BTreeMap<String, usize>>,
    pub partition_namespace_connect_service_instances:
        Option<std::collections::BTreeMap<String, usize>>,
    pub partition_namespace_billable_service_instances:
        Option<std::collections::BTreeMap<String, usize>>,
}

/// The body of `GET /v1/operator/usage`: usage per datacenter, with the `QueryMeta`
/// Consul embeds (`Index`, `KnownLeader`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UsageResponse {
    pub usage: std::collections::BTreeMap<String, ServiceUsage>,
    #[serde(flatten)]
    pub meta: crate::query::BodyQueryMeta,
}
