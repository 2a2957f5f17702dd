//! Synthetic policies: the policies Consul generates from service identities, node
//! identities and templated policies, with the ID and name it gives them (the templated
//! policy preview endpoint returns them as they are).

use std::fmt::Write;

use crate::error::RuleError;
use crate::rules::Rules;

/// FNV-128a of the empty input. Consul computes a synthetic policy's ID as Go's
/// `fnv.New128a().Sum([]byte(rules))`, which appends the (empty) hash state to the rule
/// bytes instead of hashing them; the ID is therefore the rules in hex plus this.
const FNV_128A_OF_NOTHING: &str = "6c62272e07bb014262b821756295c58d";

/// A policy generated from an identity or a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticPolicy {
    /// `hex(rules)` followed by `6c62272e07bb014262b821756295c58d`.
    pub id: String,
    /// `synthetic-policy-<id>`.
    pub name: String,
    /// E.g. `synthetic policy for service identity "web"`.
    pub description: String,
    /// The rule text, exactly as Consul renders it.
    pub rules: String,
    /// Where the policy applies; empty means every datacenter.
    pub datacenters: Vec<String>,
}

impl SyntheticPolicy {
    /// A synthetic policy for `rules`, with Consul's ID and name.
    pub fn new(rules: String, description: String, datacenters: Vec<String>) -> SyntheticPolicy {
        let id = synthetic_policy_id(&rules);
        SyntheticPolicy {
            name: format!("synthetic-policy-{id}"),
            id,
            description,
            rules,
            datacenters,
        }
    }

    /// The parsed rules. Rendering validated names cannot fail; a name that was not
    /// validated (quotes, newlines) can make the text unparsable.
    pub fn parsed_rules(&self) -> Result<Rules, RuleError> {
        Rules::parse(&self.rules)
    }

    /// Whether the policy applies in `datacenter`.
    pub fn applies_in(&self, datacenter: &str) -> bool {
        self.datacenters.is_empty() || self.datacenters.iter().any(|dc| dc == datacenter)
    }
}

/// The ID Consul gives the synthetic policy with these rules.
pub fn synthetic_policy_id(rules: &str) -> String {
    let mut id = String::with_capacity(rules.len() * 2 + FNV_128A_OF_NOTHING.len());
    for byte in rules.bytes() {
        let _ = write!(id, "{byte:02x}");
    }
    id.push_str(FNV_128A_OF_NOTHING);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_hex_of_rules_then_empty_fnv() {
        assert_eq!(synthetic_policy_id(""), FNV_128A_OF_NOTHING);
        // The docs' preview sample ID starts with "\nservice " in hex.
        assert!(synthetic_policy_id("\nservice \"api\"").starts_with("0a7365727669636520"));
        let policy = SyntheticPolicy::new("acl = \"read\"".into(), String::new(), vec![]);
        assert_eq!(policy.name, format!("synthetic-policy-{}", policy.id));
    }
}
