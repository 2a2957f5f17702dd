//! Reading the ACL tables: single objects and lists as the HTTP layer returns them (links
//! carrying their current names, links to deleted objects left out), the O(1) lookup
//! of a request's token by secret, and the privileges a token carries.

use std::collections::BTreeSet;
use std::sync::Arc;

use proconsul_api::acl::{
    AclAuthMethod, AclBindingRule, AclLink, AclNodeIdentity, AclPolicy, AclRole,
    AclServiceIdentity, AclTemplatedPolicy, AclToken,
};
use proconsul_api::go_time::GoTime;

use super::tables::fold;
use crate::state::{Key, State};

/// The filters of `GET /v1/acl/tokens`; all that are set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclTokenFilter {
    /// `?policy=<id>`: tokens linked to this policy directly.
    pub policy: Option<String>,
    /// `?role=<id>`: tokens linked to this role.
    pub role: Option<String>,
    /// `?authmethod=<name>`: tokens made by logins through this method.
    pub auth_method: Option<String>,
    /// `?servicename=<name>`: tokens with a service identity for this service.
    pub service_name: Option<String>,
    /// Leaves out tokens expired at this time (Consul's list does).
    pub now: Option<GoTime>,
}

/// Everything a token grants, gathered through its roles: the policies (each once),
/// and the identities and templated policies that stand for synthetic policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclPrivileges {
    pub policies: Vec<Arc<AclPolicy>>,
    pub service_identities: Vec<AclServiceIdentity>,
    pub node_identities: Vec<AclNodeIdentity>,
    pub templated_policies: Vec<AclTemplatedPolicy>,
}

impl State {
    /// Links with their targets' current names; links to deleted targets left out.
    fn resolve_links(
        &self,
        links: &[AclLink],
        name_of: impl Fn(&str) -> Option<String>,
    ) -> Vec<AclLink> {
        links
            .iter()
            .filter_map(|link| {
                name_of(fold(&link.id).as_str()).map(|name| AclLink {
                    id: link.id.clone(),
                    name,
                })
            })
            .collect()
    }

    /// A stored token as it is returned.
    pub(crate) fn resolve_token(&self, token: &AclToken) -> AclToken {
        AclToken {
            policies: self.resolve_links(&token.policies, |key| {
                self.acl.policies.get(key).map(|p| p.name.clone())
            }),
            roles: self.resolve_links(&token.roles, |key| {
                self.acl.roles.get(key).map(|r| r.name.clone())
            }),
            ..token.clone()
        }
    }

    /// A stored role as it is returned.
    pub(crate) fn resolve_role(&self, role: &AclRole) -> AclRole {
        AclRole {
            policies: self.resolve_links(&role.policies, |key| {
                self.acl.policies.get(key).map(|p| p.name.clone())
            }),
            ..role.clone()
        }
    }

    /// The token with this AccessorID (any case), as returned. Expired tokens are
    /// included: check [`AclToken::is_expired`] against the request's time.
    pub fn acl_token(&self, accessor_id: &str) -> Option<AclToken> {
        let token = self.acl.tokens.get(fold(accessor_id).as_str())?;
        Some(self.resolve_token(token))
    }

    /// The token with exactly this SecretID, as returned.
    pub fn acl_token_by_secret(&self, secret_id: &str) -> Option<AclToken> {
        Some(self.resolve_token(self.acl.token_by_secret(secret_id)?))
    }

    /// The stored token with exactly this SecretID, without copying: the per-request
    /// path (its links carry IDs only; see [`State::acl_token_privileges`]).
    pub fn acl_token_entry_by_secret(&self, secret_id: &str) -> Option<&Arc<AclToken>> {
        self.acl.token_by_secret(secret_id)
    }

    /// The tokens that pass `filter`, as returned, ordered by AccessorID.
    pub fn acl_tokens(&self, filter: &AclTokenFilter) -> Vec<AclToken> {
        let linked = |links: &[AclLink], id: &Option<String>| {
            id.as_ref()
                .is_none_or(|id| links.iter().any(|link| fold(&link.id) == fold(id)))
        };
        self.acl
            .tokens
            .values()
            .filter(|token| {
                linked(&token.policies, &filter.policy)
                    && linked(&token.roles, &filter.role)
                    && filter
                        .auth_method
                        .as_ref()
                        .is_none_or(|method| &token.auth_method == method)
                    && filter.service_name.as_ref().is_none_or(|name| {
                        token
                            .service_identities
                            .iter()
                            .any(|identity| &identity.service_name == name)
                    })
                    && filter.now.is_none_or(|now| !token.is_expired(now))
            })
            .map(|token| self.resolve_token(token))
            .collect()
    }

