//! ACL replication between two states standing for a primary and a secondary datacenter:
//! the secondary converges on the primary's policies, roles and global tokens, keeps its
//! local tokens, resolves replicated tokens' links, and a converged pair has nothing
//! left to replicate.

use proconsul_api::acl::*;
use proconsul_api::go_time::GoTime;
use proconsul_state::*;

const P1: &str = "d1111111-2222-3333-4444-555555555555";
const P2: &str = "e1111111-2222-3333-4444-555555555555";
const R1: &str = "f1111111-2222-3333-4444-555555555555";
const G1: &str = "11111111-2222-3333-4444-555555555555";
const L1: &str = "21111111-2222-3333-4444-555555555555";
const L2: &str = "31111111-2222-3333-4444-555555555555";
const SG: &str = "a1111111-2222-3333-4444-555555555555";
const SL: &str = "b1111111-2222-3333-4444-555555555555";
const SP: &str = "c1111111-2222-3333-4444-555555555555";

struct Datacenter {
    state: State,
    index: u64,
}

impl Datacenter {
    fn new() -> Datacenter {
        let mut dc = Datacenter {
            state: State::default(),
            index: 0,
        };
        dc.ok(Command::AclInit(Box::new(AclInit {
            now: GoTime::from_unix_millis(1_700_000_000_000),
            initial_management: None,
        })));
        dc
    }

    fn ok(&mut self, command: Command) {
        self.index += 1;
        let outcome = self.state.apply(self.index, &command);
        assert!(
            !matches!(outcome, CommandOutcome::Rejected(_)),
            "{outcome:?}"
        );
    }

    /// Replicates every kind from `primary`; how many writes it took.
    fn replicate_from(&mut self, primary: &State) -> usize {
        let mut writes = 0;
        for kind in [
            AclReplicatedKind::Policies,
            AclReplicatedKind::Roles,
            AclReplicatedKind::Tokens,
        ] {
            let diff = self
                .state
                .acl_replication_diff(&primary.acl_replica_set(kind));
            if !diff.is_empty() {
                self.ok(Command::AclReplicate(Box::new(diff)));
                writes += 1;
            }
        }
        writes
    }
}

fn policy(id: &str, name: &str, rules: &str) -> Command {
    Command::AclPolicySet {
        op: AclWriteOp::Create,
        policy: Box::new(AclPolicy {
            id: id.into(),
            name: name.into(),
            rules: rules.into(),
            ..AclPolicy::default()
        }),
    }
}

fn token(accessor: &str, secret: &str, local: bool) -> Command {
    Command::AclTokenSet(Box::new(AclTokenWrite {
        op: AclTokenOp::Create,
        token: AclToken {
            accessor_id: accessor.into(),
            secret_id: secret.into(),
            policies: vec![AclLink {
                id: P1.into(),
                name: String::new(),
            }],
            local,
            ..AclToken::default()
        },
        now: GoTime::from_unix_millis(1_700_000_000_000),
    }))
}

#[test]
fn a_secondary_converges_on_the_primary_and_keeps_its_local_tokens() {
    let mut primary = Datacenter::new();
    let mut secondary = Datacenter::new();
    primary.ok(policy(
        P1,
        "web-read",
        r#"service "web" { policy = "read" }"#,
    ));
    primary.ok(Command::AclRoleSet {
        op: AclWriteOp::Create,
        role: Box::new(AclRole {
            id: R1.into(),
            name: "readers".into(),
            policies: vec![AclLink {
                id: P1.into(),
                name: String::new(),
            }],
            ..AclRole::default()
        }),
    });
    primary.ok(token(G1, SG, false));
    // A policy of the secondary's own with a name the primary uses: the primary wins.
    secondary.ok(policy(P2, "web-read", "operator = \"read\""));
    // Local tokens stay: in the secondary, and out of the primary's replica set.
    primary.ok(token(L2, SP, true));

    assert!(secondary.replicate_from(&primary.state) > 0);
    secondary.ok(token(L1, SL, true));
    let replicated = secondary.state.acl_policy_by_name("web-read").unwrap();
    assert_eq!(replicated.id, P1);
    assert!(secondary.state.acl_policy(P2).is_none());
    assert_eq!(
        secondary.state.acl_role(R1).unwrap().policies[0].name,
        "web-read"
    );
    let global = secondary.state.acl_token_by_secret(SG).unwrap();
    assert_eq!(global.policies[0].name, "web-read");
    assert!(secondary.state.acl_token_by_secret(SL).is_some());
    assert!(secondary.state.acl_token_by_secret(SP).is_none());
    assert_eq!(
        secondary.replicate_from(&primary.state),
        0,
        "nothing left to do"
    );

    // Changes and deletions travel; the local token still stays.
    primary.ok(Command::AclPolicySet {
        op: AclWriteOp::Update,
        policy: Box::new(AclPolicy {
            id: P1.into(),
            name: "web-read".into(),
            rules: r#"service "web" { policy = "write" }"#.into(),
            ..AclPolicy::default()
        }),
    });
    primary.ok(Command::AclTokenDelete {
        accessor_id: G1.into(),
    });
    primary.ok(Command::AclRoleDelete { id: R1.into() });
    assert_eq!(secondary.replicate_from(&primary.state), 3);
    assert!(
        secondary
            .state
            .acl_policy(P1)
            .unwrap()
            .rules
            .contains("write")
    );
    assert!(secondary.state.acl_token_by_secret(SG).is_none());
    assert!(secondary.state.acl_role(R1).is_none());
    assert!(secondary.state.acl_token_by_secret(SL).is_some());
    assert_eq!(secondary.replicate_from(&primary.state), 0);
}

#[test]
fn a_replication_write_moves_its_tables_index_and_survives_a_snapshot() {
    let mut primary = Datacenter::new();
    let mut secondary = Datacenter::new();
    primary.ok(policy(P1, "p", ""));
    let before = secondary.state.table_indexes().get(Table::AclPolicies);
    secondary.replicate_from(&primary.state);
    let after = secondary.state.table_indexes().get(Table::AclPolicies);
    assert!(after > before);
    let restored = State::from_snapshot(&secondary.state.to_snapshot()).unwrap();
    assert_eq!(restored.acl_policy_by_name("p").unwrap().id, P1);
}
