//! `Authorizer`: what one token may do, answered per permission. It layers the token's
//! merged rules over a static authorizer chosen by `acl.default_policy`, as Consul
//! chains its policy authorizer and its default authorizer: a rule's Allow or Deny is
//! final, and only "no rule applies" reaches the default.

use std::sync::Arc;

use crate::access::Access;
use crate::builtin_policy::GLOBAL_READ_ONLY;
use crate::compiled_rules::CompiledRules;
use crate::decision::Decision;
use crate::default_policy::{DefaultPolicy, StaticAuthorizer};
use crate::denied::{Accessor, Denied};
use crate::disposition::Disposition;
use crate::permission::Permission;
use crate::resource::{LabelledResource, Matching};
use crate::rules::{Grant, Rules};

/// The permissions of one token. Cheap to clone (the compiled rules are shared) and
/// `Send + Sync`, so a resolved token's authorizer can be cached and shared.
#[derive(Clone, Debug)]
pub struct Authorizer {
    rules: Option<Arc<CompiledRules>>,
    fallback: StaticAuthorizer,
    accessor: Accessor,
}

impl Authorizer {
    /// Everything allowed, `acl:*` and snapshots included: the authorizer when ACLs
    /// are disabled.
    pub fn manage_all() -> Authorizer {
        Authorizer::static_layer(StaticAuthorizer::ManageAll)
    }

    /// Everything allowed but `acl:*` and snapshots: `default_policy = "allow"` alone.
    pub fn allow_all() -> Authorizer {
        Authorizer::static_layer(StaticAuthorizer::AllowAll)
    }

    /// Nothing allowed: `default_policy = "deny"` alone.
    pub fn deny_all() -> Authorizer {
        Authorizer::static_layer(StaticAuthorizer::DenyAll)
    }

    fn static_layer(fallback: StaticAuthorizer) -> Authorizer {
        Authorizer {
            rules: None,
            fallback,
            accessor: Accessor::Unknown,
        }
    }

    /// The authorizer of a token whose policies merged into `rules`, over the agent's
    /// default policy.
    pub fn from_rules(rules: &Rules, default_policy: DefaultPolicy) -> Authorizer {
        Authorizer {
            rules: Some(Arc::new(CompiledRules::compile(rules))),
            fallback: default_policy.into(),
            accessor: Accessor::Unknown,
        }
    }

    /// The authorizer of a token holding only `builtin/global-read-only`.
    pub fn global_read_only(default_policy: DefaultPolicy) -> Authorizer {
        let rules = Rules::parse(GLOBAL_READ_ONLY.rules)
            .expect("the built-in read-only rules are valid (tested)");
        Authorizer::from_rules(&rules, default_policy)
    }

    /// The agent recovery token's authorizer (`acl.tokens.agent_recovery`), checked on
    /// the agent without servers: `agent "<node>"` write and `node_prefix ""` read, over
    /// deny-all whatever the default policy.
    pub fn agent_recovery(node_name: &str) -> Authorizer {
        let mut rules = Rules::new();
        rules.add(
            LabelledResource::Agent,
            Matching::Exact,
            node_name,
            Grant::policy(Disposition::Write),
        );
        rules.add(
            LabelledResource::Node,
            Matching::Prefix,
            "",
            Grant::policy(Disposition::Read),
        );
        Authorizer {
            rules: Some(Arc::new(CompiledRules::compile(&rules))),
            fallback: StaticAuthorizer::DenyAll,
            accessor: Accessor::Unknown,
        }
    }

    /// The same authorizer, naming `accessor` in its denials.
    pub fn with_accessor(mut self, accessor: Accessor) -> Authorizer {
        self.accessor = accessor;
        self
    }

    /// Who denials name.
    pub fn accessor(&self) -> &Accessor {
        &self.accessor
    }

    /// Whether the token has `permission`. Use it to filter results.
    pub fn allows(&self, permission: Permission<'_>) -> bool {
        let decision = match &self.rules {
            Some(rules) => rules.decide(&permission),
            None => Decision::Default,
        };
        match decision {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Default => self.fallback.allows(&permission),
        }
    }

    /// `Ok` if the token has `permission`, else the denial to answer with (403).
    pub fn require(&self, permission: Permission<'_>) -> Result<(), Denied> {
        if self.allows(permission) {
            Ok(())
        } else {
            Err(self.denial(&permission))
        }
    }

    /// The denial of `permission` to this token, worded as Consul words it.
    pub fn denial(&self, permission: &Permission<'_>) -> Denied {
        Denied::new(self.accessor.clone(), permission)
    }

    /// Whether connections match no intention are allowed: no rule decides this, only
    /// the default policy (and management).
    pub fn intention_default_allow(&self) -> bool {
        self.fallback != StaticAuthorizer::DenyAll
    }

    /// `acl:read`: read tokens, policies, roles.
    pub fn acl_read(&self) -> bool {
        self.allows(Permission::acl(Access::Read))
    }

    /// `acl:write`: change tokens, policies, roles.
    pub fn acl_write(&self) -> bool {
        self.allows(Permission::acl(Access::Write))
    }

