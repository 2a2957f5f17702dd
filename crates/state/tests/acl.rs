//! ACL objects in the state: the built-ins, bootstrap, token, policy, role, auth method
//! and binding rule rules with Consul's texts, expiry, lazy link resolution, snapshots.

use std::time::Duration;

use proconsul_api::acl::*;
use proconsul_api::go_time::GoTime;
use proconsul_state::*;

const A1: &str = "11111111-2222-3333-4444-555555555555";
const A2: &str = "21111111-2222-3333-4444-555555555555";
const A3: &str = "31111111-2222-3333-4444-555555555555";
const S1: &str = "a1111111-2222-3333-4444-555555555555";
const S2: &str = "b1111111-2222-3333-4444-555555555555";
const S3: &str = "c1111111-2222-3333-4444-555555555555";
const P1: &str = "d1111111-2222-3333-4444-555555555555";
const P2: &str = "e1111111-2222-3333-4444-555555555555";
const R1: &str = "f1111111-2222-3333-4444-555555555555";

fn now() -> GoTime {
    GoTime::from_unix_millis(1_700_000_000_000)
}

struct Cluster {
    state: State,
    index: u64,
}

impl Cluster {
    /// A state after a leader's initialization with `initial_management = "root"`.
    fn new() -> Cluster {
        let mut cluster = Cluster {
            state: State::default(),
            index: 0,
        };
        cluster.ok(Command::AclInit(Box::new(AclInit {
            now: now(),
            initial_management: Some(AclInitialManagement {
                accessor_id: A3.into(),
                secret_id: "root".into(),
            }),
        })));
        cluster
    }

    fn apply(&mut self, command: Command) -> CommandOutcome {
        self.index += 1;
        self.state.apply(self.index, &command)
    }

    fn ok(&mut self, command: Command) -> CommandOutcome {
        let outcome = self.apply(command);
        assert!(
            !matches!(outcome, CommandOutcome::Rejected(_)),
            "unexpected {outcome:?}"
        );
        outcome
    }