    /// The policy with this ID (any case).
    pub fn acl_policy(&self, id: &str) -> Option<&Arc<AclPolicy>> {
        self.acl.policies.get(fold(id).as_str())
    }

    /// The policy with this name (any case).
    pub fn acl_policy_by_name(&self, name: &str) -> Option<&Arc<AclPolicy>> {
        self.acl.policy_by_name(name)
    }

    /// Every policy, ordered by ID.
    pub fn acl_policies(&self) -> impl Iterator<Item = &Arc<AclPolicy>> {
        self.acl.policies.values()
    }

    /// The role with this ID (any case), as returned.
    pub fn acl_role(&self, id: &str) -> Option<AclRole> {
        Some(self.resolve_role(self.acl.roles.get(fold(id).as_str())?))
    }

    /// The role with this name (any case), as returned.
    pub fn acl_role_by_name(&self, name: &str) -> Option<AclRole> {
        Some(self.resolve_role(self.acl.role_by_name(name)?))
    }

    /// The roles (those linked to `policy` when given), as returned, ordered by ID.
    pub fn acl_roles(&self, policy: Option<&str>) -> Vec<AclRole> {
        let policy = policy.map(fold);
        self.acl
            .roles
            .values()
            .filter(|role| {
                policy
                    .as_ref()
                    .is_none_or(|policy| role.policies.iter().any(|link| fold(&link.id) == *policy))
            })
            .map(|role| self.resolve_role(role))
            .collect()
    }

    /// The auth method with this name (any case).
    pub fn acl_auth_method(&self, name: &str) -> Option<&Arc<AclAuthMethod>> {
        self.acl.auth_methods.get(fold(name).as_str())
    }

    /// Every auth method, ordered by name.
    pub fn acl_auth_methods(&self) -> impl Iterator<Item = &Arc<AclAuthMethod>> {
        self.acl.auth_methods.values()
    }

    /// The binding rule with this ID (any case).
    pub fn acl_binding_rule(&self, id: &str) -> Option<&Arc<AclBindingRule>> {
        self.acl.binding_rules.get(fold(id).as_str())
    }

    /// The binding rules (those of `auth_method` when given), ordered by ID.
    pub fn acl_binding_rules(&self, auth_method: Option<&str>) -> Vec<&Arc<AclBindingRule>> {
        let method = auth_method.map(fold);
        self.acl
            .binding_rules
            .values()
            .filter(|rule| {
                method
                    .as_ref()
                    .is_none_or(|m| fold(&rule.auth_method) == *m)
            })
            .collect()
    }

    /// `None` while the cluster may be bootstrapped; after a bootstrap, its log index
    /// (the reset index an operator writes to `acl-bootstrap-reset`).
    pub fn acl_bootstrap_reset_index(&self) -> Option<u64> {
        (self.acl.bootstrap_index != 0).then_some(self.acl.bootstrap_index)
    }

    /// When the next token expires, for the leader's expiry timer.
    pub fn acl_next_token_expiry(&self) -> Option<GoTime> {
        self.acl.expiries.get_min().map(|(at, _)| *at)
    }

    /// Everything `token` grants: its policies and those of its roles (each once, in
    /// link order, deleted ones left out), and the identities and templated policies of
    /// the token and its roles.
    pub fn acl_token_privileges(&self, token: &AclToken) -> AclPrivileges {
        let mut privileges = AclPrivileges::default();
        let mut seen: BTreeSet<Key> = BTreeSet::new();
        let mut add_policies = |links: &[AclLink], privileges: &mut AclPrivileges| {
            for link in links {
                let key = fold(&link.id);
                if let Some(policy) = self.acl.policies.get(key.as_str())
                    && seen.insert(key)
                {
                    privileges.policies.push(policy.clone());
                }
            }
        };
        add_policies(&token.policies, &mut privileges);
        privileges
            .service_identities
            .extend(token.service_identities.iter().cloned());
        privileges
            .node_identities
            .extend(token.node_identities.iter().cloned());
        privileges
            .templated_policies
            .extend(token.templated_policies.iter().cloned());
        for link in &token.roles {
            if let Some(role) = self.acl.roles.get(fold(&link.id).as_str()) {
                add_policies(&role.policies, &mut privileges);
                privileges
                    .service_identities
                    .extend(role.service_identities.iter().cloned());
                privileges
                    .node_identities
                    .extend(role.node_identities.iter().cloned());
                privileges
                    .templated_policies
                    .extend(role.templated_policies.iter().cloned());
            }
        }
        privileges
    }
}
