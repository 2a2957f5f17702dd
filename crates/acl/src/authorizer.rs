//! `Authorizer`: what one token may do, answered per permission. It layers the token's
//! merged rules over a static authorizer chosen by `acl.default_policy`, as Consul
//! chains its policy authorizer and its default authorizer: a rule's Allow or Deny is
//! final, and only "no rule applies" reaches the default.

use std::sync::Arc;

use crate::authorize::Authorize;
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
}

impl Authorize for Authorizer {
    fn allows(&self, permission: Permission<'_>) -> bool {
        Authorizer::allows(self, permission)
    }
}
