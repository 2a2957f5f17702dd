//! `TokenRules`: gathering everything a token carries (its policies, its roles'
//! policies, identities and templated policies) into one merged rule set for the local
//! datacenter, then the token's authorizer.
//!
//! Resolving links (policy IDs, role IDs) to their contents is the caller's job; this
//! only merges what it is handed, skipping what does not apply in this datacenter.

use crate::authorizer::Authorizer;
use crate::default_policy::DefaultPolicy;
use crate::denied::Accessor;
use crate::error::RuleError;
use crate::identity::{NodeIdentity, ServiceIdentity};
use crate::rules::Rules;
use crate::synthetic_policy::SyntheticPolicy;
use crate::templated_policy::{TemplateError, TemplatedPolicy};

/// Why an identity or templated policy could not be added.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The templated policy is unknown or its variables are invalid.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The synthetic rules do not parse (an unvalidated name with quotes or newlines).
    #[error(transparent)]
    Rules(#[from] RuleError),
}

/// The merged rules of one token in one datacenter, built up piece by piece.
#[derive(Clone, Debug)]
pub struct TokenRules {
    datacenter: String,
    rules: Rules,
}

impl TokenRules {
    /// Nothing yet, for a token used in `datacenter`.
    pub fn new(datacenter: impl Into<String>) -> TokenRules {
        TokenRules {
            datacenter: datacenter.into(),
            rules: Rules::new(),
        }
    }

    /// Adds a stored policy's parsed rules, if its `Datacenters` (empty = all) include
    /// this datacenter.
    pub fn add_policy(&mut self, rules: &Rules, datacenters: &[String]) -> &mut TokenRules {
        if datacenters.is_empty() || datacenters.contains(&self.datacenter) {
            self.rules.merge(rules);
        }
        self
    }

    /// Adds a service identity's synthetic policy, if it applies in this datacenter.
    pub fn add_service_identity(
        &mut self,
        identity: &ServiceIdentity,
    ) -> Result<&mut TokenRules, GrantError> {
        self.add_synthetic(identity.synthetic_policy())
    }

    /// Adds a node identity's synthetic policy, if the identity is for this datacenter.
    pub fn add_node_identity(
        &mut self,
        identity: &NodeIdentity,
    ) -> Result<&mut TokenRules, GrantError> {
        self.add_synthetic(identity.synthetic_policy())
    }

    /// Adds a templated policy's synthetic policy, if it applies in this datacenter.
    pub fn add_templated_policy(
        &mut self,
        templated: &TemplatedPolicy,
    ) -> Result<&mut TokenRules, GrantError> {
        self.add_synthetic(templated.synthetic_policy()?)
    }

    fn add_synthetic(&mut self, policy: SyntheticPolicy) -> Result<&mut TokenRules, GrantError> {
        if policy.applies_in(&self.datacenter) {
            self.rules.merge(&policy.parsed_rules()?);
        }
        Ok(self)
    }

    /// The merged rules so far.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The token's authorizer over the agent's default policy, naming `accessor` in
    /// denials.
    pub fn authorizer(&self, default_policy: DefaultPolicy, accessor: Accessor) -> Authorizer {
        Authorizer::from_rules(&self.rules, default_policy).with_accessor(accessor)
    }
}
