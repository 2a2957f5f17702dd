//! `Rules`: the rules of one policy, or of all the policies a token carries once merged.
//! One entry per (resource, exact-or-prefix, label) and per scalar resource, which is
//! the unit Consul merges on.

use std::collections::BTreeMap;

use crate::disposition::Disposition;
use crate::resource::{LabelledResource, Matching, ScalarResource};

/// Which labelled rule an entry is: `key_prefix "app/"` is `(Key, Prefix, "app/")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleKey {
    /// The resource the block is about.
    pub resource: LabelledResource,
    /// `key` (exact) or `key_prefix` (prefix).
    pub matching: Matching,
    /// The block's label: a name or a name prefix.
    pub label: String,
}

/// What a labelled rule grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The `policy` disposition.
    pub policy: Disposition,
    /// The `intentions` disposition of service and identity rules, when written; when
    /// absent, the authorizer derives it from `policy` after merging, as Consul does.
    pub intentions: Option<Disposition>,
}

impl Grant {
    /// A grant with only a `policy`.
    pub fn policy(policy: Disposition) -> Grant {
        Grant {
            policy,
            intentions: None,
        }
    }

    /// The grant two rules for the same key merge into: the stronger of each disposition,
    /// where a written `intentions` beats an unwritten one.
    pub fn merge(self, other: Grant) -> Grant {
        Grant {
            policy: self.policy.strongest(other.policy),
            intentions: match (self.intentions, other.intentions) {
                (Some(a), Some(b)) => Some(a.strongest(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// A set of rules with at most one entry per rule key and per scalar resource.
///
/// Built by parsing ([`Rules::parse`]) and by merging ([`Rules::merge`]); compiled into
/// an [`crate::Authorizer`] for lookups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub(crate) scalars: BTreeMap<ScalarResource, Disposition>,
    pub(crate) labelled: BTreeMap<RuleKey, Grant>,
}

impl Rules {
    /// No rules at all: every check falls through to the default policy.
    pub fn new() -> Rules {
        Rules::default()
    }

    /// Adds a scalar rule, merging with an existing one by precedence.
    pub fn add_scalar(&mut self, resource: ScalarResource, disposition: Disposition) {
        self.scalars
            .entry(resource)
            .and_modify(|existing| *existing = existing.strongest(disposition))
            .or_insert(disposition);
    }

    /// Adds a labelled rule, merging with an existing one for the same key by precedence.
    pub fn add(
        &mut self,
        resource: LabelledResource,
        matching: Matching,
        label: impl Into<String>,
        grant: Grant,
    ) {
        let key = RuleKey {
            resource,
            matching,
            label: label.into(),
        };
        self.labelled
            .entry(key)
            .and_modify(|existing| *existing = existing.merge(grant))
            .or_insert(grant);
    }

    /// The scalar rule for `resource`, if any.
    pub fn scalar(&self, resource: ScalarResource) -> Option<Disposition> {
        self.scalars.get(&resource).copied()
    }

    /// The labelled rule with exactly this key, if any.
    pub fn get(
        &self,
        resource: LabelledResource,
        matching: Matching,
        label: &str,
    ) -> Option<Grant> {
        self.labelled
            .get(&RuleKey {
                resource,
                matching,
                label: label.to_owned(),
            })
            .copied()
    }

    /// Every labelled rule, ordered by resource, matching and label.
    pub fn labelled(&self) -> impl Iterator<Item = (&RuleKey, Grant)> {
        self.labelled.iter().map(|(key, grant)| (key, *grant))
    }

    /// Every scalar rule, ordered by resource.
    pub fn scalars(&self) -> impl Iterator<Item = (ScalarResource, Disposition)> + '_ {
        self.scalars.iter().map(|(resource, d)| (*resource, *d))
    }

    /// Whether there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.scalars.is_empty() && self.labelled.is_empty()
    }
}
