//! Property tests of the merge and lookup laws, against a naive statement of Consul's
//! rules: a list of rules, scanned in full for every question.

use proconsul_acl::{
    Access, Authorize, Authorizer, DefaultPolicy, Disposition, Grant, LabelledResource, Matching,
    Rules,
};
use proptest::prelude::*;

/// One written rule.
#[derive(Clone, Debug)]
struct Rule {
    resource: LabelledResource,
    matching: Matching,
    label: String,
    policy: Disposition,
    intentions: Option<Disposition>,
}

/// Labels and names from a tiny alphabet, so that prefixes overlap often.
fn name() -> impl Strategy<Value = String> {
    "[ab/]{0,4}"
}

fn disposition(allow_list: bool) -> impl Strategy<Value = Disposition> {
    let all = vec![
        Disposition::Read,
        Disposition::List,
        Disposition::Write,
        Disposition::Deny,
    ];
    proptest::sample::select(all).prop_filter("list is for keys only", move |d| {
        allow_list || *d != Disposition::List
    })
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        proptest::sample::select(vec![
            LabelledResource::Key,
            LabelledResource::Service,
            LabelledResource::Node,
        ]),
        proptest::sample::select(vec![Matching::Exact, Matching::Prefix]),
        name(),
    )
        .prop_flat_map(|(resource, matching, label)| {
            (
                disposition(resource == LabelledResource::Key),
                proptest::option::of(disposition(false)),
            )
                .prop_map(move |(policy, intentions)| Rule {
                    resource,
                    matching,
                    label: label.clone(),
                    policy,
                    intentions: intentions.filter(|_| resource == LabelledResource::Service),
                })
        })
}

fn rule_list() -> impl Strategy<Value = Vec<Rule>> {
    proptest::collection::vec(rule(), 0..12)
}

fn to_rules(list: &[Rule]) -> Rules {
    let mut rules = Rules::new();
    for rule in list {
        rules.add(
            rule.resource,
            rule.matching,
            rule.label.clone(),
            Grant {
                policy: rule.policy,
                intentions: rule.intentions,
            },
        );
    }
    rules
}

/// The strongest of the rules for exactly this key, if any.
fn naive_rule(
    list: &[Rule],
    resource: LabelledResource,
    matching: Matching,
    label: &str,
) -> Option<Disposition> {
    list.iter()
        .filter(|r| r.resource == resource && r.matching == matching && r.label == label)
        .map(|r| r.policy)
        .max()
}

/// Consul's lookup, stated naively: the exact rule, else the longest prefix rule.
fn naive_governing(list: &[Rule], resource: LabelledResource, name: &str) -> Option<Disposition> {
    if let Some(exact) = naive_rule(list, resource, Matching::Exact, name) {
        return Some(exact);
    }
    let longest = list
        .iter()
        .filter(|r| {
            r.resource == resource && r.matching == Matching::Prefix && name.starts_with(&r.label)
        })
        .map(|r| r.label.len())
        .max()?;
    naive_rule(list, resource, Matching::Prefix, &name[..longest])
}

fn naive_allows(
    list: &[Rule],
    resource: LabelledResource,
    access: Access,
    name: &str,
    default: DefaultPolicy,
) -> bool {
    match naive_governing(list, resource, name) {
        Some(d) => d.grants(access),
        None => default == DefaultPolicy::Allow,
    }
}

fn check(authz: &Authorizer, resource: LabelledResource, access: Access, name: &str) -> bool {
    match (resource, access) {
        (LabelledResource::Key, Access::Read) => authz.key_read(name),
        (LabelledResource::Key, Access::List) => authz.key_list(name),
        (LabelledResource::Key, Access::Write) => authz.key_write(name),
        (LabelledResource::Service, Access::Write) => authz.service_write(name),
        (LabelledResource::Service, _) => authz.service_read(name),
        (LabelledResource::Node, Access::Write) => authz.node_write(name),
        (LabelledResource::Node, _) => authz.node_read(name),
        _ => unreachable!("only keys, services and nodes are generated"),
    }
}

