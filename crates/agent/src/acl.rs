//! The ACL seam: every handler asks the request's [`Authorizer`] before reading or
//! writing, and either refuses (403 with Consul's text) or leaves out what the token may
//! not see. With ACLs disabled it allows everything and costs nothing; with ACLs on it
//! wraps the token's compiled rules from [`crate::token_resolver`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::AgentService;
use proconsul_state::State;

use crate::client_token_resolver::ClientTokenResolver;
use crate::token_resolver::{AclVersion, ResolveError, TokenResolver, now};

/// Where a request's token came from does not matter past this point; only its secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Token(pub Option<String>);

impl Token {
    /// The secret, or empty when the request named none.
    pub fn secret(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// The secret the request is resolved with: its own, else `default` (the agent's
    /// `acl.tokens.default`), else none (anonymous).
    fn or_default(&self, default: impl FnOnce() -> Option<String>) -> Option<String> {
        self.0
            .clone()
            .filter(|secret| !secret.is_empty())
            .or_else(default)
    }
}

/// What a request's token may do. Resource names are Consul's (`service`, `node`,
/// `key`, ...).
pub struct Authorizer {
    /// `None`: ACLs are disabled.
    acl: Option<Resolved>,
}

/// A token resolved against the ACL tables, kept current across a blocking query's
/// wake-ups ([`Authorizer::refresh`]), or resolved by a server for a client agent.
struct Resolved {
    /// `None` on a client agent: the token was resolved by a server (a client serves
    /// no blocking queries over the catalog, so nothing refreshes it).
    resolver: Option<Arc<TokenResolver>>,
    secret: Option<String>,
    /// The token's authorizer and the ACL version it was built at (replaced by
    /// [`Authorizer::refresh`]; the lock is held only for a check).
    current: Mutex<(AclVersion, Arc<proconsul_acl::Authorizer>)>,
    /// Whether an answer left something out for this token (read back by the header
    /// layer).
    filtered: FilteredByAcls,
}

impl Resolved {
    fn current(&self) -> MutexGuard<'_, (AclVersion, Arc<proconsul_acl::Authorizer>)> {
        // Replaced whole; a poisoned value is still a consistent one.
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Authorizer {
    /// The authorizer of an agent without ACLs: everything is allowed.
    pub fn allow_all() -> Authorizer {
        Authorizer { acl: None }
    }

    /// Resolves `token` (else the agent's default token, else anonymous) in `state`.
    /// An unknown or expired secret is Consul's 403 `ACL not found`.
    pub fn resolve(
        resolver: &Arc<TokenResolver>,
        state: &State,
        token: &Token,
        filtered: FilteredByAcls,
    ) -> Result<Authorizer, AclRefusal> {
        let secret = token.or_default(|| resolver.default_token());
        let (version, authorizer) = resolver
            .resolve(state, secret.as_deref(), now())
            .map_err(acl_not_found)?;
        Ok(Authorizer {
            acl: Some(Resolved {
                resolver: Some(resolver.clone()),
                secret,
                current: Mutex::new((version, authorizer)),
                filtered,
            }),
        })
    }

    /// On a client agent: `token` (else the agent's default token, else anonymous) as
    /// the servers resolve it ([`ClientTokenResolver`]).
    pub async fn resolve_through_servers(
        resolver: &Arc<ClientTokenResolver>,
        token: &Token,
        filtered: FilteredByAcls,
    ) -> Result<Authorizer, AclRefusal> {
        let secret = token.or_default(|| resolver.default_token());
        let authorizer = resolver
            .resolve(secret.as_deref())
            .await
            .map_err(acl_not_found)?;
        Ok(Authorizer {
            acl: Some(Resolved {
                resolver: None,
                secret,
                current: Mutex::new((AclVersion::default(), authorizer)),
                filtered,
            }),
        })
    }

    /// Re-resolves the token if the ACL tables changed since (a blocking query checks
    /// again on every wake-up). A token deleted meanwhile then allows nothing more.
    pub fn refresh(&self, state: &State) {
        let Some((acl, resolver)) = self
            .acl
            .as_ref()
            .and_then(|acl| Some((acl, acl.resolver.as_ref()?)))
        else {
            return;
        };
        let version = TokenResolver::version_of(state);
        if acl.current().0 == version {
            return;
        }
        let resolved = resolver
            .resolve(state, acl.secret.as_deref(), now())
            .unwrap_or_else(|_| (version, Arc::new(proconsul_acl::Authorizer::deny_all())));
        *acl.current() = resolved;
    }

    /// `Ok` if the token has `permission`, else Consul's 403 naming the token, the
    /// permission and the resource.
    pub fn require(&self, permission: Permission<'_>) -> Result<(), AclRefusal> {
        match &self.acl {
            None => Ok(()),
            Some(acl) => acl
                .current()
                .1
                .require(permission)
                .map_err(|denied| AclRefusal(denied.to_string())),
        }
    }

    /// Registering or changing `service`: `service:write` on it, and for a proxy on the
    /// service it fronts too (CVE-2021-38698: a token for one service registering a
    /// proxy for another).
    pub fn require_service_write(&self, service: &AgentService) -> Result<(), AclRefusal> {
        service_write_permissions(service).try_for_each(|permission| self.require(permission))
    }

    /// For list filters: `allowed`, remembering when something is left out of the
    /// answer of a request that named a token (Consul never tells anonymous callers).
    pub fn keep(&self, allowed: bool) -> bool {
        if !allowed
            && let Some(acl) = &self.acl
            && acl.secret.is_some()
        {
            acl.filtered.set();
        }
        allowed
    }

    /// Whether `X-Consul-Results-Filtered-By-ACLs: true` will be sent.
    pub fn results_filtered(&self) -> bool {
        self.acl.as_ref().is_some_and(|acl| acl.filtered.get())
    }

    /// What cached answers built for this token are keyed by: empty without ACLs, else
    /// the token and the ACL tables' version, so that no answer is served to another
    /// token or outlives a change to this one. Written straight into the key.
    pub fn cache_scope(&self) -> CacheScope<'_> {
        CacheScope(self.acl.as_ref().map(|acl| {
            let version = acl.current().0;
            (acl.secret.as_deref().unwrap_or(""), version)
        }))
    }
}

/// [`Authorizer::cache_scope`]: `secret@tokens.policies.roles`, or nothing.
pub struct CacheScope<'a>(Option<(&'a str, AclVersion)>);

