//! The ACL system's metrics, with Consul's names: `acl.ResolveToken` (every resolution
//! of a request's token, hit or miss) and `acl.token.cache_hit`/`cache_miss` (the
//! resolver's compiled authorizers), made once per resolver; and the timers of the ACL
//! writes (`acl.token.upsert`, `acl.policy.delete`, `acl.login`, ...), made once per
//! agent. Consul's legacy `acl.apply` (the pre-1.4 ACL API, removed in 1.11) is not
//! emitted: no endpoint of today's API records it.

use metrics::{Counter, Histogram, counter, histogram};

/// The token resolver's handles.
#[derive(Debug)]
pub struct ResolverMetrics {
    /// `acl.ResolveToken`: the time to resolve a secret into its authorizer.
    pub resolve_token: Histogram,
    /// `acl.token.cache_hit`: resolved from the cache of compiled authorizers.
    pub cache_hit: Counter,
    /// `acl.token.cache_miss`: compiled from the ACL tables.
    pub cache_miss: Counter,
}

impl ResolverMetrics {
    pub fn new() -> ResolverMetrics {
        ResolverMetrics {
            resolve_token: histogram!("acl.ResolveToken"),
            cache_hit: counter!("acl.token.cache_hit"),
            cache_miss: counter!("acl.token.cache_miss"),
        }
    }
}

impl Default for ResolverMetrics {
    fn default() -> Self {
        ResolverMetrics::new()
    }
}

/// The timers of the ACL writes, one per RPC Consul times (create and update share
/// `upsert`; failures count too, as with Consul's deferred `MeasureSince`).
#[derive(Debug)]
pub struct AclWriteMetrics {
    pub token_upsert: Histogram,
    pub token_clone: Histogram,
    pub token_delete: Histogram,
    pub policy_upsert: Histogram,
    pub policy_delete: Histogram,
    pub role_upsert: Histogram,
    pub role_delete: Histogram,
    pub bindingrule_upsert: Histogram,
    pub bindingrule_delete: Histogram,
    pub authmethod_upsert: Histogram,
    pub authmethod_delete: Histogram,
    pub login: Histogram,
    pub logout: Histogram,
}

impl AclWriteMetrics {
    pub fn new() -> AclWriteMetrics {
        AclWriteMetrics {
            token_upsert: histogram!("acl.token.upsert"),
            token_clone: histogram!("acl.token.clone"),
            token_delete: histogram!("acl.token.delete"),
            policy_upsert: histogram!("acl.policy.upsert"),
            policy_delete: histogram!("acl.policy.delete"),
            role_upsert: histogram!("acl.role.upsert"),
            role_delete: histogram!("acl.role.delete"),
            bindingrule_upsert: histogram!("acl.bindingrule.upsert"),
            bindingrule_delete: histogram!("acl.bindingrule.delete"),
            authmethod_upsert: histogram!("acl.authmethod.upsert"),
            authmethod_delete: histogram!("acl.authmethod.delete"),
            login: histogram!("acl.login"),
            logout: histogram!("acl.logout"),
        }
    }
}

impl Default for AclWriteMetrics {
    fn default() -> Self {
        AclWriteMetrics::new()
    }
}