    /// Save or restore a snapshot (`acl:write`).
    pub fn snapshot(&self) -> bool {
        self.allows(Permission::snapshot())
    }

    /// `agent:read` on the agent of `node`.
    pub fn agent_read(&self, node: &str) -> bool {
        self.allows(Permission::agent(Access::Read, node))
    }

    /// `agent:write` on the agent of `node`.
    pub fn agent_write(&self, node: &str) -> bool {
        self.allows(Permission::agent(Access::Write, node))
    }

    /// `event:read` on event `name`.
    pub fn event_read(&self, name: &str) -> bool {
        self.allows(Permission::event(Access::Read, name))
    }

    /// `event:write` (fire) on event `name`.
    pub fn event_write(&self, name: &str) -> bool {
        self.allows(Permission::event(Access::Write, name))
    }

    /// `identity:read` on workload identity `name`.
    pub fn identity_read(&self, name: &str) -> bool {
        self.allows(Permission::identity(Access::Read, name))
    }

    /// `identity:write` on workload identity `name`.
    pub fn identity_write(&self, name: &str) -> bool {
        self.allows(Permission::identity(Access::Write, name))
    }

    /// `intention:read` on intentions to `service` (`*`: any intention).
    pub fn intention_read(&self, service: &str) -> bool {
        self.allows(Permission::intention(Access::Read, service))
    }

    /// `intention:write` on intentions to `service` (`*`: every intention).
    pub fn intention_write(&self, service: &str) -> bool {
        self.allows(Permission::intention(Access::Write, service))
    }

    /// `key:read` on `key`.
    pub fn key_read(&self, key: &str) -> bool {
        self.allows(Permission::key(Access::Read, key))
    }

    /// `key:list` on `prefix` (`?keys`, `?recurse` with `enable_key_list_policy`).
    pub fn key_list(&self, prefix: &str) -> bool {
        self.allows(Permission::key(Access::List, prefix))
    }

    /// `key:write` on `key`.
    pub fn key_write(&self, key: &str) -> bool {
        self.allows(Permission::key(Access::Write, key))
    }

    /// `key:write` on everything under `prefix` (recursive delete).
    pub fn key_write_prefix(&self, prefix: &str) -> bool {
        self.allows(Permission::key_write_prefix(prefix))
    }

    /// `keyring:read`.
    pub fn keyring_read(&self) -> bool {
        self.allows(Permission::keyring(Access::Read))
    }

    /// `keyring:write`.
    pub fn keyring_write(&self) -> bool {
        self.allows(Permission::keyring(Access::Write))
    }

    /// `mesh:read` (or `operator:read` without a mesh rule).
    pub fn mesh_read(&self) -> bool {
        self.allows(Permission::mesh(Access::Read))
    }

    /// `mesh:write` (or `operator:write` without a mesh rule).
    pub fn mesh_write(&self) -> bool {
        self.allows(Permission::mesh(Access::Write))
    }

    /// `node:read` on node `name`.
    pub fn node_read(&self, name: &str) -> bool {
        self.allows(Permission::node(Access::Read, name))
    }

    /// `node:read` on every node.
    pub fn node_read_all(&self) -> bool {
        self.allows(Permission::node_read_all())
    }

    /// `node:write` on node `name`.
    pub fn node_write(&self, name: &str) -> bool {
        self.allows(Permission::node(Access::Write, name))
    }

    /// `operator:read`.
    pub fn operator_read(&self) -> bool {
        self.allows(Permission::operator(Access::Read))
    }

    /// `operator:write`.
    pub fn operator_write(&self) -> bool {
        self.allows(Permission::operator(Access::Write))
    }

    /// `peering:read` (or `operator:read` without a peering rule).
    pub fn peering_read(&self) -> bool {
        self.allows(Permission::peering(Access::Read))
    }

    /// `peering:write` (or `operator:write` without a peering rule).
    pub fn peering_write(&self) -> bool {
        self.allows(Permission::peering(Access::Write))
    }

    /// `query:read` on prepared query `name`.
    pub fn query_read(&self, name: &str) -> bool {
        self.allows(Permission::query(Access::Read, name))
    }

    /// `query:write` on prepared query `name`.
    pub fn query_write(&self, name: &str) -> bool {
        self.allows(Permission::query(Access::Write, name))
    }

    /// `service:read` on service `name`.
    pub fn service_read(&self, name: &str) -> bool {
        self.allows(Permission::service(Access::Read, name))
    }

    /// `service:read` on every service.
    pub fn service_read_all(&self) -> bool {
        self.allows(Permission::service_read_all())
    }

    /// `service:write` on service `name`.
    pub fn service_write(&self, name: &str) -> bool {
        self.allows(Permission::service(Access::Write, name))
    }

    /// `service:write` on at least one service.
    pub fn service_write_any(&self) -> bool {
        self.allows(Permission::service_write_any())
    }

    /// `session:read` on sessions of node `node`.
    pub fn session_read(&self, node: &str) -> bool {
        self.allows(Permission::session(Access::Read, node))
    }

    /// `session:write` on sessions of node `node`.
    pub fn session_write(&self, node: &str) -> bool {
        self.allows(Permission::session(Access::Write, node))
    }
}
