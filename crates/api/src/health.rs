//! Health checks and the combined node/service/check entries of `/v1/health/service`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::catalog::{AgentService, Node};

/// A check's status. Consul has exactly three; "maintenance" is a critical check.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Passing,
    Warning,
    /// Consul gives a check registered with an empty status the default one, critical.
    #[default]
    #[serde(alias = "")]
    Critical,
}

impl HealthStatus {
    /// The lowercase name Consul uses on the wire and in paths.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Passing => "passing",
            HealthStatus::Warning => "warning",
            HealthStatus::Critical => "critical",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HealthStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "passing" => Ok(HealthStatus::Passing),
            "warning" => Ok(HealthStatus::Warning),
            "critical" => Ok(HealthStatus::Critical),
            other => Err(format!("Invalid check status: \"{other}\"")),
        }
    }
}

/// How an agent runs a check, kept with the check so the catalog can show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckDefinitionSummary {
    #[serde(rename = "HTTP")]
    pub http: String,
    #[serde(rename = "TCP")]
    pub tcp: String,
    pub interval: String,
    pub timeout: String,
    pub deregister_critical_service_after: String,
}

/// A check as the catalog stores it (`/v1/health/*`, `/v1/agent/checks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthCheck {
    pub node: String,
    #[serde(rename = "CheckID")]
    pub check_id: String,
    pub name: String,
    pub status: HealthStatus,
    pub notes: String,
    pub output: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub service_name: String,
    /// `null` when empty, as Consul writes it (see `go_json`).
    #[serde(deserialize_with = "crate::decode::null_as_default")]
    pub service_tags: Vec<String>,
    #[serde(rename = "Type")]
    pub check_type: String,
    pub interval: String,
    pub timeout: String,
    pub exposed_port: u16,
    pub definition: CheckDefinitionSummary,
    pub create_index: u64,
    pub modify_index: u64,
}

impl HealthCheck {
    /// A check registered through the catalog without a `Type` takes the kind its
    /// definition describes, as Consul reports it.
    pub fn derive_type_from_definition(&mut self) {
        if !self.check_type.is_empty() {
            return;
        }
        if !self.definition.http.is_empty() {
            self.check_type = "http".to_string();
        } else if !self.definition.tcp.is_empty() {
            self.check_type = "tcp".to_string();
        }
    }
}

/// One row of `/v1/health/service/:name`: where an instance runs and how healthy it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceEntry {
    pub node: Node,
    pub service: AgentService,
    pub checks: Vec<HealthCheck>,
}

/// The fields of an agent check registration (`PUT /v1/agent/check/register`, and the
/// `Check`/`Checks` of a service registration). Fields for check types the agent does not
/// yet run are kept so that the definition round-trips.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckRegistration {
    #[serde(rename = "ID", alias = "CheckID")]
    pub id: String,
    pub name: String,
    pub notes: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub status: Option<HealthStatus>,
    #[serde(rename = "TTL")]
    pub ttl: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    #[serde(rename = "HTTP")]
    pub http: Option<String>,
    pub method: Option<String>,
    pub header: BTreeMap<String, Vec<String>>,
    pub body: Option<String>,
    pub disable_redirects: bool,
    #[serde(rename = "TCP")]
    pub tcp: Option<String>,
    #[serde(rename = "TCPUseTLS")]
    pub tcp_use_tls: bool,
    #[serde(rename = "UDP")]
    pub udp: Option<String>,
    #[serde(rename = "GRPC")]
    pub grpc: Option<String>,
    #[serde(rename = "GRPCUseTLS")]
    pub grpc_use_tls: bool,
    #[serde(rename = "H2PING")]
    pub h2ping: Option<String>,
    /// `H2PingUseTLS`; Consul's default is true, so it is `None` unless given.
    #[serde(rename = "H2PingUseTLS")]
    pub h2ping_use_tls: Option<bool>,
    /// `Args`; HashiCorp's Go client writes it as `ScriptArgs`.
    #[serde(alias = "ScriptArgs")]
    pub args: Vec<String>,
    pub script: Option<String>,
    #[serde(rename = "DockerContainerID")]
    pub docker_container_id: Option<String>,
    #[serde(rename = "OSService")]
    pub os_service: Option<String>,
    pub alias_node: Option<String>,
    #[serde(rename = "AliasService")]
    pub alias_service: Option<String>,
    pub deregister_critical_service_after: Option<String>,
    #[serde(rename = "TLSSkipVerify")]
    pub tls_skip_verify: bool,
    #[serde(rename = "TLSServerName")]
    pub tls_server_name: Option<String>,
    pub success_before_passing: u32,
    pub failures_before_warning: u32,
    pub failures_before_critical: u32,
    pub output: Option<String>,
}

impl CheckRegistration {
    /// Consul's name for the kind of check this definition describes.
    pub fn check_type(&self) -> &'static str {
        if self.ttl.is_some() {
            "ttl"
        } else if self.http.is_some() {
            "http"
        } else if self.tcp.is_some() {
            "tcp"
        } else if self.udp.is_some() {
            "udp"
        } else if self.grpc.is_some() {
            "grpc"
        } else if self.h2ping.is_some() {
            "h2ping"
        } else if self.docker_container_id.is_some() {
            "docker"
        } else if self.os_service.is_some() {
            "os_service"
        } else if self.alias_service.is_some() || self.alias_node.is_some() {
            "alias"
        } else if !self.args.is_empty() || self.script.is_some() {
            "script"
        } else {
            ""
        }
    }
}

/// Body of `PUT /v1/agent/service/register`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceRegistration {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub kind: String,
    pub tags: Vec<String>,
    pub address: String,
    pub tagged_addresses: BTreeMap<String, crate::catalog::ServiceAddress>,
    pub meta: BTreeMap<String, String>,
    pub port: u16,
    pub weights: Option<crate::catalog::Weights>,
    pub enable_tag_override: bool,
    pub proxy: Option<crate::catalog::ServiceProxy>,
    pub connect: Option<ConnectRegistration>,
    pub locality: Option<crate::catalog::Locality>,
    pub check: Option<CheckRegistration>,
    pub checks: Vec<CheckRegistration>,
}

/// `Connect` in a service registration: native Connect, or a sidecar to register too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectRegistration {
    pub native: bool,
    pub sidecar_service: Option<serde_json::Value>,
}

/// Body of `PUT /v1/agent/check/update/:id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckUpdate {
    pub status: String,
    pub output: String,
}
