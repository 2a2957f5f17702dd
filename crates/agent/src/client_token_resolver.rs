//! A client agent's token resolution. A client holds no ACL tables: it asks a server
//! what a token grants (server RPC `/agent/acl-token`), compiles the answer with its own
//! default policy, and keeps it for the shortest of `acl.token_ttl`, `acl.policy_ttl`
//! and `acl.role_ttl`. Consul caches a token, its policies and its roles apart, each for
//! its own TTL; the server answers with all three resolved at once, so keeping the
//! whole answer for the shortest TTL gives every part at least the freshness its own
//! TTL promises. Concurrent requests with one token that is not cached (or is stale)
//! share a single question to the servers.
//!
//! When no server answers, `acl.down_policy` decides: `extend-cache` (the default) keeps
//! using a cached token past its TTL and denies tokens it never saw; `async-cache` does
//! the same but answers a stale token at once while one refresh runs behind it; `allow`
//! and `deny` allow or deny everything. A token the servers no longer know is dropped
//! from the cache and refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use proconsul_acl::Authorizer;
use proconsul_api::go_time::GoTime;
use proconsul_consensus::agent_acl::TokenLookup;
use tokio_util::sync::CancellationToken;

use crate::acl_config::DownPolicy;
use crate::server_link::{LinkError, ServerLink};
use crate::telemetry::Timer;
use crate::token_resolver::{ANONYMOUS_SECRET, ResolveError, TokenResolver};

/// How many tokens are kept; past it the cache starts over.
const MAX_CACHED_TOKENS: usize = 4096;

/// Secrets Consul reserves for its static authorizers: they never resolve.
const RESERVED_SECRETS: &[&str] = &["allow", "deny", "manage"];

/// A token as a server last described it.
#[derive(Clone)]
struct CachedGrant {
    authorizer: Arc<Authorizer>,
    /// The token's own expiry (`ExpirationTime`), judged by this agent's clock.
    expires: Option<GoTime>,
    /// When the server answered: past `token_ttl` the entry is asked for again.
    fetched: Instant,
}

/// One question to the servers about a secret, awaited by every request that needs its
/// answer meanwhile.
type Lookup = Shared<BoxFuture<'static, Result<Arc<Authorizer>, ResolveError>>>;

#[derive(Default)]
struct Cache {
    tokens: HashMap<String, CachedGrant>,
    /// Secrets being asked about now (a request's miss or `async-cache`'s refresh).
    in_flight: HashMap<String, Lookup>,
}

/// Whose servers resolve tokens.
pub enum TokenSource {
    /// A client agent's: its datacenter's servers.
    Servers(Arc<ServerLink>),
    /// A secondary datacenter's server without token replication: the primary
    /// datacenter's servers (the global tokens are there), as the WAN pool knows them.
    Datacenter {
        datacenters: Arc<crate::membership::wan::datacenters::Datacenters>,
        name: String,
    },
}

impl TokenSource {
    /// The link to ask now; a datacenter without a route counts as no server.
    fn link(&self) -> Result<Arc<ServerLink>, LinkError> {
        match self {
            TokenSource::Servers(link) => Ok(link.clone()),
            TokenSource::Datacenter { datacenters, name } => {
                datacenters.route(name).map_err(|_| LinkError::NoServers)
            }
        }
    }
}

/// Resolves request tokens on a client agent through the servers (and on a secondary
/// datacenter's server, tokens it does not hold, through the primary's).
pub struct ClientTokenResolver {
    /// Settings, the agent's tokens, compilation and metrics (no ACL tables are read).
    local: Arc<TokenResolver>,
    source: TokenSource,
    /// How long an answer is used before it is asked for again.
    ttl: Duration,
    down_policy: DownPolicy,
    cache: Mutex<Cache>,
    /// The agent's shutdown: background refreshes stop with it.
    shutdown: CancellationToken,
}

impl ClientTokenResolver {
    /// A resolver asking the servers of `source`, keeping answers for the shortest of
    /// `ttls` (the token, policy and role TTLs).
    pub fn new(
        local: Arc<TokenResolver>,
        source: TokenSource,
        ttls: &[Duration],
        down_policy: DownPolicy,
        shutdown: CancellationToken,
    ) -> ClientTokenResolver {
        ClientTokenResolver {
            local,
            source,
            ttl: ttls.iter().copied().min().unwrap_or_default(),
            down_policy,
            cache: Mutex::new(Cache::default()),
            shutdown,
        }
    }

    /// `acl.tokens.default`, for requests that name no token.
    pub fn default_token(&self) -> Option<String> {
        self.local.default_token()
    }

