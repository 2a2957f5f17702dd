//! Merging rule sets: how the policies a token carries (directly, through roles, and
//! synthesized from identities and templates) become one set.
//!
//! Rules collide when they share a rule key (resource, exact-or-prefix, label) or a
//! scalar resource; the stronger disposition wins (`deny > write > list > read`), and a
//! service's `intentions` merge the same way on their own. Merging is therefore a
//! per-key maximum: commutative, associative and idempotent, which the property tests
//! check.

use crate::rules::Rules;

impl Rules {
    /// Merges `other` into `self`.
    pub fn merge(&mut self, other: &Rules) {
        for (resource, disposition) in other.scalars() {
            self.add_scalar(resource, disposition);
        }
        for (key, grant) in other.labelled() {
            self.add(key.resource, key.matching, key.label.clone(), grant);
        }
    }

    /// The merge of any number of rule sets (none gives the empty set).
    pub fn merged<'a>(all: impl IntoIterator<Item = &'a Rules>) -> Rules {
        let mut merged = Rules::new();
        for rules in all {
            merged.merge(rules);
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use crate::disposition::Disposition;
    use crate::resource::{LabelledResource, Matching, ScalarResource};
    use crate::rules::{Grant, Rules};

    #[test]
    fn stronger_disposition_wins_per_key() {
        let mut a = Rules::new();
        a.add(
            LabelledResource::Key,
            Matching::Prefix,
            "app/",
            Grant::policy(Disposition::Write),
        );
        a.add_scalar(ScalarResource::Operator, Disposition::Read);
        let mut b = Rules::new();
        b.add(
            LabelledResource::Key,
            Matching::Prefix,
            "app/",
            Grant::policy(Disposition::Deny),
        );
        b.add(
            LabelledResource::Key,
            Matching::Exact,
            "app/",
            Grant::policy(Disposition::Read),
        );
        b.add_scalar(ScalarResource::Operator, Disposition::Write);
        let merged = Rules::merged([&a, &b]);
        assert_eq!(
            merged.get(LabelledResource::Key, Matching::Prefix, "app/"),
            Some(Grant::policy(Disposition::Deny))
        );
        assert_eq!(
            merged.get(LabelledResource::Key, Matching::Exact, "app/"),
            Some(Grant::policy(Disposition::Read))
        );
        assert_eq!(
            merged.scalar(ScalarResource::Operator),
            Some(Disposition::Write)
        );
    }

    #[test]
    fn intentions_merge_separately_and_written_beats_unwritten() {
        let mut a = Rules::new();
        a.add(
            LabelledResource::Service,
            Matching::Exact,
            "web",
            Grant::policy(Disposition::Write),
        );
        let mut b = Rules::new();
        b.add(
            LabelledResource::Service,
            Matching::Exact,
            "web",
            Grant {
                policy: Disposition::Read,
                intentions: Some(Disposition::Read),
            },
        );
        let merged = Rules::merged([&a, &b]);
        assert_eq!(
            merged.get(LabelledResource::Service, Matching::Exact, "web"),
            Some(Grant {
                policy: Disposition::Write,
                intentions: Some(Disposition::Read)
            })
        );
    }
}
