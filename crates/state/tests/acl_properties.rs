//! Property tests of the ACL tables under random command sequences: the secret index
//! always agrees with the token table, applying is deterministic, snapshots restore an
//! equal state, and indexes never go backwards.

use std::time::Duration;

use proconsul_api::acl::*;
use proconsul_api::go_time::GoTime;
use proconsul_state::*;
use proptest::prelude::*;

const ACCESSORS: &[&str] = &[
    "11111111-2222-3333-4444-555555555555",
    "21111111-2222-3333-4444-555555555555",
    "31111111-2222-3333-4444-555555555555",
    ANONYMOUS_TOKEN_ACCESSOR_ID,
];
const SECRETS: &[&str] = &[
    "a1111111-2222-3333-4444-555555555555",
    "b1111111-2222-3333-4444-555555555555",
    "11111111-2222-3333-4444-555555555555",
    "anonymous",
    "root",
];
const POLICIES: &[&str] = &[
    "d1111111-2222-3333-4444-555555555555",
    "e1111111-2222-3333-4444-555555555555",
    GLOBAL_MANAGEMENT_POLICY_ID,
];
const NAMES: &[&str] = &["alpha", "beta", "global-management"];
const ROLES: &[&str] = &[
    "f1111111-2222-3333-4444-555555555555",
    "f2111111-2222-3333-4444-555555555555",
];
const METHODS: &[&str] = &["m1", "m2"];

fn time(seconds: u64) -> GoTime {
    GoTime::from_unix_millis(1_700_000_000_000 + seconds * 1000)
}

fn links(ids: &'static [&'static str]) -> impl Strategy<Value = Vec<AclLink>> {
    proptest::collection::vec((0..ids.len(), any::<bool>()), 0..3).prop_map(move |picks| {
        picks
            .into_iter()
            .map(|(i, by_name)| AclLink {
                id: if by_name {
                    String::new()
                } else {
                    ids[i].to_string()
                },
                name: if by_name {
                    NAMES[i % NAMES.len()].to_string()
                } else {
                    String::new()
                },
            })
            .collect()
    })
}

fn token_write() -> impl Strategy<Value = Command> {
    (
        0..3usize,
        0..ACCESSORS.len(),
        0..SECRETS.len(),
        links(POLICIES),
        links(ROLES),
        proptest::option::of(prop_oneof![Just("2m"), Just("30s"), Just("1h")]),
        0u64..4000,
        any::<bool>(),
    )
        .prop_map(
            |(op, accessor, secret, policies, roles, ttl, now, blank_secret)| {
                let op = match op {
                    0 => AclTokenOp::Create,
                    1 => AclTokenOp::Update,
                    _ => AclTokenOp::Clone {
                        source_accessor_id: ACCESSORS[(accessor + 1) % ACCESSORS.len()].to_string(),
                    },
                };
                Command::AclTokenSet(Box::new(AclTokenWrite {
                    op,
                    token: AclToken {
                        accessor_id: ACCESSORS[accessor].to_string(),
                        secret_id: if blank_secret {
                            String::new()
                        } else {
                            SECRETS[secret].to_string()
                        },
                        description: format!("t{accessor}"),
                        policies,
                        roles,
                        expiration_ttl: ttl.unwrap_or_default().to_string(),
                        ..AclToken::default()
                    },
                    now: time(now),
                }))
            },
        )
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (any::<bool>(), 0u64..100).prop_map(|(with_root, now)| Command::AclInit(Box::new(
            AclInit {
                now: time(now),
                initial_management: with_root.then(|| AclInitialManagement {
                    accessor_id: ACCESSORS[2].to_string(),
                    secret_id: "root".to_string(),
                }),
            }
        ))),
        (0..ACCESSORS.len(), 0..SECRETS.len(), 0u64..20).prop_map(|(a, s, reset)| {
            Command::AclBootstrap(Box::new(AclBootstrap {
                accessor_id: ACCESSORS[a].to_string(),
                secret_id: SECRETS[s].to_string(),
                now: time(0),
                reset_index: reset,
            }))
        }),
        token_write(),
        token_write(),
        token_write(),
        (0..ACCESSORS.len()).prop_map(|a| Command::AclTokenDelete {
            accessor_id: ACCESSORS[a].to_uppercase()
        }),
        (0u64..8000).prop_map(|now| Command::AclTokensExpire { now: time(now) }),
        (any::<bool>(), 0..POLICIES.len(), 0..NAMES.len()).prop_map(|(create, p, n)| {
            Command::AclPolicySet {
                op: if create {
                    AclWriteOp::Create
                } else {
                    AclWriteOp::Update
                },
                policy: Box::new(AclPolicy {
                    id: POLICIES[p].to_string(),
                    name: NAMES[n].to_string(),
                    rules: if p == 2 {
                        GLOBAL_MANAGEMENT_POLICY_RULES.to_string()
                    } else {
                        format!("key \"{n}\" {{ policy = \"read\" }}")
                    },
                    ..AclPolicy::default()
                }),
            }
        }),
        (0..POLICIES.len()).prop_map(|p| Command::AclPolicyDelete {
            id: POLICIES[p].to_string()
        }),
        (
            any::<bool>(),
            0..ROLES.len(),
            0..NAMES.len(),
            links(POLICIES)
        )
            .prop_map(|(create, r, n, policies)| {
                Command::AclRoleSet {
                    op: if create {
                        AclWriteOp::Create
                    } else {
                        AclWriteOp::Update
                    },
                    role: Box::new(AclRole {
                        id: ROLES[r].to_string(),
                        name: NAMES[n].to_string(),
                        policies,
                        ..AclRole::default()
                    }),
                }
            }),
        (0..ROLES.len()).prop_map(|r| Command::AclRoleDelete {
            id: ROLES[r].to_string()
        }),
        (0..METHODS.len()).prop_map(|m| Command::AclAuthMethodSet(Box::new(AclAuthMethod {
            name: METHODS[m].to_string(),
            kind: "jwt".to_string(),
            ..AclAuthMethod::default()
        }))),
        (0..METHODS.len()).prop_map(|m| Command::AclAuthMethodDelete {
            name: METHODS[m].to_string()
        }),
        (any::<bool>(), 0..ROLES.len(), 0..METHODS.len()).prop_map(|(create, r, m)| {
            Command::AclBindingRuleSet {
                op: if create {
                    AclWriteOp::Create
                } else {
                    AclWriteOp::Update
                },
                rule: Box::new(AclBindingRule {
                    id: ROLES[r].to_string(),
                    auth_method: METHODS[m].to_string(),
                    bind_type: "service".to_string(),
                    bind_name: "web".to_string(),
                    ..AclBindingRule::default()
                }),
            }
        }),
        (0..ROLES.len()).prop_map(|r| Command::AclBindingRuleDelete {
            id: ROLES[r].to_string()
        }),
    ]
}

