use proconsul_acl::{Authorize, DefaultPolicy};
use proconsul_api::acl::{AclLink, AclPolicy, AclServiceIdentity, AclToken};
use proconsul_api::go_time::GoTime;
use proconsul_state::{
    AclInit, AclInitialManagement, AclTokenOp, AclTokenWrite, AclWriteOp, Command, State,
};

use super::*;

const NOW_MS: u64 = 1_800_000_000_000;
const READER: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const IDENTITY: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const SHORT: &str = "aaaaaaaa-0000-0000-0000-000000000003";

fn now() -> GoTime {
    GoTime::from_unix_millis(NOW_MS)
}

fn resolver(default_policy: DefaultPolicy) -> TokenResolver {
    TokenResolver::new(AclSettings {
        datacenter: "dc1".into(),
        node_name: "n1".into(),
        default_policy,
        tokens: Arc::new(crate::agent_tokens::AgentTokens::from_config(
            &crate::acl_config::AclTokensConfig {
                agent_recovery: Some("recovery-secret".into()),
                ..Default::default()
            },
        )),
    })
}

/// A state after the leader's `AclInit` with `root` as the initial management secret,
/// and a policy `web-read` (read on services starting with "web").
fn state() -> State {
    let mut state = State::default();
    let mut index = 0;
    let mut apply = |state: &mut State, command: Command| {
        index += 1;
        let outcome = state.apply(index, &command);
        assert!(
            !matches!(outcome, proconsul_state::CommandOutcome::Rejected(_)),
            "{command:?}: {outcome:?}"
        );
    };
    apply(
        &mut state,
        Command::AclInit(Box::new(AclInit {
            now: now(),
            initial_management: Some(AclInitialManagement {
                accessor_id: "11111111-1111-1111-1111-111111111111".into(),
                secret_id: "root".into(),
            }),
        })),
    );
    apply(
        &mut state,
        Command::AclPolicySet {
            op: AclWriteOp::Create,
            policy: Box::new(AclPolicy {
                id: "22222222-2222-2222-2222-222222222222".into(),
                name: "web-read".into(),
                rules: r#"service_prefix "web" { policy = "read" }"#.into(),
                ..AclPolicy::default()
            }),
        },
    );
    state
}

fn token(state: &mut State, index: u64, secret: &str, token: AclToken) {
    let command = Command::AclTokenSet(Box::new(AclTokenWrite {
        op: AclTokenOp::Create,
        token: AclToken {
            secret_id: secret.into(),
            ..token
        },
        now: now(),
    }));
    let outcome = state.apply(index, &command);
    assert!(
        !matches!(outcome, proconsul_state::CommandOutcome::Rejected(_)),
        "{outcome:?}"
    );
}

fn web_reader() -> AclToken {
    AclToken {
        accessor_id: "33333333-3333-3333-3333-333333333333".into(),
        policies: vec![AclLink {
            id: "22222222-2222-2222-2222-222222222222".into(),
            name: String::new(),
        }],
        ..AclToken::default()
    }
}

/// A token with the service identity `api`.
fn api_identity() -> AclToken {
    AclToken {
        accessor_id: "44444444-4444-4444-4444-444444444444".into(),
        service_identities: vec![AclServiceIdentity {
            service_name: "api".into(),
            datacenters: vec![],
        }],
        ..AclToken::default()
    }
}

#[test]
fn anonymous_before_init_gets_the_default_policy_but_never_acl() {
    let state = State::default();
    // Before any bootstrap, an unknown secret says so, as Consul does.
    assert_eq!(
        resolver(DefaultPolicy::Allow)
            .resolve(&state, Some("nope"), now())
            .err(),
        Some(ResolveError::NotBootstrapped)
    );
    let allow = resolver(DefaultPolicy::Allow)
        .resolve(&state, None, now())
        .unwrap()
        .1;
    assert!(allow.service_write("anything"));
    assert!(!allow.acl_read());
    let deny = resolver(DefaultPolicy::Deny)
        .resolve(&state, Some(""), now())
        .unwrap()
        .1;
    assert!(!deny.service_read("anything"));
}

#[test]
fn management_unknown_and_reserved_secrets() {
    let state = state();
    let resolver = resolver(DefaultPolicy::Deny);
    let root = resolver.resolve(&state, Some("root"), now()).unwrap().1;
    assert!(root.acl_write() && root.snapshot() && root.key_write("any/key"));
    assert_eq!(
        resolver.resolve(&state, Some("nope"), now()).err(),
        Some(ResolveError::NotFound)
    );
    for reserved in ["allow", "deny", "manage"] {
        assert!(resolver.resolve(&state, Some(reserved), now()).is_err());
    }
    let anonymous = resolver
        .resolve(&state, Some("anonymous"), now())
        .unwrap()
        .1;
    assert!(!anonymous.service_read("web"));
}

#[test]
fn a_token_gets_its_policies_and_identities_and_the_denial_names_it() {
    let mut state = state();
    token(&mut state, 10, READER, web_reader());
    token(&mut state, 11, IDENTITY, api_identity());
    let resolver = resolver(DefaultPolicy::Deny);
    let reader = resolver.resolve(&state, Some(READER), now()).unwrap().1;
    assert!(reader.service_read("web-1"));
    assert!(!reader.service_write("web-1"));
    assert!(!reader.service_read("db"));
    assert!(!reader.node_read("n1"));
    let denial = reader
        .require(proconsul_acl::Permission::service(
            proconsul_acl::Access::Write,
            "web-1",
        ))
        .unwrap_err();
    assert_eq!(
        denial.to_string(),
        "Permission denied: token with AccessorID '33333333-3333-3333-3333-333333333333' lacks permission 'service:write' on \"web-1\""
    );
    let identity = resolver.resolve(&state, Some(IDENTITY), now()).unwrap().1;
    assert!(identity.service_write("api"));
    assert!(identity.node_read("any-node"));
    assert!(!identity.service_write("web"));
}

