//! The three-valued answer of one layer of authorization, before the default policy.

use crate::access::Access;
use crate::disposition::Disposition;

/// What a token's rules say about one permission.
///
/// `Default` means "no rule applies": the next layer (the agent's default policy)
/// decides. `Deny` from a rule is final; that is how `deny` beats `default_policy =
/// "allow"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A rule grants the access.
    Allow,
    /// A rule refuses the access.
    Deny,
    /// No rule applies.
    Default,
}

impl Decision {
    /// The decision of a rule with `disposition` on a request for `access`.
    pub(crate) fn of(disposition: Disposition, access: Access) -> Decision {
        if disposition.grants(access) {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }

    /// The decision of an optional rule: `Default` when there is none.
    pub(crate) fn of_rule(rule: Option<Disposition>, access: Access) -> Decision {
        rule.map_or(Decision::Default, |d| Decision::of(d, access))
    }
}
