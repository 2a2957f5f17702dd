//! The lookup structure for one labelled resource: exact rules and prefix rules, each in
//! a patricia tree (`patricia_tree`), so a check costs O(length of the name) whatever
//! the number of rules. This runs on every request, often many times (filtering).

use patricia_tree::PatriciaMap;

use crate::access::Access;
use crate::decision::Decision;
use crate::disposition::Disposition;
use crate::resource::Matching;

/// The compiled rules of one labelled resource (one of key, service, node, ...).
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleTree {
    exact: PatriciaMap<Disposition>,
    prefix: PatriciaMap<Disposition>,
}

impl RuleTree {
    /// Adds one (already merged) rule.
    pub(crate) fn insert(&mut self, matching: Matching, label: &str, disposition: Disposition) {
        let map = match matching {
            Matching::Exact => &mut self.exact,
            Matching::Prefix => &mut self.prefix,
        };
        map.insert(label, disposition);
    }

    /// The rule governing `name`: the exact rule for it if there is one (even over a
    /// `deny` prefix), else the prefix rule with the longest label that starts `name`.
    pub(crate) fn governing(&self, name: &str) -> Option<Disposition> {
        if let Some(exact) = self.exact.get(name) {
            return Some(*exact);
        }
        self.prefix
            .get_longest_common_prefix(name)
            .map(|(_, disposition)| *disposition)
    }

    /// Consul's `KeyWritePrefix`: may everything under `prefix` be written (a recursive
    /// delete)? The longest prefix rule covering `prefix` must grant write, and no rule,
    /// exact or prefix, at or under `prefix` may grant less than write.
    pub(crate) fn write_prefix(&self, prefix: &str) -> Decision {
        let beneath = self
            .exact
            .iter_prefix(prefix.as_bytes())
            .chain(self.prefix.iter_prefix(prefix.as_bytes()));
        for (_, disposition) in beneath {
            if *disposition != Disposition::Write {
                return Decision::Deny;
            }
        }
        let covering = self
            .prefix
            .get_longest_common_prefix(prefix)
            .map(|(_, disposition)| *disposition);
        Decision::of_rule(covering, Access::Write)
    }

    /// Consul's "any allowed" (e.g. `service:write` on some service, intentions `*`
    /// read): allowed if any rule grants `access`; otherwise denied if a `""` prefix rule
    /// refuses it, else no opinion.
    pub(crate) fn any_allowed(&self, access: Access) -> Decision {
        if self.all_rules().any(|d| d.grants(access)) {
            return Decision::Allow;
        }
        match self.prefix.get("") {
            Some(_) => Decision::Deny,
            None => Decision::Default,
        }
    }

    /// Consul's "all allowed" (e.g. `service:read` on every service, intentions `*`
    /// write): denied if any rule refuses `access`; otherwise allowed only if a `""`
    /// prefix rule grants it, else no opinion.
    pub(crate) fn all_allowed(&self, access: Access) -> Decision {
        if self.all_rules().any(|d| !d.grants(access)) {
            return Decision::Deny;
        }
        match self.prefix.get("") {
            Some(_) => Decision::Allow,
            None => Decision::Default,
        }
    }

    fn all_rules(&self) -> impl Iterator<Item = Disposition> + '_ {
        self.exact.values().chain(self.prefix.values()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(rules: &[(Matching, &str, Disposition)]) -> RuleTree {
        let mut tree = RuleTree::default();
        for (matching, label, disposition) in rules {
            tree.insert(*matching, label, *disposition);
        }
        tree
    }

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins() {
        use Disposition::*;
        use Matching::*;
        let tree = tree(&[
            (Prefix, "", Read),
            (Prefix, "foo", Deny),
            (Prefix, "foo/bar", Write),
            (Exact, "foo/baz", Write),
        ]);
        assert_eq!(tree.governing("zzz"), Some(Read));
        assert_eq!(tree.governing(""), Some(Read));
        assert_eq!(tree.governing("foo"), Some(Deny));
        assert_eq!(tree.governing("foo/ba"), Some(Deny));
        assert_eq!(tree.governing("foo/bar/x"), Some(Write));
        assert_eq!(tree.governing("foo/baz"), Some(Write));
        assert_eq!(tree.governing("foo/bazz"), Some(Deny));
        assert_eq!(RuleTree::default().governing("x"), None);
    }

    #[test]
    fn write_prefix_needs_write_everywhere_beneath() {
        use Disposition::*;
        use Matching::*;
        let tree = tree(&[(Prefix, "", Write), (Exact, "app/secret", Read)]);
        assert_eq!(tree.write_prefix("app/"), Decision::Deny);
        assert_eq!(tree.write_prefix("app/secret"), Decision::Deny);
        assert_eq!(tree.write_prefix("other/"), Decision::Allow);
        let tree = tree_of_one(Prefix, "app/", Write);
        assert_eq!(tree.write_prefix("app/x"), Decision::Allow);
        assert_eq!(tree.write_prefix("ap"), Decision::Default);
    }

    fn tree_of_one(matching: Matching, label: &str, d: Disposition) -> RuleTree {
        tree(&[(matching, label, d)])
    }
}