    fn rejected(&mut self, command: Command) -> String {
        match self.apply(command) {
            CommandOutcome::Rejected(reason) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn token(&mut self, op: AclTokenOp, token: AclToken) -> Command {
        Command::AclTokenSet(Box::new(AclTokenWrite {
            op,
            token,
            now: now(),
        }))
    }

    fn create_token(&mut self, token: AclToken) -> AclToken {
        let command = self.token(AclTokenOp::Create, token);
        match self.ok(command) {
            CommandOutcome::Acl(AclOutcome::Token(token)) => (*token).clone(),
            other => panic!("{other:?}"),
        }
    }

    fn create_policy(&mut self, id: &str, name: &str) -> AclPolicy {
        let outcome = self.ok(Command::AclPolicySet {
            op: AclWriteOp::Create,
            policy: Box::new(AclPolicy {
                id: id.into(),
                name: name.into(),
                rules: "key_prefix \"\" { policy = \"read\" }".into(),
                ..AclPolicy::default()
            }),
        });
        match outcome {
            CommandOutcome::Acl(AclOutcome::Policy(policy)) => (*policy).clone(),
            other => panic!("{other:?}"),
        }
    }
}

fn token(accessor: &str, secret: &str) -> AclToken {
    AclToken {
        accessor_id: accessor.into(),
        secret_id: secret.into(),
        ..AclToken::default()
    }
}

fn link_by_name(name: &str) -> AclLink {
    AclLink {
        id: String::new(),
        name: name.into(),
    }
}

fn link_by_id(id: &str) -> AclLink {
    AclLink {
        id: id.into(),
        name: String::new(),
    }
}

#[test]
fn init_creates_the_builtins_once() {
    let mut cluster = Cluster::new();
    let state = &cluster.state;
    let management = state.acl_policy(GLOBAL_MANAGEMENT_POLICY_ID).unwrap();
    assert_eq!(management.name, "global-management");
    assert_eq!(management.rules, GLOBAL_MANAGEMENT_POLICY_RULES);
    assert!(management.hash.as_ref().is_some_and(|h| h.len() == 32));
    let read_only = state
        .acl_policy_by_name("builtin/global-read-only")
        .unwrap();
    assert_eq!(read_only.id, GLOBAL_READ_ONLY_POLICY_ID);
    let anonymous = state.acl_token_by_secret("anonymous").unwrap();
    assert_eq!(anonymous.accessor_id, ANONYMOUS_TOKEN_ACCESSOR_ID);
    assert_eq!(anonymous.description, "Anonymous Token");
    assert!(anonymous.policies.is_empty());
    let root = state.acl_token_by_secret("root").unwrap();
    assert_eq!(root.description, "Initial Management Token");
    assert_eq!(
        root.policies,
        vec![AclLink {
            id: GLOBAL_MANAGEMENT_POLICY_ID.into(),
            name: "global-management".into()
        }]
    );
    assert_eq!(root.create_time, now());
    assert_eq!(state.acl_bootstrap_reset_index(), Some(1));
    let indexes = state.table_indexes();
    assert_eq!((indexes.acl_tokens, indexes.acl_policies), (1, 1));

    // A second leader's init (another accessor for the same secret) changes nothing.
    let before = cluster.state.clone();
    cluster.ok(Command::AclInit(Box::new(AclInit {
        now: GoTime::from_unix_millis(1_800_000_000_000),
        initial_management: Some(AclInitialManagement {
            accessor_id: A1.into(),
            secret_id: "root".into(),
        }),
    })));
    assert_eq!(
        cluster.state.acl_tokens(&AclTokenFilter::default()),
        before.acl_tokens(&AclTokenFilter::default())
    );
    assert_eq!(cluster.state.table_indexes(), before.table_indexes());
}

#[test]
fn bootstrap_once_then_only_with_the_reset_index() {
    let mut cluster = Cluster {
        state: State::default(),
        index: 0,
    };
    cluster.ok(Command::AclInit(Box::new(AclInit {
        now: now(),
        initial_management: None,
    })));
    assert_eq!(cluster.state.acl_bootstrap_reset_index(), None);
    let bootstrap = |accessor: &str, secret: &str, reset_index| {
        Command::AclBootstrap(Box::new(AclBootstrap {
            accessor_id: accessor.into(),
            secret_id: secret.into(),
            now: now(),
            reset_index,
        }))
    };
    let token = match cluster.ok(bootstrap(A1, S1, 0)) {
        CommandOutcome::Acl(AclOutcome::Token(token)) => token,
        other => panic!("{other:?}"),
    };
    assert_eq!(token.description, "Bootstrap Token (Global Management)");
    assert_eq!(token.policies[0].name, "global-management");
    assert_eq!(token.create_index, 2);
    assert_eq!(cluster.state.acl_bootstrap_reset_index(), Some(2));
    assert_eq!(
        cluster.rejected(bootstrap(A2, S2, 0)),
        "Permission denied: ACL bootstrap no longer allowed (reset index: 2)"
    );
    assert_eq!(
        cluster.rejected(bootstrap(A2, S2, 7)),
        "Invalid bootstrap reset index (specified 7, reset index: 2)"
    );
    cluster.ok(bootstrap(A2, S2, 2));
    assert_eq!(cluster.state.acl_bootstrap_reset_index(), Some(5));
    assert!(cluster.state.acl_token_by_secret(S2).is_some());
    assert!(cluster.state.acl_token_by_secret(S1).is_some());
}

#[test]
fn initial_management_makes_bootstrap_refuse() {
    let mut cluster = Cluster::new();
    let reason = cluster.rejected(Command::AclBootstrap(Box::new(AclBootstrap {
        accessor_id: A1.into(),
        secret_id: S1.into(),
        now: now(),
        reset_index: 0,
    })));
    assert!(reason.starts_with(ACL_BOOTSTRAP_NOT_ALLOWED), "{reason}");
    assert!(reason.contains("Permission denied"));
}

#[test]
fn token_create_checks_ids_and_keeps_their_case() {
    let mut cluster = Cluster::new();
    let created = cluster.create_token(AclToken {
        node_identities: vec![AclNodeIdentity {
            node_name: "deaf".into(),
            datacenter: "dc1".into(),
        }],
        ..token("00000000-DEAD-BEEF-0000-000000000000", S1)
    });
    assert_eq!(created.accessor_id, "00000000-DEAD-BEEF-0000-000000000000");
    assert_eq!(created.create_time, now());
    assert_eq!(created.create_index, cluster.index);
    assert!(created.hash.is_some());
    let read = cluster
        .state
        .acl_token("00000000-dead-beef-0000-000000000000")
        .unwrap();
    assert_eq!(read, created);
    assert_eq!(cluster.state.acl_token_by_secret(S1).unwrap(), created);
    assert!(
        cluster
            .state
            .acl_token_by_secret(&S1.to_uppercase())
            .is_none()
    );

    let create = |c: &mut Cluster, t| c.token(AclTokenOp::Create, t);
    let cmd = create(
        &mut cluster,
        token("00000000-DEAD-BEEF-0000-000000000000", S2),
    );
    assert_eq!(
        cluster.rejected(cmd),
        "Invalid Token: AccessorID is already in use"
    );
    let cmd = create(
        &mut cluster,
        token(A1, "00000000-dead-beef-0000-000000000000"),
    );
    assert_eq!(
        cluster.rejected(cmd),
        "Invalid Token: SecretID is already in use"
    );
    let cmd = create(&mut cluster, token(S1, S2));
    assert_eq!(
        cluster.rejected(cmd),
        "Invalid Token: AccessorID is already in use"
    );
    let cmd = create(&mut cluster, token("unknown", S2));
    assert_eq!(
        cluster.rejected(cmd),
        "Invalid Token: AccessorID - not a valid UUID"
    );
    let cmd = create(
        &mut cluster,
        token("00000000-0000-0000-0000-000000000009", S2),
    );
    assert_eq!(
        cluster.rejected(cmd),
        "Invalid Token: AccessorID - UUIDs with the prefix \"00000000-0000-0000-0000-0000000000\" are reserved"
    );
    let cmd = create(&mut cluster, token(A1, "anonymous"));
    assert_eq!(
        cluster.rejected(cmd),
        "Invalid Token: SecretID - not a valid UUID"
    );
    let cmd = create(
        &mut cluster,
        AclToken {
            auth_method: "jwt".into(),
            ..token(A1, S2)
        },
    );
    assert_eq!(
        cluster.rejected(cmd),
        "AuthMethod field is disallowed outside of login"
    );
}

#[test]
fn token_links_resolve_by_name_dedupe_and_must_exist() {
    let mut cluster = Cluster::new();
    let policy = cluster.create_policy(P1, "readers");
    let created = cluster.create_token(AclToken {
        policies: vec![
            link_by_name("readers"),
            link_by_id(&P1.to_uppercase()),
            link_by_name("global-management"),
        ],
        ..token(A1, S1)
    });
    assert_eq!(
        created.policies,
        vec![
            AclLink {
                id: policy.id.clone(),
                name: "readers".into()
            },
            AclLink {
                id: GLOBAL_MANAGEMENT_POLICY_ID.into(),
                name: "global-management".into()
            }
        ]
    );
    let cmd = cluster.token(
        AclTokenOp::Create,
        AclToken {
            policies: vec![link_by_name("nope")],
            ..token(A2, S2)
        },
    );
    assert_eq!(
        cluster.rejected(cmd),
        "No such ACL policy with name \"nope\""
    );
    let cmd = cluster.token(
        AclTokenOp::Create,
        AclToken {
            policies: vec![link_by_id(P2)],
            ..token(A2, S2)
        },
    );
    assert_eq!(
        cluster.rejected(cmd),
        format!("No such ACL policy with ID \"{P2}\"")
    );
    let cmd = cluster.token(
        AclTokenOp::Create,
        AclToken {
            roles: vec![link_by_name("nope")],
            ..token(A2, S2)
        },
    );
    assert_eq!(cluster.rejected(cmd), "No such ACL role with name \"nope\"");
}

#[test]
fn deleted_and_renamed_policies_resolve_lazily() {
    let mut cluster = Cluster::new();
    cluster.create_policy(P1, "readers");
    cluster.create_policy(P2, "writers");
    cluster.ok(Command::AclRoleSet {
        op: AclWriteOp::Create,
        role: Box::new(AclRole {
            id: R1.into(),
            name: "ops".into(),
            policies: vec![link_by_id(P2)],
            ..AclRole::default()
        }),
    });
    cluster.create_token(AclToken {
        policies: vec![link_by_id(P1), link_by_id(P2)],
        roles: vec![link_by_name("ops")],
        ..token(A1, S1)
    });
    let stored_hash = cluster.state.acl_token(A1).unwrap().hash;
    // Rename P2: the token and the role show the new name.
    cluster.ok(Command::AclPolicySet {
        op: AclWriteOp::Update,
        policy: Box::new(AclPolicy {
            id: P2.into(),
            name: "renamed".into(),
            ..AclPolicy::default()
        }),
    });
    let read = cluster.state.acl_token(A1).unwrap();
    assert_eq!(read.policies[1].name, "renamed");
    assert_eq!(
        cluster.state.acl_role(R1).unwrap().policies[0].name,
        "renamed"
    );
    // Delete P1 and the role: the links disappear from reads and privileges.
    cluster.ok(Command::AclPolicyDelete { id: P1.into() });
    cluster.ok(Command::AclRoleDelete { id: R1.into() });
    let read = cluster.state.acl_token(A1).unwrap();
    assert_eq!(
        read.policies
            .iter()
            .map(|l| l.id.as_str())
            .collect::<Vec<_>>(),
        [P2]
    );
    assert!(read.roles.is_empty());
    assert_eq!(read.hash, stored_hash, "the stored token is untouched");
    let entry = cluster.state.acl_token_entry_by_secret(S1).unwrap().clone();
    let privileges = cluster.state.acl_token_privileges(&entry);
    assert_eq!(privileges.policies.len(), 1);
    assert_eq!(privileges.policies[0].id, P2);
    // A policy recreated with the same ID comes back into the token.
    cluster.create_policy(P1, "readers-again");
    assert_eq!(cluster.state.acl_token(A1).unwrap().policies.len(), 2);
}

#[test]
fn privileges_gather_roles_once() {
    let mut cluster = Cluster::new();
    cluster.create_policy(P1, "readers");
    cluster.ok(Command::AclRoleSet {
        op: AclWriteOp::Create,
        role: Box::new(AclRole {
            id: R1.into(),
            name: "ops".into(),
            policies: vec![link_by_id(P1), link_by_name("global-management")],
            service_identities: vec![AclServiceIdentity {
                service_name: "web".into(),
                datacenters: vec![],
            }],
            ..AclRole::default()
        }),
    });
    let created = cluster.create_token(AclToken {
        policies: vec![link_by_id(P1)],
        roles: vec![link_by_id(R1)],
        node_identities: vec![AclNodeIdentity {
            node_name: "n1".into(),
            datacenter: "dc1".into(),
        }],
        ..token(A1, S1)
    });
    let privileges = cluster.state.acl_token_privileges(&created);
    let ids: Vec<&str> = privileges.policies.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [P1, GLOBAL_MANAGEMENT_POLICY_ID]);
    assert_eq!(privileges.service_identities[0].service_name, "web");
    assert_eq!(privileges.node_identities[0].node_name, "n1");
}

#[test]
fn identities_and_templated_policies_are_validated() {
    let mut cluster = Cluster::new();
    let cases: Vec<(AclToken, &str)> = vec![
        (
            AclToken {
                service_identities: vec![AclServiceIdentity {
                    service_name: "Web".into(),
                    datacenters: vec![],
                }],
                ..token(A1, S1)
            },
            "Service identity \"Web\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed",
        ),
        (
            AclToken {
                service_identities: vec![AclServiceIdentity::default()],
                ..token(A1, S1)
            },
            "Service identity is missing the service name field on this token",
        ),
        (
            AclToken {
                local: true,
                service_identities: vec![AclServiceIdentity {
                    service_name: "web".into(),
                    datacenters: vec!["dc1".into()],
                }],
                ..token(A1, S1)
            },
            "Service identity \"web\" cannot specify a list of datacenters on a local token",
        ),
        (
            AclToken {
                node_identities: vec![AclNodeIdentity {
                    node_name: "n1".into(),
                    datacenter: String::new(),
                }],
                ..token(A1, S1)
            },
            "Node identity is missing the datacenter field on this token",
        ),
        (
            AclToken {
                templated_policies: vec![AclTemplatedPolicy {
                    template_name: "builtin/nope".into(),
                    ..AclTemplatedPolicy::default()
                }],
                ..token(A1, S1)
            },
            "templated policy with name \"builtin/nope\" does not exist",
        ),
        (
            AclToken {
                templated_policies: vec![AclTemplatedPolicy {
                    template_name: "builtin/service".into(),
                    ..AclTemplatedPolicy::default()
                }],
                ..token(A1, S1)
            },
            "validation error for templated policy \"builtin/service\": name is required",
        ),
    ];
    for (token, text) in cases {
        let cmd = cluster.token(AclTokenOp::Create, token);
        assert_eq!(cluster.rejected(cmd), text);
    }
    let created = cluster.create_token(AclToken {
        templated_policies: vec![
            AclTemplatedPolicy {
                template_name: "builtin/service".into(),
                template_variables: Some(AclTemplatedPolicyVariables {
                    name: "my-service".into(),
                }),
                ..AclTemplatedPolicy::default()
            },
            AclTemplatedPolicy {
                template_name: "builtin/dns".into(),
                ..AclTemplatedPolicy::default()
            },
        ],
        service_identities: vec![AclServiceIdentity {
            service_name: "web".into(),
            datacenters: vec!["dc1".into()],
        }],
        ..token(A1, S1)
    });
    assert_eq!(
        created.templated_policies[0].template_id,
        "00000000-0000-0000-0000-000000000003"
    );
    assert_eq!(
        created.templated_policies[1].template_id,
        "00000000-0000-0000-0000-000000000005"
    );
    assert_eq!(created.service_identities[0].datacenters, ["dc1"]);
    let by_service = cluster.state.acl_tokens(&AclTokenFilter {
        service_name: Some("web".into()),
        ..AclTokenFilter::default()
    });
    assert_eq!(by_service.len(), 1);
}

#[test]
fn token_expiry_ttl_bounds_and_expire_command() {
    let mut cluster = Cluster::new();
    let created = cluster.create_token(AclToken {
        expiration_ttl: "10m".into(),
        ..token(A1, S1)
    });
    let at = now().checked_add(Duration::from_secs(600)).unwrap();
    assert_eq!(created.expiration_time, Some(at));
    assert!(created.expiration_ttl.is_empty());
    assert_eq!(cluster.state.acl_next_token_expiry(), Some(at));

    let mut bad = |token: AclToken| {
        let cmd = cluster.token(AclTokenOp::Create, token);
        cluster.rejected(cmd)
    };
    assert_eq!(
        bad(AclToken {
            expiration_ttl: "30s".into(),
            ..token(A2, S2)
        }),
        "ExpirationTime cannot be less than 1m0s in the future (was 30s)"
    );
    assert_eq!(
        bad(AclToken {
            expiration_ttl: "25h".into(),
            ..token(A2, S2)
        }),
        "ExpirationTime cannot be more than 24h0m0s in the future (was 25h0m0s)"
    );
    assert_eq!(
        bad(AclToken {
            expiration_ttl: "10m".into(),
            expiration_time: Some(at),
            ..token(A2, S2)
        }),
        "Token Expiration TTL and Expiration Time cannot both be set"
    );
    assert_eq!(
        bad(AclToken {
            expiration_time: Some(GoTime::from_unix_millis(1)),
            ..token(A2, S2)
        }),
        "ExpirationTime cannot be before CreateTime"
    );

    // Expiry by the leader's clock: nothing before the time, the token at it.
    let before_tables = cluster.state.table_indexes();
    cluster.ok(Command::AclTokensExpire { now: at });
    assert!(
        cluster.state.acl_token(A1).is_some(),
        "expires after, not at, its time"
    );
    assert_eq!(cluster.state.table_indexes(), before_tables);
    let later = at.checked_add(Duration::from_nanos(1)).unwrap();
    assert!(cluster.state.acl_token(A1).unwrap().is_expired(later));
    assert!(
        cluster
            .state
            .acl_tokens(&AclTokenFilter {
                now: Some(later),
                ..AclTokenFilter::default()
            })
            .iter()
            .all(|t| t.accessor_id != A1)
    );
    match cluster.ok(Command::AclTokensExpire { now: later }) {
        CommandOutcome::Acl(AclOutcome::Expired(ids)) => assert_eq!(ids, [A1]),
        other => panic!("{other:?}"),
    }
    assert!(cluster.state.acl_token(A1).is_none());
    assert!(cluster.state.acl_token_by_secret(S1).is_none());
    assert_eq!(cluster.state.acl_next_token_expiry(), None);
    assert_eq!(cluster.state.table_indexes().acl_tokens, cluster.index);
}

#[test]
fn token_update_rules() {
    let mut cluster = Cluster::new();
    let created = cluster.create_token(AclToken {
        description: "one".into(),
        expiration_ttl: "1h".into(),
        ..token(A1, S1)
    });
    let update = |c: &mut Cluster, t: AclToken| {
        let cmd = c.token(AclTokenOp::Update, t);
        c.apply(cmd)
    };
    let outcome = update(
        &mut cluster,
        AclToken {
            description: "two".into(),
            node_identities: vec![AclNodeIdentity {
                node_name: "test02".into(),
                datacenter: "dc2".into(),
            }],
            ..token(&A1.to_uppercase(), "")
        },
    );
    let CommandOutcome::Acl(AclOutcome::Token(updated)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        updated.accessor_id, A1,
        "the stored accessor keeps its case"
    );
    assert_eq!(updated.secret_id, S1);
    assert_eq!(updated.description, "two");
    assert_eq!(updated.create_time, created.create_time);
    assert_eq!(updated.expiration_time, created.expiration_time);
    assert_eq!(updated.create_index, created.create_index);
    assert_eq!(updated.modify_index, cluster.index);
    assert_ne!(updated.hash, created.hash);

    let reject = |c: &mut Cluster, t: AclToken| match update(c, t) {
        CommandOutcome::Rejected(reason) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reject(&mut cluster, token("unknown", "")),
        "AccessorID is not a valid UUID"
    );
    assert_eq!(
        reject(&mut cluster, token(A2, "")),
        format!("Cannot find token \"{A2}\"")
    );
    assert_eq!(
        reject(&mut cluster, token(A1, S2)),
        "Changing a token's SecretID is not permitted"
    );
    assert_eq!(
        reject(
            &mut cluster,
            AclToken {
                local: true,
                ..token(A1, "")
            }
        ),
        format!("Cannot toggle local mode of {A1}")
    );
    assert_eq!(
        reject(
            &mut cluster,
            AclToken {
                expiration_ttl: "5m".into(),
                ..token(A1, "")
            }
        ),
        format!("Cannot change expiration time of {A1}")
    );
    assert_eq!(
        reject(
            &mut cluster,
            AclToken {
                expiration_time: Some(now()),
                ..token(A1, "")
            }
        ),
        format!("Cannot change expiration time of {A1}")
    );
    assert_eq!(
        reject(
            &mut cluster,
            AclToken {
                auth_method: "x".into(),
                ..token(A1, "")
            }
        ),
        format!("Cannot change AuthMethod of {A1}")
    );
    assert_eq!(
        reject(&mut cluster, token(A1, "manage")),
        "Permission denied: Cannot modify root ACL"
    );
    // An expired token cannot be updated.
    let later = Command::AclTokenSet(Box::new(AclTokenWrite {
        op: AclTokenOp::Update,
        token: token(A1, ""),
        now: now().checked_add(Duration::from_secs(7200)).unwrap(),
    }));
    assert_eq!(
        cluster.rejected(later),
        format!("Cannot find token \"{A1}\"")
    );
}

#[test]
fn clone_copies_privileges_with_new_ids() {
    let mut cluster = Cluster::new();
    cluster.create_policy(P1, "readers");
    cluster.create_token(AclToken {
        description: "orig".into(),
        policies: vec![link_by_id(P1)],
        local: true,
        ..token(A1, S1)
    });
    let clone = |c: &mut Cluster, source: &str, t: AclToken| {
        let cmd = c.token(
            AclTokenOp::Clone {
                source_accessor_id: source.into(),
            },
            t,
        );
        c.apply(cmd)
    };
    let CommandOutcome::Acl(AclOutcome::Token(cloned)) = clone(&mut cluster, A1, token(A2, S2))
    else {
        panic!()
    };
    assert_eq!(cloned.accessor_id, A2);
    assert_eq!(cloned.description, "orig");
    assert!(cloned.local);
    assert_eq!(cloned.policies[0].name, "readers");
    let CommandOutcome::Acl(AclOutcome::Token(named)) = clone(
        &mut cluster,
        A1,
        AclToken {
            description: "cloned".into(),
            ..token(A3.replace('3', "4").as_str(), S3)
        },
    ) else {
        panic!()
    };
    assert_eq!(named.description, "cloned");
    assert_eq!(
        clone(&mut cluster, "unknown", token(P2, R1)),
        CommandOutcome::Rejected(ACL_NOT_FOUND.into())
    );
    assert_eq!(
        cluster.state.acl_tokens(&AclTokenFilter::default()).len(),
        5
    );
}

#[test]
fn token_delete_and_list_filters() {
    let mut cluster = Cluster::new();
    cluster.create_policy(P1, "readers");
    cluster.create_token(AclToken {
        policies: vec![link_by_id(P1)],
        ..token(A1, S1)
    });
    cluster.create_token(token(A2, S2));
    let by_policy = |c: &Cluster, id: &str| {
        c.state
            .acl_tokens(&AclTokenFilter {
                policy: Some(id.into()),
                ..AclTokenFilter::default()
            })
            .into_iter()
            .map(|t| t.accessor_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(by_policy(&cluster, P1), [A1]);
    assert!(by_policy(&cluster, P2).is_empty());
    assert_eq!(by_policy(&cluster, GLOBAL_MANAGEMENT_POLICY_ID), [A3]);
    let all: Vec<String> = cluster
        .state
        .acl_tokens(&AclTokenFilter::default())
        .into_iter()
        .map(|t| t.accessor_id)
        .collect();
    assert_eq!(all, [ANONYMOUS_TOKEN_ACCESSOR_ID, A1, A2, A3]);

    assert_eq!(
        cluster.rejected(Command::AclTokenDelete {
            accessor_id: ANONYMOUS_TOKEN_ACCESSOR_ID.into()
        }),
        ACL_ANONYMOUS_DELETE
    );
    let index = cluster.state.table_indexes().acl_tokens;
    cluster.ok(Command::AclTokenDelete {
        accessor_id: A2.to_uppercase(),
    });
    assert!(cluster.state.acl_token(A2).is_none());
    assert!(cluster.state.acl_token_by_secret(S2).is_none());
    assert!(cluster.state.table_indexes().acl_tokens > index);
    // Deleting what is not there is no error and moves no index.
    let index = cluster.state.table_indexes().acl_tokens;
    cluster.ok(Command::AclTokenDelete {
        accessor_id: A2.into(),
    });
    assert_eq!(cluster.state.table_indexes().acl_tokens, index);
}

#[test]
fn policy_rules() {
    let mut cluster = Cluster::new();
    let created = cluster.create_policy(P1, "readers");
    assert_eq!(
        (created.create_index, created.modify_index),
        (cluster.index, cluster.index)
    );
    let set = |op, policy: AclPolicy| Command::AclPolicySet {
        op,
        policy: Box::new(policy),
    };
    let policy = |id: &str, name: &str| AclPolicy {
        id: id.into(),
        name: name.into(),
        ..AclPolicy::default()
    };
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Create, policy(P2, "READERS"))),
        "Invalid Policy: A policy with name \"READERS\" already exists"
    );
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Create, policy(P2, ""))),
        "Invalid Policy: no Name is set"
    );
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Create, policy(P2, "bad name"))),
        "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"
    );
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Update, policy(P2, "x"))),
        format!("cannot find policy {P2}")
    );
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Update, policy("unknown", "x"))),
        "Policy ID invalid UUID"
    );
    // The built-in may be renamed and redescribed, nothing else.
    let management = cluster
        .state
        .acl_policy(GLOBAL_MANAGEMENT_POLICY_ID)
        .unwrap()
        .clone();
    assert_eq!(
        cluster.rejected(set(
            AclWriteOp::Update,
            AclPolicy {
                rules: "acl = \"read\"".into(),
                ..(*management).clone()
            }
        )),
        "Changing the Rules for the builtin global-management policy is not permitted"
    );
    assert_eq!(
        cluster.rejected(set(
            AclWriteOp::Update,
            AclPolicy {
                datacenters: vec!["dc1".into()],
                ..(*management).clone()
            }
        )),
        "Changing the Datacenters of the builtin global-management policy is not permitted"
    );
    cluster.ok(set(
        AclWriteOp::Update,
        AclPolicy {
            name: "root-policy".into(),
            ..(*management).clone()
        },
    ));
    assert_eq!(
        cluster.state.acl_token_by_secret("root").unwrap().policies[0].name,
        "root-policy"
    );
    assert!(
        cluster
            .state
            .acl_policy_by_name("global-management")
            .is_none()
    );
    assert_eq!(
        cluster.rejected(Command::AclPolicyDelete {
            id: GLOBAL_MANAGEMENT_POLICY_ID.into()
        }),
        "Deletion of the builtin global-management policy is not permitted"
    );
    assert_eq!(
        cluster.rejected(Command::AclPolicyDelete { id: P2.into() }),
        ACL_POLICY_DELETE_NOT_FOUND
    );
    // Rules are kept verbatim; the stub has no rules.
    let stored = cluster.state.acl_policy(&P1.to_uppercase()).unwrap();
    assert_eq!(stored.rules, "key_prefix \"\" { policy = \"read\" }");
    assert_eq!(stored.stub().name, "readers");
}