#[test]
fn an_acl_write_is_seen_at_once_despite_the_cache() {
    let mut state = state();
    token(&mut state, 10, READER, web_reader());
    let resolver = resolver(DefaultPolicy::Deny);
    assert!(
        resolver
            .resolve(&state, Some(READER), now())
            .unwrap()
            .1
            .service_read("web")
    );
    let narrowed = Command::AclPolicySet {
        op: AclWriteOp::Update,
        policy: Box::new(AclPolicy {
            id: "22222222-2222-2222-2222-222222222222".into(),
            name: "web-read".into(),
            rules: r#"service_prefix "web" { policy = "deny" }"#.into(),
            ..AclPolicy::default()
        }),
    };
    state.apply(11, &narrowed);
    assert!(
        !resolver
            .resolve(&state, Some(READER), now())
            .unwrap()
            .1
            .service_read("web")
    );
    state.apply(
        12,
        &Command::AclTokenDelete {
            accessor_id: "33333333-3333-3333-3333-333333333333".into(),
        },
    );
    assert!(resolver.resolve(&state, Some(READER), now()).is_err());
}

/// The state with `SHORT`, a web reader expiring a minute from now, and that expiry.
fn with_short_lived_token() -> (State, GoTime) {
    let mut state = state();
    let expires = GoTime::from_unix_millis(NOW_MS + 60_000);
    token(
        &mut state,
        10,
        SHORT,
        AclToken {
            expiration_time: Some(expires),
            ..web_reader()
        },
    );
    (state, expires)
}

#[test]
fn an_expired_token_stops_resolving_before_the_leader_removes_it() {
    let (state, _) = with_short_lived_token();
    let resolver = resolver(DefaultPolicy::Deny);
    assert!(resolver.resolve(&state, Some(SHORT), now()).is_ok());
    let later = GoTime::from_unix_millis(NOW_MS + 61_000);
    assert_eq!(
        resolver.resolve(&state, Some(SHORT), later).err(),
        Some(ResolveError::NotFound)
    );
}

#[test]
fn the_agent_recovery_token_writes_this_agent_only() {
    let state = state();
    let recovery = resolver(DefaultPolicy::Deny)
        .resolve(&state, Some("recovery-secret"), now())
        .unwrap()
        .1;
    assert!(recovery.agent_write("n1"));
    assert!(!recovery.agent_write("n2"));
    assert!(!recovery.key_read("k"));
}

#[test]
fn a_grant_compiled_on_a_client_authorizes_as_the_server_resolves() {
    let mut state = state();
    token(&mut state, 10, READER, web_reader());
    token(&mut state, 11, IDENTITY, api_identity());
    let server = resolver(DefaultPolicy::Deny);
    let client = resolver(DefaultPolicy::Deny);
    for secret in [READER, IDENTITY, "root", ""] {
        let TokenLookup::Found(grant) = TokenResolver::grant(&state, secret, now()) else {
            panic!("{secret} did not resolve");
        };
        let compiled = client.compile(&grant);
        let resolved = server.resolve(&state, Some(secret), now()).unwrap().1;
        for service in ["web-1", "api", "db"] {
            assert_eq!(
                compiled.service_read(service),
                resolved.service_read(service)
            );
            assert_eq!(
                compiled.service_write(service),
                resolved.service_write(service)
            );
        }
        assert_eq!(compiled.node_read("n9"), resolved.node_read("n9"));
        assert_eq!(compiled.acl_write(), resolved.acl_write());
        // The refusal names the same token.
        let permission = proconsul_acl::Permission::key(proconsul_acl::Access::Write, "k");
        assert_eq!(
            compiled.require(permission).err().map(|d| d.to_string()),
            resolved.require(permission).err().map(|d| d.to_string())
        );
    }
}

#[test]
fn a_grant_is_refused_for_unknown_reserved_and_expired_secrets_and_this_agents_recovery_token() {
    let (state, expires) = with_short_lived_token();
    for secret in ["nope", "allow", "manage", "recovery-secret"] {
        assert_eq!(
            TokenResolver::grant(&state, secret, now()),
            TokenLookup::NotFound,
            "{secret}"
        );
    }
    let TokenLookup::Found(grant) = TokenResolver::grant(&state, SHORT, now()) else {
        panic!("the short-lived token resolves before it expires");
    };
    assert_eq!(grant.expiration_time, Some(expires));
    let later = GoTime::from_unix_millis(NOW_MS + 61_000);
    assert_eq!(
        TokenResolver::grant(&state, SHORT, later),
        TokenLookup::NotFound
    );
    // Before bootstrap: unknown secrets say so, and anonymous is the default policy.
    let empty = State::default();
    assert_eq!(
        TokenResolver::grant(&empty, "nope", now()),
        TokenLookup::NotBootstrapped
    );
    let TokenLookup::Found(anonymous) = TokenResolver::grant(&empty, "", now()) else {
        panic!("anonymous resolves before the leader creates it");
    };
    assert!(
        resolver(DefaultPolicy::Allow)
            .compile(&anonymous)
            .service_write("x")
    );
    assert!(
        !resolver(DefaultPolicy::Deny)
            .compile(&anonymous)
            .service_read("x")
    );
}
