//! Resolving a request's secret into the authorizer of its token, from the replicated
//! ACL tables, once per token and ACL change rather than once per request.
//!
//! A compiled authorizer is kept per secret while the ACL tables (tokens, policies,
//! roles) are unchanged; any ACL write empties the cache, so a revoked or narrowed
//! token is never answered from it. Expiry is checked on every lookup against the
//! agent's clock, because the leader removes expired tokens only when its timer fires.
//! Each resolution is timed (`acl.ResolveToken`) and counted as a cache hit or miss.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use proconsul_acl::{
    Accessor, Authorizer, DefaultPolicy, NodeIdentity, ServiceIdentity, TemplatedPolicy,
    TokenRules, parse_rules,
};
use proconsul_api::acl::{
    ANONYMOUS_TOKEN_ACCESSOR_ID, AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy, AclToken,
};
use proconsul_api::go_time::GoTime;
use proconsul_consensus::agent_acl::{GrantedPolicy, TokenGrant, TokenLookup};
use proconsul_state::{State, Table};

use crate::agent_tokens::AgentTokens;
use crate::telemetry::{ResolverMetrics, Timer};

/// How many tokens' authorizers are kept; past it the cache starts over, so random
/// secrets cannot grow it without bound.
const MAX_CACHED_TOKENS: usize = 4096;

/// The secret of the anonymous token, which a request without a token uses.
pub const ANONYMOUS_SECRET: &str = "anonymous";

/// Secrets Consul reserves for its static authorizers: they never resolve.
const RESERVED_SECRETS: &[&str] = &["allow", "deny", "manage"];

/// What the resolver needs of the agent's configuration.
#[derive(Debug, Clone)]
pub struct AclSettings {
    /// Policies and identities scoped to datacenters apply only in this one.
    pub datacenter: String,
    /// This agent's node name (the recovery token's `agent:write`).
    pub node_name: String,
    /// `acl.default_policy`.
    pub default_policy: DefaultPolicy,
    /// The agent's tokens: `default` (the token of requests that name none) and
    /// `agent_recovery` (works even with no servers), changeable at run time.
    pub tokens: Arc<AgentTokens>,
}

/// Why a secret did not resolve: Consul answers 403 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No such token, or it has expired.
    #[error("ACL not found")]
    NotFound,
    /// No such token, and no token can exist yet: the cluster was never bootstrapped.
    #[error(
        "ACL system must be bootstrapped before making any requests that require authorization: ACL not found"
    )]
    NotBootstrapped,
}

/// The ACL tables' indexes (tokens, policies, roles) an authorizer was built at.
pub type AclVersion = (u64, u64, u64);

#[derive(Clone)]
struct CachedToken {
    authorizer: Arc<Authorizer>,
    expires: Option<GoTime>,
}

/// The per-agent resolver, shared by every request.
pub struct TokenResolver {
    settings: AclSettings,
    /// Read on every request from every core, written once per token and ACL change:
    /// copied on write, so that readers share no lock or counter.
    cache: ArcSwap<Cache>,
    /// `acl.ResolveToken` and `acl.token.cache_hit`/`cache_miss`.
    metrics: ResolverMetrics,
}

#[derive(Default, Clone)]
struct Cache {
    version: AclVersion,
    tokens: HashMap<String, CachedToken>,
}

impl TokenResolver {
    /// A resolver for an agent configured with `settings`.
    pub fn new(settings: AclSettings) -> TokenResolver {
        TokenResolver {
            settings,
            cache: ArcSwap::from_pointee(Cache::default()),
            metrics: ResolverMetrics::new(),
        }
    }

