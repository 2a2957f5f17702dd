//! The agent's `acl { ... }` settings with Consul's defaults applied, as the HTTP
//! endpoints, the leader's ACL duties and the token resolver read them.

use std::time::Duration;

use proconsul_acl::DefaultPolicy;

/// `acl.down_policy`: what a client agent does when no server can resolve a token
/// (`client_token_resolver.rs`). Servers hold the ACL tables themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DownPolicy {
    Allow,
    Deny,
    /// Consul's default: cached entries are used past their TTL.
    #[default]
    ExtendCache,
    AsyncCache,
}

impl DownPolicy {
    /// The name Consul's configuration and answers use.
    pub fn as_str(self) -> &'static str {
        match self {
            DownPolicy::Allow => "allow",
            DownPolicy::Deny => "deny",
            DownPolicy::ExtendCache => "extend-cache",
            DownPolicy::AsyncCache => "async-cache",
        }
    }
}

/// `acl { ... }`. Defaults are Consul's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclConfig {
    /// `acl.enabled`: without it every `/v1/acl/*` endpoint answers 401.
    pub enabled: bool,
    /// `acl.default_policy`: what a token's rules leave open.
    pub default_policy: DefaultPolicy,
    /// `acl.down_policy`.
    pub down_policy: DownPolicy,
    /// `acl.enable_key_list_policy`: `?keys`/`?recurse` need `key:list`.
    pub enable_key_list_policy: bool,
    /// `acl.enable_token_persistence`: tokens set through the API survive a restart.
    pub enable_token_persistence: bool,
    /// `acl.enable_token_replication` (no secondary datacenters exist to use it).
    pub enable_token_replication: bool,
    /// `acl.token_ttl`.
    pub token_ttl: Duration,
    /// `acl.policy_ttl`.
    pub policy_ttl: Duration,
    /// `acl.role_ttl`.
    pub role_ttl: Duration,
    /// `acl.tokens`.
    pub tokens: AclTokensConfig,
}

impl Default for AclConfig {
    fn default() -> Self {
        AclConfig {
            enabled: false,
            default_policy: DefaultPolicy::Allow,
            down_policy: DownPolicy::ExtendCache,
            enable_key_list_policy: false,
            enable_token_persistence: false,
            enable_token_replication: false,
            token_ttl: Duration::from_secs(30),
            policy_ttl: Duration::from_secs(30),
            role_ttl: Duration::from_secs(30),
            tokens: AclTokensConfig::default(),
        }
    }
}

/// `acl.tokens { ... }`: secrets from the configuration files (empty ones are unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclTokensConfig {
    /// The management token the leader creates, bootstrapping the cluster.
    pub initial_management: Option<String>,
    /// The token of requests that name none.
    pub default: Option<String>,
    /// The token of the agent's own writes.
    pub agent: Option<String>,
    /// A secret with `agent:write` on this agent, usable without servers.
    pub agent_recovery: Option<String>,
    /// The token DNS answers with.
    pub dns: Option<String>,
    /// The token a secondary datacenter replicates with.
    pub replication: Option<String>,
    /// The token of services and checks from configuration files.
    pub config_file_service_registration: Option<String>,
}
