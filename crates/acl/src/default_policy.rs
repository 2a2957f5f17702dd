//! The agent's `acl.default_policy` and the static authorizers behind it, which decide
//! whatever a token's own rules leave open.

use crate::permission::Permission;
use crate::resource::Resource;

/// `acl.default_policy`: what happens when no rule of the token applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DefaultPolicy {
    /// Allow, except `acl:*` and snapshots, which always need a rule (Consul's
    /// allow-all authorizer has `allowManage = false`).
    #[default]
    Allow,
    /// Deny.
    Deny,
}

/// The last layer of an authorizer: a fixed answer for everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // Consul's names: ManageAll, AllowAll, DenyAll.
pub(crate) enum StaticAuthorizer {
    /// Everything, `acl:*` and snapshots included (ACLs disabled).
    ManageAll,
    /// Everything but `acl:*` and snapshots (`default_policy = "allow"`).
    AllowAll,
    /// Nothing (`default_policy = "deny"`).
    DenyAll,
}

impl StaticAuthorizer {
    /// Whether this layer allows `permission`.
    pub(crate) fn allows(self, permission: &Permission<'_>) -> bool {
        match self {
            StaticAuthorizer::ManageAll => true,
            StaticAuthorizer::AllowAll => permission.resource != Resource::Acl,
            StaticAuthorizer::DenyAll => false,
        }
    }
}

impl From<DefaultPolicy> for StaticAuthorizer {
    fn from(policy: DefaultPolicy) -> StaticAuthorizer {
        match policy {
            DefaultPolicy::Allow => StaticAuthorizer::AllowAll,
            DefaultPolicy::Deny => StaticAuthorizer::DenyAll,
        }
    }
}