#[test]
fn role_rules() {
    let mut cluster = Cluster::new();
    cluster.create_policy(P1, "readers");
    let role = |id: &str, name: &str| AclRole {
        id: id.into(),
        name: name.into(),
        ..AclRole::default()
    };
    let set = |op, role: AclRole| Command::AclRoleSet {
        op,
        role: Box::new(role),
    };
    let outcome = cluster.ok(set(
        AclWriteOp::Create,
        AclRole {
            policies: vec![link_by_name("readers")],
            service_identities: vec![AclServiceIdentity {
                service_name: "web".into(),
                datacenters: vec![],
            }],
            node_identities: vec![AclNodeIdentity {
                node_name: "n1".into(),
                datacenter: "dc1".into(),
            }],
            ..role(R1, "test-role")
        },
    ));
    let CommandOutcome::Acl(AclOutcome::Role(created)) = outcome else {
        panic!()
    };
    assert_eq!(
        created.policies[0],
        AclLink {
            id: P1.into(),
            name: "readers".into()
        }
    );
    assert!(created.hash.is_some());
    assert_eq!(cluster.state.acl_role_by_name("TEST-ROLE").unwrap().id, R1);
    assert_eq!(cluster.state.acl_roles(Some(P1)).len(), 1);
    assert!(cluster.state.acl_roles(Some(P2)).is_empty());
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Create, role(P2, "test-role"))),
        "Invalid Role: A Role with Name \"test-role\" already exists"
    );
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Create, role(P2, ""))),
        "Invalid Role: no Name is set"
    );
    assert_eq!(
        cluster.rejected(set(
            AclWriteOp::Create,
            AclRole {
                node_identities: vec![AclNodeIdentity {
                    node_name: "n1".into(),
                    datacenter: String::new()
                }],
                ..role(P2, "other")
            }
        )),
        "Node identity is missing the datacenter field on this role"
    );
    assert_eq!(
        cluster.rejected(set(AclWriteOp::Update, role(P2, "x"))),
        format!("Cannot find role {P2}")
    );
    cluster.ok(Command::AclRoleDelete { id: R1.into() });
    assert!(cluster.state.acl_role(R1).is_none());
    assert_eq!(
        cluster.rejected(Command::AclRoleDelete { id: R1.into() }),
        ACL_ROLE_DELETE_NOT_FOUND
    );
}