    /// The authorizer of the token with `secret` (`None` or empty: anonymous).
    pub async fn resolve(
        self: &Arc<Self>,
        secret: Option<&str>,
    ) -> Result<Arc<Authorizer>, ResolveError> {
        let _timer = Timer::start(&self.local.metrics().resolve_token);
        let secret = secret.filter(|s| !s.is_empty()).unwrap_or(ANONYMOUS_SECRET);
        if RESERVED_SECRETS.contains(&secret) {
            return Err(ResolveError::NotFound);
        }
        if self.local.is_agent_recovery(secret) {
            return Ok(Arc::new(self.local.agent_recovery()));
        }
        let now = Instant::now();
        let cached = self.cache().tokens.get(secret).cloned();
        if let Some(entry) = &cached {
            if entry
                .expires
                .is_some_and(|at| at < crate::token_resolver::now())
            {
                self.forget(secret);
                return Err(ResolveError::NotFound);
            }
            if now.duration_since(entry.fetched) < self.ttl {
                self.local.metrics().cache_hit.increment(1);
                return Ok(entry.authorizer.clone());
            }
            if self.down_policy == DownPolicy::AsyncCache {
                self.local.metrics().cache_hit.increment(1);
                self.refresh_in_background(secret);
                return Ok(entry.authorizer.clone());
            }
        }
        self.local.metrics().cache_miss.increment(1);
        self.lookup(secret, cached.map(|entry| entry.authorizer))
            .await
    }

    /// The question to the servers about `secret` under way, or a new one; `stale` is
    /// the expired entry the down policy may fall back on.
    fn lookup(self: &Arc<Self>, secret: &str, stale: Option<Arc<Authorizer>>) -> Lookup {
        let mut cache = self.cache();
        if let Some(lookup) = cache.in_flight.get(secret) {
            return lookup.clone();
        }
        let resolver = self.clone();
        let owned = secret.to_string();
        let lookup = async move {
            let answer = resolver.fetch(&owned, stale).await;
            resolver.cache().in_flight.remove(&owned);
            answer
        }
        .boxed()
        .shared();
        cache.in_flight.insert(secret.to_string(), lookup.clone());
        lookup
    }

    /// Asks a server; when none answers, `stale` (the token's expired cache entry)
    /// and the down policy decide.
    async fn fetch(
        &self,
        secret: &str,
        stale: Option<Arc<Authorizer>>,
    ) -> Result<Arc<Authorizer>, ResolveError> {
        let link = match self.source.link() {
            Ok(link) => link,
            Err(error) => return Ok(self.when_down(&error, stale)),
        };
        match link.token_grant(secret).await {
            Ok(TokenLookup::Found(grant)) => {
                let authorizer = Arc::new(self.local.compile(&grant));
                self.remember(secret, authorizer.clone(), grant.expiration_time);
                Ok(authorizer)
            }
            Ok(TokenLookup::NotFound) => {
                self.forget(secret);
                Err(ResolveError::NotFound)
            }
            Ok(TokenLookup::NotBootstrapped) => {
                self.forget(secret);
                Err(ResolveError::NotBootstrapped)
            }
            Err(error) => Ok(self.when_down(&error, stale)),
        }
    }

    /// `acl.down_policy` when no server could resolve a token.
    fn when_down(&self, error: &LinkError, stale: Option<Arc<Authorizer>>) -> Arc<Authorizer> {
        let authorizer = match (self.down_policy, stale) {
            (DownPolicy::Allow, _) => Authorizer::allow_all(),
            (DownPolicy::Deny, _) => Authorizer::deny_all(),
            (DownPolicy::ExtendCache | DownPolicy::AsyncCache, Some(stale)) => {
                tracing::warn!(%error, "acl: servers unreachable; using the cached token past its TTL (down_policy)");
                return stale;
            }
            (DownPolicy::ExtendCache | DownPolicy::AsyncCache, None) => Authorizer::deny_all(),
        };
        tracing::warn!(%error, down_policy = self.down_policy.as_str(), "acl: servers unreachable; token resolved by the down policy");
        Arc::new(authorizer)
    }

    /// `async-cache`: refreshes `secret` behind the request that used its stale entry,
    /// one question per secret at a time.
    fn refresh_in_background(self: &Arc<Self>, secret: &str) {
        if self.cache().in_flight.contains_key(secret) {
            return;
        }
        let lookup = self.lookup(secret, None);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            // A failure keeps the stale entry (the down policy); nothing to report.
            tokio::select! {
                _ = lookup => {}
                () = shutdown.cancelled() => {}
            }
        });
    }

    fn remember(&self, secret: &str, authorizer: Arc<Authorizer>, expires: Option<GoTime>) {
        let mut cache = self.cache();
        if cache.tokens.len() >= MAX_CACHED_TOKENS && !cache.tokens.contains_key(secret) {
            cache.tokens.clear();
        }
        cache.tokens.insert(
            secret.to_string(),
            CachedGrant {
                authorizer,
                expires,
                fetched: Instant::now(),
            },
        );
    }

    fn forget(&self, secret: &str) {
        self.cache().tokens.remove(secret);
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // Only whole entries are written; a poisoned cache is still a consistent one.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests;
