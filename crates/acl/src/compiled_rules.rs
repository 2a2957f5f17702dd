//! A merged rule set compiled for lookups: one [`RuleTree`] per labelled resource, one
//! more for intentions, and the scalar rules. Answers Allow, Deny or "no rule applies".

use crate::access::Access;
use crate::decision::Decision;
use crate::disposition::Disposition;
use crate::permission::{Permission, Target};
use crate::resource::{LabelledResource, Resource, ScalarResource};
use crate::rule_tree::RuleTree;
use crate::rules::Rules;

/// The token's own layer of authorization (Consul's policy authorizer).
#[derive(Clone, Debug, Default)]
pub(crate) struct CompiledRules {
    agent: RuleTree,
    event: RuleTree,
    identity: RuleTree,
    key: RuleTree,
    node: RuleTree,
    query: RuleTree,
    service: RuleTree,
    session: RuleTree,
    /// Service rules' intentions: the written value, or (when unwritten) `read` for a
    /// `read`/`write` service rule and `deny` for a `deny` one, derived after merging.
    intention: RuleTree,
    acl: Option<Disposition>,
    keyring: Option<Disposition>,
    mesh: Option<Disposition>,
    operator: Option<Disposition>,
    peering: Option<Disposition>,
}

impl CompiledRules {
    /// Compiles merged rules.
    pub(crate) fn compile(rules: &Rules) -> CompiledRules {
        let mut compiled = CompiledRules {
            acl: rules.scalar(ScalarResource::Acl),
            keyring: rules.scalar(ScalarResource::Keyring),
            mesh: rules.scalar(ScalarResource::Mesh),
            operator: rules.scalar(ScalarResource::Operator),
            peering: rules.scalar(ScalarResource::Peering),
            ..CompiledRules::default()
        };
        for (key, grant) in rules.labelled() {
            compiled
                .tree_mut(key.resource)
                .insert(key.matching, &key.label, grant.policy);
            if key.resource == LabelledResource::Service {
                let intentions = grant.intentions.unwrap_or(match grant.policy {
                    Disposition::Read | Disposition::Write => Disposition::Read,
                    Disposition::List | Disposition::Deny => Disposition::Deny,
                });
                compiled
                    .intention
                    .insert(key.matching, &key.label, intentions);
            }
        }
        compiled
    }

    fn tree_mut(&mut self, resource: LabelledResource) -> &mut RuleTree {
        match resource {
            LabelledResource::Agent => &mut self.agent,
            LabelledResource::Event => &mut self.event,
            LabelledResource::Identity => &mut self.identity,
            LabelledResource::Key => &mut self.key,
            LabelledResource::Node => &mut self.node,
            LabelledResource::Query => &mut self.query,
            LabelledResource::Service => &mut self.service,
            LabelledResource::Session => &mut self.session,
        }
    }

    /// What these rules say about `permission`.
    pub(crate) fn decide(&self, permission: &Permission<'_>) -> Decision {
        let access = permission.access;
        let tree = match permission.resource {
            Resource::Acl => return Decision::of_rule(self.acl, access),
            Resource::Keyring => return Decision::of_rule(self.keyring, access),
            Resource::Operator => return Decision::of_rule(self.operator, access),
            Resource::Mesh => return Decision::of_rule(self.mesh.or(self.operator), access),
            Resource::Peering => return Decision::of_rule(self.peering.or(self.operator), access),
            Resource::Intention => {
                if permission.target == Target::Name("*") {
                    return match access {
                        Access::Write => self.intention.all_allowed(access),
                        Access::Read | Access::List => self.intention.any_allowed(access),
                    };
                }
                &self.intention
            }
            Resource::Agent => &self.agent,
            Resource::Event => &self.event,
            Resource::Identity => &self.identity,
            Resource::Key => &self.key,
            Resource::Node => &self.node,
            Resource::Query => &self.query,
            Resource::Service => &self.service,
            Resource::Session => &self.session,
        };
        match permission.target {
            Target::Name(name) => Decision::of_rule(tree.governing(name), access),
            Target::Subtree(prefix) => tree.write_prefix(prefix),
            Target::EveryName => tree.all_allowed(access),
            Target::SomeName => tree.any_allowed(access),
            // Named resources have no global rule; only the default policy can decide.
            Target::Global => Decision::Default,
        }
    }
}
