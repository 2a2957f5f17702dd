use proconsul_acl::{Accessor, DefaultPolicy, TokenRules, parse_rules};
use proconsul_api::{AgentService, CatalogDeregistration, CatalogRegistration, HealthCheck};
use proconsul_state::{Command, CoordinateUpdate, State};

use super::*;

/// An authorizer with `rules` under default deny.
fn token(rules: &str) -> Authorizer {
    let mut merged = TokenRules::new("dc1");
    merged.add_policy(&parse_rules(rules).unwrap().rules, &[]);
    merged.authorizer(DefaultPolicy::Deny, Accessor::Token("t".into()))
}

fn service(id: &str, name: &str) -> AgentService {
    AgentService {
        id: id.into(),
        service: name.into(),
        ..AgentService::default()
    }
}

fn check(id: &str, service_id: &str, service_name: &str) -> HealthCheck {
    HealthCheck {
        node: "n1".into(),
        check_id: id.into(),
        name: id.into(),
        service_id: service_id.into(),
        service_name: service_name.into(),
        ..HealthCheck::default()
    }
}

fn registration(service: Option<AgentService>, checks: Vec<HealthCheck>) -> Command {
    Command::Register(Box::new(CatalogRegistration {
        node: "n1".into(),
        address: "127.0.0.1".into(),
        skip_node_update: true,
        service,
        checks,
        ..CatalogRegistration::default()
    }))
}

/// Node `n1` with service `web` (ID `w1`), its check `c-web` and a node check `c-node`.
fn state() -> State {
    let mut state = State::default();
    let command = Command::Register(Box::new(CatalogRegistration {
        node: "n1".into(),
        address: "127.0.0.1".into(),
        service: Some(service("w1", "web")),
        checks: vec![check("c-web", "w1", "web"), check("c-node", "", "")],
        ..CatalogRegistration::default()
    }));
    state.apply(1, &command);
    state
}

#[test]
fn services_need_service_write_and_node_entries_node_write() {
    let state = state();
    let web = token(r#"service "web" { policy = "write" }"#);
    let node = token(r#"node "n1" { policy = "write" }"#);
    let web_service = registration(Some(service("w1", "web")), vec![]);
    assert_eq!(vet(&web, &state, &web_service), Ok(()));
    let refusal = vet(&node, &state, &web_service).unwrap_err();
    assert!(
        refusal.starts_with("Permission denied") && refusal.contains("service:write"),
        "{refusal}"
    );
    // A node update (not skipped) needs node:write.
    let Command::Register(mut full) = web_service else {
        unreachable!()
    };
    full.skip_node_update = false;
    let full = Command::Register(full);
    assert!(vet(&web, &state, &full).unwrap_err().contains("node:write"));
    let both = token(r#"service "web" { policy = "write" } node "n1" { policy = "write" }"#);
    assert_eq!(vet(&both, &state, &full), Ok(()));
    // Renaming the service behind an ID needs write on the old name too.
    let renamed = registration(Some(service("w1", "api")), vec![]);
    let api = token(r#"service "api" { policy = "write" }"#);
    assert!(vet(&api, &state, &renamed).unwrap_err().contains("\"web\""));
}

#[test]
fn checks_are_judged_by_their_services_real_name_or_the_node() {
    let state = state();
    let web = token(r#"service "web" { policy = "write" }"#);
    let node = token(r#"node "n1" { policy = "write" }"#);
    // The check claims another service's name; the catalog's name for w1 decides.
    let spoofed = registration(None, vec![check("c-web", "w1", "db")]);
    assert_eq!(vet(&web, &state, &spoofed), Ok(()));
    let db = token(r#"service "db" { policy = "write" }"#);
    assert!(vet(&db, &state, &spoofed).is_err());
    let node_check = registration(None, vec![check("c-node", "", "")]);
    assert_eq!(vet(&node, &state, &node_check), Ok(()));
    assert!(
        vet(&web, &state, &node_check)
            .unwrap_err()
            .contains("node:write")
    );
}

#[test]
fn removals_coordinates_and_other_commands() {
    let state = state();
    let web = token(r#"service "web" { policy = "write" }"#);
    let node = token(r#"node "n1" { policy = "write" }"#);
    let removal = |service_id: &str, check_id: &str| {
        Command::Deregister(CatalogDeregistration {
            node: "n1".into(),
            service_id: service_id.into(),
            check_id: check_id.into(),
            ..CatalogDeregistration::default()
        })
    };
    assert_eq!(vet(&web, &state, &removal("w1", "")), Ok(()));
    assert!(vet(&node, &state, &removal("w1", "")).is_err());
    assert_eq!(vet(&web, &state, &removal("", "c-web")), Ok(()));
    assert_eq!(vet(&node, &state, &removal("", "c-node")), Ok(()));
    assert!(vet(&web, &state, &removal("", "c-node")).is_err());
    assert!(vet(&web, &state, &removal("", "")).is_err());
    // Nothing to remove changes nothing.
    assert_eq!(vet(&web, &state, &removal("gone", "")), Ok(()));
    let coordinates = Command::CoordinateBatchUpdate(vec![CoordinateUpdate {
        node: "n1".into(),
        segment: String::new(),
        coord: Default::default(),
    }]);
    assert_eq!(vet(&node, &state, &coordinates), Ok(()));
    assert!(vet(&web, &state, &coordinates).is_err());
    let manage = token(r#"acl = "write" operator = "write" key_prefix "" { policy = "write" }"#);
    let kv = Command::AclTokensExpire {
        now: proconsul_api::go_time::GoTime::from_unix_millis(0),
    };
    assert!(vet(&manage, &state, &kv).is_err());
}