    /// `acl.default_policy` as Consul's `X-Consul-Default-ACL-Policy` header says it.
    pub fn default_policy_name(&self) -> &'static str {
        match self.settings.default_policy {
            DefaultPolicy::Allow => "allow",
            DefaultPolicy::Deny => "deny",
        }
    }

    /// The DNS interface's token: `acl.tokens.dns`, else `default`.
    pub fn dns_token(&self) -> Option<String> {
        self.settings.tokens.dns_token()
    }

    /// `acl.tokens.default`, for requests that name no token.
    pub fn default_token(&self) -> Option<String> {
        self.settings.tokens.default_token()
    }

    /// The version of `state`'s ACL tables: an authorizer built at another version may
    /// be out of date.
    pub fn version_of(state: &State) -> AclVersion {
        let indexes = state.table_indexes();
        (
            indexes.get(Table::AclTokens),
            indexes.get(Table::AclPolicies),
            indexes.get(Table::AclRoles),
        )
    }

    /// The authorizer for `secret` (`None` or empty: the anonymous token) in `state`,
    /// at `now`, with the ACL version it was built at.
    pub fn resolve(
        &self,
        state: &State,
        secret: Option<&str>,
        now: GoTime,
    ) -> Result<(AclVersion, Arc<Authorizer>), ResolveError> {
        let _timer = Timer::start(&self.metrics.resolve_token);
        let secret = secret.filter(|s| !s.is_empty()).unwrap_or(ANONYMOUS_SECRET);
        let version = Self::version_of(state);
        if RESERVED_SECRETS.contains(&secret) {
            return Err(ResolveError::NotFound);
        }
        if self.is_agent_recovery(secret) {
            return Ok((version, Arc::new(self.agent_recovery())));
        }
        if let Some(found) = self.cached(secret, version, now) {
            self.metrics.cache_hit.increment(1);
            return found.map(|authorizer| (version, authorizer));
        }
        self.metrics.cache_miss.increment(1);
        let (authorizer, expires) = self.build(state, secret, now)?;
        self.remember(secret, version, authorizer.clone(), expires);
        Ok((version, authorizer))
    }

    fn cached(
        &self,
        secret: &str,
        version: AclVersion,
        now: GoTime,
    ) -> Option<Result<Arc<Authorizer>, ResolveError>> {
        let cache = self.cache.load();
        if cache.version != version {
            return None;
        }
        let entry = cache.tokens.get(secret)?;
        if entry.expires.is_some_and(|at| at < now) {
            return Some(Err(ResolveError::NotFound));
        }
        Some(Ok(entry.authorizer.clone()))
    }

    fn remember(
        &self,
        secret: &str,
        version: AclVersion,
        authorizer: Arc<Authorizer>,
        expires: Option<GoTime>,
    ) {
        let entry = CachedToken {
            authorizer,
            expires,
        };
        self.cache.rcu(|cache| {
            let mut cache = if cache.version != version || cache.tokens.len() >= MAX_CACHED_TOKENS {
                Cache {
                    version,
                    tokens: HashMap::new(),
                }
            } else {
                (**cache).clone()
            };
            cache.tokens.insert(secret.to_string(), entry.clone());
            cache
        });
    }

    /// Compiles the authorizer of the token with `secret`. Before the leader has
    /// created the anonymous token, a request without one gets the default policy.
    fn build(
        &self,
        state: &State,
        secret: &str,
        now: GoTime,
    ) -> Result<(Arc<Authorizer>, Option<GoTime>), ResolveError> {
        let Some(token) = state.acl_token_entry_by_secret(secret) else {
            if secret == ANONYMOUS_SECRET {
                let authorizer = TokenRules::new(self.settings.datacenter.as_str())
                    .authorizer(self.settings.default_policy, Accessor::Anonymous);
                return Ok((Arc::new(authorizer), None));
            }
            if state.acl_bootstrap_reset_index().is_none() {
                return Err(ResolveError::NotBootstrapped);
            }
            return Err(ResolveError::NotFound);
        };
        if token.is_expired(now) {
            return Err(ResolveError::NotFound);
        }
        let rules = self.token_rules(state, token);
        let accessor = Accessor::from_accessor_id(&token.accessor_id);
        let authorizer = rules.authorizer(self.settings.default_policy, accessor);
        Ok((Arc::new(authorizer), token.expiration_time))
    }

    /// Everything `token` carries, merged for this datacenter.
    fn token_rules(&self, state: &State, token: &AclToken) -> TokenRules {
        let privileges = state.acl_token_privileges(token);
        let policies = privileges.policies.iter().map(|policy| {
            (
                policy.name.as_str(),
                policy.rules.as_str(),
                &policy.datacenters[..],
            )
        });
        self.rules_of(
            policies,
            &privileges.service_identities,
            &privileges.node_identities,
            &privileges.templated_policies,
        )
    }

    /// What the token with `secret` grants in `state` at `now`, for a client agent that
    /// resolves its requests' tokens through this server. The secret is looked up in
    /// the ACL tables alone: this agent's own recovery token is for this agent only.
    pub fn grant(state: &State, secret: &str, now: GoTime) -> TokenLookup {
        let secret = Some(secret)
            .filter(|s| !s.is_empty())
            .unwrap_or(ANONYMOUS_SECRET);
        if RESERVED_SECRETS.contains(&secret) {
            return TokenLookup::NotFound;
        }
        let Some(token) = state.acl_token_entry_by_secret(secret) else {
            if secret == ANONYMOUS_SECRET {
                return TokenLookup::Found(TokenGrant {
                    accessor_id: ANONYMOUS_TOKEN_ACCESSOR_ID.to_string(),
                    ..TokenGrant::default()
                });
            }
            if state.acl_bootstrap_reset_index().is_none() {
                return TokenLookup::NotBootstrapped;
            }
            return TokenLookup::NotFound;
        };
        if token.is_expired(now) {
            return TokenLookup::NotFound;
        }
        let privileges = state.acl_token_privileges(token);
        TokenLookup::Found(TokenGrant {
            accessor_id: token.accessor_id.clone(),
            expiration_time: token.expiration_time,
            policies: privileges
                .policies
                .iter()
                .map(|policy| GrantedPolicy {
                    name: policy.name.clone(),
                    rules: policy.rules.clone(),
                    datacenters: policy.datacenters.clone(),
                })
                .collect(),
            service_identities: privileges.service_identities,
            node_identities: privileges.node_identities,
            templated_policies: privileges.templated_policies,
        })
    }

    /// The authorizer of a token a server resolved ([`TokenResolver::grant`] there),
    /// compiled with this agent's default policy and datacenter.
    pub fn compile(&self, grant: &TokenGrant) -> Authorizer {
        let policies = grant.policies.iter().map(|policy| {
            (
                policy.name.as_str(),
                policy.rules.as_str(),
                &policy.datacenters[..],
            )
        });
        let rules = self.rules_of(
            policies,
            &grant.service_identities,
            &grant.node_identities,
            &grant.templated_policies,
        );
        rules.authorizer(
            self.settings.default_policy,
            Accessor::from_accessor_id(&grant.accessor_id),
        )
    }

    /// Whether `secret` is this agent's `acl.tokens.agent_recovery`.
    pub fn is_agent_recovery(&self, secret: &str) -> bool {
        self.settings.tokens.is_agent_recovery(secret)
    }

    /// The authorizer of the agent recovery token: `agent:write` on this agent only.
    pub fn agent_recovery(&self) -> Authorizer {
        Authorizer::agent_recovery(&self.settings.node_name)
    }

    /// The resolver's timings and cache counters.
    pub(crate) fn metrics(&self) -> &ResolverMetrics {
        &self.metrics
    }

    /// The rules of `policies` (name, rules text, datacenters), identities and templated
    /// policies, merged for this datacenter. A stored policy whose rules no longer parse
    /// grants nothing (its write was validated; this only guards against a rule this
    /// build reads differently), and is logged.
    fn rules_of<'a>(
        &self,
        policies: impl Iterator<Item = (&'a str, &'a str, &'a [String])>,
        service_identities: &[AclServiceIdentity],
        node_identities: &[AclNodeIdentity],
        templated_policies: &[AclTemplatedPolicy],
    ) -> TokenRules {
        let mut rules = TokenRules::new(self.settings.datacenter.as_str());
        for (name, text, datacenters) in policies {
            match parse_rules(text) {
                Ok(parsed) => {
                    rules.add_policy(&parsed.rules, datacenters);
                }
                Err(error) => {
                    tracing::warn!(policy = %name, %error, "ACL policy rules do not parse; the policy grants nothing");
                }
            }
        }
        for identity in service_identities {
            let identity = ServiceIdentity {
                service_name: identity.service_name.clone(),
                datacenters: identity.datacenters.clone(),
            };
            if let Err(error) = rules.add_service_identity(&identity) {
                tracing::warn!(service = %identity.service_name, %error, "ACL service identity skipped");
            }
        }
        for identity in node_identities {
            let identity = NodeIdentity {
                node_name: identity.node_name.clone(),
                datacenter: identity.datacenter.clone(),
            };
            if let Err(error) = rules.add_node_identity(&identity) {
                tracing::warn!(node = %identity.node_name, %error, "ACL node identity skipped");
            }
        }
        for templated in templated_policies {
            let templated = TemplatedPolicy {
                template_name: templated.template_name.clone(),
                name: templated
                    .template_variables
                    .as_ref()
                    .map(|variables| variables.name.clone()),
                datacenters: templated.datacenters.clone(),
            };
            if let Err(error) = rules.add_templated_policy(&templated) {
                tracing::warn!(template = %templated.template_name, %error, "ACL templated policy skipped");
            }
        }
        rules
    }
}

#[cfg(test)]
mod tests;

/// The wall clock, which token expiry is judged by.
pub(crate) fn now() -> GoTime {
    GoTime::from(std::time::SystemTime::now())
}
