//! The `acl { ... }` block, with Consul's key names. Every field is optional here; the
//! agent applies Consul's defaults (`enabled = false`, `default_policy = "allow"`,
//! `down_policy = "extend-cache"`, TTLs of 30s) to what is unset. Values are checked
//! when the file is read, so a misspelt policy names its key path.

use serde::Deserialize;

use crate::model::GoDuration;

/// `acl { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AclFile {
    /// Whether ACLs are enforced (Consul: false).
    pub enabled: Option<bool>,
    /// What a token's rules leave open (Consul: `allow`).
    pub default_policy: Option<AclDefaultPolicy>,
    /// What to do when the ACL authority cannot be reached (Consul: `extend-cache`).
    pub down_policy: Option<AclDownPolicy>,
    /// Whether `?keys` and `?recurse` need `list` on the prefix (Consul: false).
    pub enable_key_list_policy: Option<bool>,
    /// Whether tokens set through `PUT /v1/agent/token/*` are kept in the data dir.
    pub enable_token_persistence: Option<bool>,
    /// Whether a secondary datacenter replicates tokens (there are no secondaries).
    pub enable_token_replication: Option<bool>,
    /// How long a resolved token is cached (Consul: 30s).
    pub token_ttl: Option<GoDuration>,
    /// How long a resolved policy is cached (Consul: 30s).
    pub policy_ttl: Option<GoDuration>,
    /// How long a resolved role is cached (Consul: 30s).
    pub role_ttl: Option<GoDuration>,
    pub tokens: AclTokensFile,
}

/// `acl.tokens { ... }` (the legacy names are renamed before this sees the file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AclTokensFile {
    /// The secret of a management token the leader creates (bootstrapping the cluster).
    pub initial_management: Option<String>,
    /// The token of requests that carry none.
    pub default: Option<String>,
    /// The token of the agent's own writes (falls back to `default`).
    pub agent: Option<String>,
    /// A secret with `agent:write` on this agent that works without servers.
    pub agent_recovery: Option<String>,
    /// The token DNS answers with (falls back to `default`).
    pub dns: Option<String>,
    /// The token a secondary datacenter replicates with.
    pub replication: Option<String>,
    /// The token of services and checks from configuration files (falls back to
    /// `default`).
    pub config_file_service_registration: Option<String>,
}

/// `acl.default_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AclDefaultPolicy {
    Allow,
    Deny,
}

/// `acl.down_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AclDownPolicy {
    Allow,
    Deny,
    ExtendCache,
    AsyncCache,
}