#[test]
fn auth_methods_and_binding_rules() {
    let mut cluster = Cluster::new();
    let config = serde_json::json!({"JWTValidationPubKeys": ["k"], "BoundIssuer": "test-issuer"});
    let method = AclAuthMethod {
        name: "jwt-auth".into(),
        kind: "jwt".into(),
        max_token_ttl: "10m".into(),
        config: Some(JsonObject::new(&config)),
        ..AclAuthMethod::default()
    };
    let outcome = cluster.ok(Command::AclAuthMethodSet(Box::new(method.clone())));
    let CommandOutcome::Acl(AclOutcome::AuthMethod(stored)) = outcome else {
        panic!()
    };
    assert_eq!(stored.max_token_ttl, "10m0s");
    assert_eq!(stored.config.as_ref().unwrap().value(), config);
    assert_eq!(
        cluster.rejected(Command::AclAuthMethodSet(Box::new(AclAuthMethod {
            kind: "kubernetes".into(),
            ..method.clone()
        }))),
        "the Type field is immutable"
    );
    assert_eq!(
        cluster.rejected(Command::AclAuthMethodSet(Box::new(AclAuthMethod {
            kind: "magic".into(),
            name: "other".into(),
            ..method.clone()
        }))),
        "Invalid Auth Method: Type should be one of: [aws-iam jwt kubernetes oidc]"
    );
    assert_eq!(
        cluster.rejected(Command::AclAuthMethodSet(Box::new(AclAuthMethod {
            token_locality: "nowhere".into(),
            ..method.clone()
        }))),
        "Invalid Auth Method: TokenLocality should be one of 'local' or 'global' or empty"
    );
    let rule = AclBindingRule {
        id: R1.into(),
        auth_method: "jwt-auth".into(),
        selector: "value.iss==\"test-issuer\"".into(),
        bind_type: "service".into(),
        bind_name: "web".into(),
        ..AclBindingRule::default()
    };
    cluster.ok(Command::AclBindingRuleSet {
        op: AclWriteOp::Create,
        rule: Box::new(rule.clone()),
    });
    assert_eq!(cluster.state.acl_binding_rules(Some("JWT-AUTH")).len(), 1);
    assert!(cluster.state.acl_binding_rules(Some("other")).is_empty());
    let reject = |c: &mut Cluster, op, r: AclBindingRule| {
        c.rejected(Command::AclBindingRuleSet {
            op,
            rule: Box::new(r),
        })
    };
    assert_eq!(
        reject(
            &mut cluster,
            AclWriteOp::Create,
            AclBindingRule {
                id: P1.into(),
                auth_method: "nope".into(),
                ..rule.clone()
            }
        ),
        "Invalid Binding Rule: unknown auth method \"nope\""
    );
    assert_eq!(
        reject(
            &mut cluster,
            AclWriteOp::Create,
            AclBindingRule {
                id: P1.into(),
                bind_type: "x".into(),
                ..rule.clone()
            }
        ),
        "Invalid Binding Rule: unknown BindType \"x\""
    );
    assert_eq!(
        reject(
            &mut cluster,
            AclWriteOp::Update,
            AclBindingRule {
                id: P2.into(),
                ..rule.clone()
            }
        ),
        format!("Cannot find binding rule {P2}")
    );
    cluster.ok(Command::AclBindingRuleSet {
        op: AclWriteOp::Update,
        rule: Box::new(AclBindingRule {
            description: "updated".into(),
            ..rule.clone()
        }),
    });
    assert_eq!(
        cluster.state.acl_binding_rule(R1).unwrap().description,
        "updated"
    );
    // Deleting the method takes its rules with it.
    cluster.ok(Command::AclAuthMethodDelete {
        name: "JWT-auth".into(),
    });
    assert!(cluster.state.acl_auth_method("jwt-auth").is_none());
    assert!(cluster.state.acl_binding_rule(R1).is_none());
    assert_eq!(
        cluster.rejected(Command::AclAuthMethodDelete {
            name: "jwt-auth".into()
        }),
        ACL_AUTH_METHOD_DELETE_NOT_FOUND
    );
    assert_eq!(
        cluster.rejected(Command::AclBindingRuleDelete { id: R1.into() }),
        ACL_BINDING_RULE_DELETE_NOT_FOUND
    );
}

#[test]
fn acl_tables_survive_snapshots_and_backups() {
    let mut cluster = Cluster::new();
    cluster.create_policy(P1, "readers");
    cluster.create_token(AclToken {
        policies: vec![link_by_id(P1)],
        expiration_ttl: "5m".into(),
        ..token(A1, S1)
    });
    cluster.ok(Command::AclAuthMethodSet(Box::new(AclAuthMethod {
        name: "k8s".into(),
        kind: "kubernetes".into(),
        config: Some(JsonObject::new(&serde_json::json!({"Host": "https://k"}))),
        ..AclAuthMethod::default()
    })));
    let restored = State::from_snapshot(&cluster.state.to_snapshot()).unwrap();
    assert_eq!(restored, cluster.state);
    assert_eq!(
        restored.acl_token_by_secret(S1),
        cluster.state.acl_token_by_secret(S1)
    );
    assert_eq!(
        restored.acl_next_token_expiry(),
        cluster.state.acl_next_token_expiry()
    );
    assert_eq!(restored.acl_bootstrap_reset_index(), Some(1));
    let (_, from_backup) = State::from_backup(&cluster.state.to_backup()).unwrap();
    assert_eq!(from_backup, cluster.state);
}