impl std::fmt::Display for CacheScope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => Ok(()),
            Some((secret, (tokens, policies, roles))) => {
                write!(f, "{secret}@{tokens}.{policies}.{roles}")
            }
        }
    }
}

/// The named checks (`service_read`, `key_write`, ...) come from [`Authorize`].
impl Authorize for Authorizer {
    fn allows(&self, permission: Permission<'_>) -> bool {
        match &self.acl {
            None => true,
            Some(acl) => acl.current().1.allows(permission),
        }
    }
}

/// What registering or changing `service` needs: `service:write` on it, and for a proxy
/// on the service it fronts too.
pub fn service_write_permissions(service: &AgentService) -> impl Iterator<Item = Permission<'_>> {
    let fronted = service
        .proxy
        .as_ref()
        .map(|proxy| proxy.destination_service_name.as_str())
        .filter(|name| !name.is_empty());
    std::iter::once(service.service.as_str())
        .chain(fronted)
        .map(|name| Permission::service(Access::Write, name))
}

fn acl_not_found(error: ResolveError) -> AclRefusal {
    AclRefusal(error.to_string())
}

/// A request the token may not make: Consul answers 403 with this text (`Permission
/// denied: ...`, `ACL not found`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AclRefusal(pub String);

/// Set by the request's authorizer when it leaves something out of the answer; the
/// request extension through which the header layer (`http/acl_headers.rs`) learns it.
#[derive(Clone, Default)]
pub struct FilteredByAcls(pub Arc<AtomicBool>);

impl FilteredByAcls {
    /// Records that the answer left something out.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the answer left something out.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
