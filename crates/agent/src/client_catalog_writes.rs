//! A client agent's own catalog writes under ACLs. The client cannot judge tokens
//! itself (it holds no ACL tables), so each write carries the token it is made with and
//! the server decides ([`crate::client_write_acl`]): a service and the checks that share
//! its token go together, other checks in one write per token. A write the server
//! refuses is logged as a server's own gate logs it ([`crate::sync_acl`]) and counted
//! as blocked; the entries stay with the agent and anti-entropy tries again.

use std::collections::BTreeMap;

use proconsul_api::{AgentService, HealthCheck};

use crate::acl::AclRefusal;
use crate::agent::AgentInner;
use crate::error::WriteError;
use crate::local::Entry;
use crate::server_link::LinkError;
use crate::sync_acl;

impl AgentInner {
    /// [`AgentInner::register_local`] on a client agent with ACLs: the answer is how
    /// many entries the servers refused.
    pub(crate) async fn register_through_servers(
        &self,
        service: Option<AgentService>,
        checks: Vec<HealthCheck>,
    ) -> Result<usize, WriteError> {
        let check_token = |check: &HealthCheck| {
            self.entry_token(&self.local.token(&Entry::Check(check.check_id.clone())))
        };
        let mut blocked = 0;
        let mut others: BTreeMap<String, Vec<HealthCheck>> = BTreeMap::new();
        let mut service_checks = Vec::new();
        let service_token = service.as_ref().map(|service| {
            self.entry_token(&self.local.token(&Entry::Service(service.id.clone())))
        });
        for check in checks {
            let token = check_token(&check);
            match (&service, &service_token) {
                (Some(service), Some(service_token))
                    if check.service_id == service.id || token == *service_token =>
                {
                    service_checks.push(check);
                }
                _ => others.entry(token).or_default().push(check),
            }
        }
        if let (Some(service), Some(token)) = (service, service_token) {
            let id = service.id.clone();
            let entries = 1 + service_checks.len();
            let written = self
                .commit_as(self.own_registration(Some(service), service_checks), &token)
                .await;
            if blocked_by_servers(written, "Service registration", &id)? {
                blocked += entries;
            }
        }
        for (token, checks) in others {
            let entries = checks.len();
            let first = checks[0].check_id.clone();
            let written = self
                .commit_as(self.own_registration(None, checks), &token)
                .await;
            if blocked_by_servers(written, "Check registration", &first)? {
                blocked += entries;
            }
        }
        Ok(blocked)
    }
}

/// Whether the servers refused the write's token (logged); other failures are errors.
fn blocked_by_servers(
    written: Result<(), WriteError>,
    what: &str,
    id: &str,
) -> Result<bool, WriteError> {
    match written {
        Ok(()) => Ok(false),
        Err(WriteError::Servers(LinkError::Denied(refusal))) => {
            sync_acl::log_blocked(what, id, &AclRefusal(refusal));
            Ok(true)
        }
        Err(error) => Err(error),
    }
}