/// What must hold of any state the commands can reach.
fn check_invariants(state: &State) -> Result<(), TestCaseError> {
    let tokens = state.acl_tokens(&AclTokenFilter::default());
    let mut secrets = std::collections::BTreeSet::new();
    for token in &tokens {
        prop_assert!(
            secrets.insert(token.secret_id.clone()),
            "two tokens share a secret"
        );
        let by_secret = state.acl_token_by_secret(&token.secret_id);
        prop_assert_eq!(by_secret.as_ref(), Some(token));
        prop_assert_eq!(state.acl_token(&token.accessor_id), Some(token.clone()));
        prop_assert!(token.create_index <= token.modify_index);
        prop_assert!(token.modify_index <= state.table_indexes().acl_tokens);
        for link in &token.policies {
            prop_assert_eq!(
                state.acl_policy(&link.id).map(|p| p.name.clone()),
                Some(link.name.clone())
            );
        }
    }
    for secret in SECRETS {
        let owner = tokens.iter().find(|t| t.secret_id == *secret);
        prop_assert_eq!(state.acl_token_by_secret(secret), owner.cloned());
    }
    let expiring = tokens.iter().filter_map(|t| t.expiration_time).min();
    prop_assert_eq!(state.acl_next_token_expiry(), expiring);
    let mut names = std::collections::BTreeSet::new();
    for policy in state.acl_policies() {
        prop_assert!(
            names.insert(policy.name.to_lowercase()),
            "duplicate policy name"
        );
        prop_assert_eq!(state.acl_policy_by_name(&policy.name), Some(policy));
    }
    for role in state.acl_roles(None) {
        prop_assert_eq!(state.acl_role_by_name(&role.name), Some(role.clone()));
    }
    for rule in state.acl_binding_rules(None) {
        prop_assert!(
            state.acl_auth_method(&rule.auth_method).is_some(),
            "a rule outlived its method"
        );
    }
    if state.acl_policy(GLOBAL_MANAGEMENT_POLICY_ID).is_some() {
        prop_assert_eq!(
            &state.acl_policy(GLOBAL_MANAGEMENT_POLICY_ID).unwrap().rules,
            GLOBAL_MANAGEMENT_POLICY_RULES
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn indexes_agree_and_snapshots_restore(commands in proptest::collection::vec(command(), 1..40)) {
        let mut state = State::default();
        let mut previous = state.table_indexes();
        for (i, command) in commands.iter().enumerate() {
            state.apply(i as u64 + 1, command);
            check_invariants(&state)?;
            let now = state.table_indexes();
            for table in Table::ALL {
                prop_assert!(now.get(table) >= previous.get(table), "{:?} went backwards", table);
            }
            previous = now;
            let restored = State::from_snapshot(&state.to_snapshot()).unwrap();
            prop_assert_eq!(&restored, &state);
        }
    }

    #[test]
    fn applying_is_deterministic(
        prefix in proptest::collection::vec(command(), 0..15),
        commands in proptest::collection::vec(command(), 1..30),
    ) {
        let mut start = State::default();
        for (i, command) in prefix.iter().enumerate() {
            start.apply(i as u64 + 1, command);
        }
        let run = |mut state: State| {
            let base = state.last_applied();
            let outcomes: Vec<CommandOutcome> = commands
                .iter()
                .enumerate()
                .map(|(i, command)| state.apply(base + i as u64 + 1, command))
                .collect();
            (state, outcomes)
        };
        let (one, outcomes_one) = run(start.clone());
        let (two, outcomes_two) = run(start);
        prop_assert_eq!(outcomes_one, outcomes_two);
        prop_assert_eq!(one, two);
    }

    #[test]
    fn a_restored_state_goes_on_like_the_original(
        before in proptest::collection::vec(command(), 0..20),
        after in proptest::collection::vec(command(), 1..20),
    ) {
        let mut state = State::default();
        for (i, command) in before.iter().enumerate() {
            state.apply(i as u64 + 1, command);
        }
        let mut restored = State::from_snapshot(&state.to_snapshot()).unwrap();
        let base = state.last_applied();
        for (i, command) in after.iter().enumerate() {
            let index = base + i as u64 + 1;
            prop_assert_eq!(state.apply(index, command), restored.apply(index, command));
        }
        prop_assert_eq!(restored, state);
    }
}

#[test]
fn expiry_spans_are_what_the_commands_say() {
    // A sanity check of the generator's times: 2m from t=0 expires by t=121s.
    assert_eq!(
        time(121).duration_since(time(1)),
        Some(Duration::from_secs(120))
    );
}
