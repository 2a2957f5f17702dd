//! The agent's own catalog writes under ACLs. As in Consul, each service and check is
//! written with the token it was registered with, else `acl.tokens.default`, else the
//! anonymous token; a service needs `service:write` on its name (and on the service a
//! proxy fronts), a check `service:write` on its service or `node:write` on the node.
//!
//! A refused write is logged as Consul logs it ("Service registration blocked by ACLs")
//! and left out; the entry stays registered with the agent, and anti-entropy tries again
//! on every pass, so a token granted later repairs the catalog and a token revoked later
//! stops the entry's updates, loudly, instead of writing them under another identity.

use std::sync::Arc;

use proconsul_acl::{Access, Permission};
use proconsul_api::{AgentService, HealthCheck};
use proconsul_state::State;

use crate::acl::{AclRefusal, service_write_permissions};
use crate::token_resolver::TokenResolver;
use crate::token_resolver::now;

/// Decides which of the agent's writes its tokens allow, against one state version.
/// Only made with ACLs enabled; without them every write is allowed and no gate is asked.
pub struct SyncGate<'a> {
    resolver: &'a Arc<TokenResolver>,
    state: &'a State,
    node: &'a str,
}

impl<'a> SyncGate<'a> {
    /// A gate for the agent on `node`, resolving tokens in `state`.
    pub fn new(resolver: &'a Arc<TokenResolver>, state: &'a State, node: &'a str) -> SyncGate<'a> {
        SyncGate {
            resolver,
            state,
            node,
        }
    }

    /// Registering or changing `service` with `token`.
    pub fn service(&self, token: &str, service: &AgentService) -> Result<(), AclRefusal> {
        let authorizer = self.authorizer(token)?;
        service_write_permissions(service)
            .try_for_each(|permission| refuse(&authorizer, permission))
    }

    /// Registering, changing or removing `check` with `token`.
    pub fn check(&self, token: &str, check: &HealthCheck) -> Result<(), AclRefusal> {
        let permission = if check.service_name.is_empty() {
            Permission::node(Access::Write, self.node)
        } else {
            Permission::service(Access::Write, &check.service_name)
        };
        refuse(self.authorizer(token)?.as_ref(), permission)
    }

    /// Removing the service named `name` with `token`.
    pub fn service_removal(&self, token: &str, name: &str) -> Result<(), AclRefusal> {
        refuse(
            self.authorizer(token)?.as_ref(),
            Permission::service(Access::Write, name),
        )
    }

    /// The rules of `token`, else of the default token, else of the anonymous one.
    fn authorizer(&self, token: &str) -> Result<Arc<proconsul_acl::Authorizer>, AclRefusal> {
        let resolver = self.resolver;
        let default = (token.is_empty())
            .then(|| resolver.default_token())
            .flatten();
        let secret = default.as_deref().unwrap_or(token);
        resolver
            .resolve(self.state, Some(secret), now())
            .map(|(_, authorizer)| authorizer)
            .map_err(|error| AclRefusal(error.to_string()))
    }
}

fn refuse(
    authorizer: &proconsul_acl::Authorizer,
    permission: Permission<'_>,
) -> Result<(), AclRefusal> {
    authorizer
        .require(permission)
        .map_err(|denied| AclRefusal(denied.to_string()))
}

/// Logs a write the agent's token did not allow, with Consul's words for it.
pub fn log_blocked(what: &str, id: &str, refusal: &AclRefusal) {
    tracing::warn!(id, reason = %refusal, "{what} blocked by ACLs");
}