fn default_policy() -> impl Strategy<Value = DefaultPolicy> {
    proptest::sample::select(vec![DefaultPolicy::Allow, DefaultPolicy::Deny])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn merge_is_commutative_associative_idempotent(a in rule_list(), b in rule_list(), c in rule_list()) {
        let (a, b, c) = (to_rules(&a), to_rules(&b), to_rules(&c));
        prop_assert_eq!(Rules::merged([&a, &b]), Rules::merged([&b, &a]));
        prop_assert_eq!(
            Rules::merged([&Rules::merged([&a, &b]), &c]),
            Rules::merged([&a, &Rules::merged([&b, &c])])
        );
        prop_assert_eq!(Rules::merged([&a, &a]), a.clone());
        prop_assert_eq!(Rules::merged([&a, &Rules::new()]), a);
    }

    #[test]
    fn merge_keeps_the_strongest_of_each_key(policies in proptest::collection::vec(rule_list(), 0..4)) {
        let merged = Rules::merged(policies.iter().map(|p| to_rules(p)).collect::<Vec<_>>().iter());
        let all: Vec<Rule> = policies.concat();
        for rule in &all {
            let strongest = naive_rule(&all, rule.resource, rule.matching, &rule.label);
            let got = merged.get(rule.resource, rule.matching, &rule.label).map(|g| g.policy);
            prop_assert_eq!(got, strongest);
            // Deny always wins: one deny anywhere makes the merged rule a deny.
            if rule.policy == Disposition::Deny {
                prop_assert_eq!(got, Some(Disposition::Deny));
            }
        }
        prop_assert_eq!(merged.labelled().count(), {
            let mut keys: Vec<_> = all.iter().map(|r| (r.resource, r.matching, r.label.clone())).collect();
            keys.sort();
            keys.dedup();
            keys.len()
        });
    }

    #[test]
    fn lookup_matches_the_naive_statement(
        policies in proptest::collection::vec(rule_list(), 0..4),
        names in proptest::collection::vec(name(), 1..8),
        default in default_policy(),
    ) {
        let merged = Rules::merged(policies.iter().map(|p| to_rules(p)).collect::<Vec<_>>().iter());
        let authz = Authorizer::from_rules(&merged, default);
        let all: Vec<Rule> = policies.concat();
        for name in &names {
            for resource in [LabelledResource::Key, LabelledResource::Service, LabelledResource::Node] {
                for access in [Access::Read, Access::List, Access::Write] {
                    if access == Access::List && resource != LabelledResource::Key {
                        continue;
                    }
                    prop_assert_eq!(
                        check(&authz, resource, access, name),
                        naive_allows(&all, resource, access, name, default),
                        "{:?} {:?} on {:?}", resource, access, name
                    );
                }
            }
        }
    }

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins(
        list in rule_list(),
        name in name(),
        exact in disposition(true),
        prefix in disposition(true),
    ) {
        // An exact rule for the name decides, whatever prefix rules say.
        let mut with_exact = to_rules(&list);
        with_exact.add(LabelledResource::Key, Matching::Exact, name.clone(), Grant::policy(exact));
        let strongest_exact = with_exact.get(LabelledResource::Key, Matching::Exact, &name).unwrap().policy;
        let authz = Authorizer::from_rules(&with_exact, DefaultPolicy::Allow);
        prop_assert_eq!(authz.key_write(&name), strongest_exact.grants(Access::Write));
        prop_assert_eq!(authz.key_read(&name), strongest_exact.grants(Access::Read));
        // A prefix rule whose label is the whole name beats every shorter prefix rule.
        let mut only_prefixes: Vec<Rule> = list.into_iter().filter(|r| r.matching == Matching::Prefix).collect();
        only_prefixes.push(Rule {
            resource: LabelledResource::Key,
            matching: Matching::Prefix,
            label: name.clone(),
            policy: prefix,
            intentions: None,
        });
        let rules = to_rules(&only_prefixes);
        let longest = rules.get(LabelledResource::Key, Matching::Prefix, &name).unwrap().policy;
        let authz = Authorizer::from_rules(&rules, DefaultPolicy::Deny);
        let longer_name = format!("{name}zz");
        prop_assert_eq!(authz.key_read(&longer_name), longest.grants(Access::Read));
        prop_assert_eq!(authz.key_write(&longer_name), longest.grants(Access::Write));
    }

    #[test]
    fn key_write_prefix_matches_the_naive_statement(
        list in rule_list(),
        prefix in name(),
        default in default_policy(),
    ) {
        let authz = Authorizer::from_rules(&to_rules(&list), default);
        let keys: Vec<&Rule> = list.iter().filter(|r| r.resource == LabelledResource::Key).collect();
        let merged = |r: &Rule| naive_rule(&list, r.resource, r.matching, &r.label).unwrap();
        let beneath_all_write = keys
            .iter()
            .filter(|r| r.label.starts_with(&prefix))
            .all(|r| merged(r) == Disposition::Write);
        let covering = keys
            .iter()
            .filter(|r| r.matching == Matching::Prefix && prefix.starts_with(&r.label))
            .max_by_key(|r| r.label.len())
            .map(|r| merged(r));
        let expected = beneath_all_write
            && covering.map_or(default == DefaultPolicy::Allow, |d| d == Disposition::Write);
        prop_assert_eq!(authz.key_write_prefix(&prefix), expected);
    }

    #[test]
    fn service_any_and_all_match_the_naive_statement(list in rule_list(), default in default_policy()) {
        let authz = Authorizer::from_rules(&to_rules(&list), default);
        let services: Vec<Disposition> = list
            .iter()
            .filter(|r| r.resource == LabelledResource::Service)
            .map(|r| naive_rule(&list, r.resource, r.matching, &r.label).unwrap())
            .collect();
        let catch_all = naive_rule(&list, LabelledResource::Service, Matching::Prefix, "");
        let fallback = default == DefaultPolicy::Allow;
        let write_any = services.iter().any(|d| d.grants(Access::Write))
            || (catch_all.is_none() && fallback);
        let read_all = services.iter().all(|d| d.grants(Access::Read))
            && catch_all.map_or(fallback, |_| true);
        prop_assert_eq!(authz.service_write_any(), write_any);
        prop_assert_eq!(authz.service_read_all(), read_all);
    }

    #[test]
    fn intentions_follow_written_or_derived_values(list in rule_list(), name in name()) {
        let authz = Authorizer::from_rules(&to_rules(&list), DefaultPolicy::Deny);
        let service = |matching: Matching, label: &str| -> Option<Disposition> {
            let rules: Vec<&Rule> = list
                .iter()
                .filter(|r| r.resource == LabelledResource::Service && r.matching == matching && r.label == label)
                .collect();
            let policy = rules.iter().map(|r| r.policy).max()?;
            let written = rules.iter().filter_map(|r| r.intentions).max();
            Some(written.unwrap_or(match policy {
                Disposition::Read | Disposition::Write => Disposition::Read,
                _ => Disposition::Deny,
            }))
        };
        let governing = service(Matching::Exact, &name).or_else(|| {
            (0..=name.len())
                .rev()
                .filter(|&len| name.is_char_boundary(len))
                .find_map(|len| service(Matching::Prefix, &name[..len]))
        });
        let expected_read = governing.is_some_and(|d| d.grants(Access::Read));
        let expected_write = governing.is_some_and(|d| d.grants(Access::Write));
        prop_assert_eq!(authz.intention_read(&name), expected_read);
        prop_assert_eq!(authz.intention_write(&name), expected_write);
    }
}
