//! Catalog and health behaviour of the state machine, through its public API.

use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, HealthCheck, HealthStatus,
};
use proconsul_state::{Command, CommandOutcome, State, Table};

fn register(node: &str, service: Option<(&str, &str)>, checks: Vec<HealthCheck>) -> Command {
    Command::Register(Box::new(CatalogRegistration {
        node: node.to_string(),
        address: "10.0.0.1".to_string(),
        service: service.map(|(id, name)| AgentService {
            id: id.to_string(),
            service: name.to_string(),
            tags: vec!["primary".to_string()],
            port: 8000,
            ..AgentService::default()
        }),
        checks,
        ..CatalogRegistration::default()
    }))
}

fn check(id: &str, service_id: &str, status: HealthStatus) -> HealthCheck {
    HealthCheck {
        check_id: id.to_string(),
        name: id.to_string(),
        service_id: service_id.to_string(),
        status,
        ..HealthCheck::default()
    }
}

#[test]
fn register_sets_create_and_modify_index_from_the_log_index() {
    let mut state = State::default();
    assert_eq!(
        state.apply(5, &register("n1", Some(("web1", "web")), vec![])),
        CommandOutcome::Done
    );
    let node = state.node("n1").unwrap();
    assert_eq!((node.create_index, node.modify_index), (5, 5));
    let rows = state.catalog_service("web");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].service_id, "web1");
    assert_eq!((rows[0].create_index, rows[0].modify_index), (5, 5));
    assert_eq!(state.table_indexes().get(Table::Services), 5);
    assert_eq!(state.service_index("web"), 5);
}

#[test]
fn re_registering_the_same_thing_does_not_bump_indexes() {
    let mut state = State::default();
    state.apply(1, &register("n1", Some(("web1", "web")), vec![]));
    state.apply(2, &register("n1", Some(("web1", "web")), vec![]));
    let rows = state.catalog_service("web");
    assert_eq!(rows[0].modify_index, 1);
    assert_eq!(state.table_indexes().get(Table::Services), 1);
    assert_eq!(state.last_applied(), 2);
}

#[test]
fn a_changed_service_keeps_its_create_index() {
    let mut state = State::default();
    state.apply(1, &register("n1", Some(("web1", "web")), vec![]));
    let mut changed = register("n1", Some(("web1", "web")), vec![]);
    if let Command::Register(r) = &mut changed {
        r.service.as_mut().unwrap().port = 9000;
    }
    state.apply(2, &changed);
    let rows = state.catalog_service("web");
    assert_eq!((rows[0].create_index, rows[0].modify_index), (1, 2));
    assert_eq!(rows[0].service_port, 9000);
}

#[test]
fn service_id_defaults_to_the_name() {
    let mut state = State::default();
    state.apply(1, &register("n1", Some(("", "redis")), vec![]));
    assert!(state.node_service("n1", "redis").is_some());
}

#[test]
fn a_check_for_an_unknown_service_is_rejected_and_nothing_is_written() {
    let mut state = State::default();
    let outcome = state.apply(
        1,
        &register("n1", None, vec![check("c1", "nope", HealthStatus::Passing)]),
    );
    assert!(matches!(outcome, CommandOutcome::Rejected(m) if m.contains("nope")));
    assert!(state.node("n1").is_none());
}

#[test]
fn registration_without_address_is_rejected() {
    let mut state = State::default();
    let mut command = register("n1", None, vec![]);
    if let Command::Register(r) = &mut command {
        r.address.clear();
    }
    assert_eq!(
        state.apply(1, &command),
        CommandOutcome::Rejected("Must provide address".to_string())
    );
}

/// Consul creates an unknown node from a `SkipNodeUpdate` registration, address or not
/// (clients register a node's services and the node itself in any order).
#[test]
fn skip_node_update_creates_an_unknown_node() {
    let mut state = State::default();
    let mut command = register("n1", None, vec![]);
    if let Command::Register(r) = &mut command {
        r.address.clear();
        r.skip_node_update = true;
    }
    assert_eq!(state.apply(1, &command), CommandOutcome::Done);
    assert_eq!(state.node("n1").map(|n| n.address.as_str()), Some(""));
    let command = register("n1", None, vec![]);
    assert_eq!(state.apply(2, &command), CommandOutcome::Done);
    assert_ne!(state.node("n1").map(|n| n.address.as_str()), Some(""));
}

#[test]
fn health_service_joins_node_and_service_checks() {
    let mut state = State::default();
    state.apply(
        1,
        &register(
            "n1",
            Some(("web1", "web")),
            vec![
                check("serfHealth", "", HealthStatus::Passing),
                check("web-check", "web1", HealthStatus::Critical),
            ],
        ),
    );
    state.apply(2, &register("n2", Some(("web2", "web")), vec![]));
    let entries = state.health_service("web");
    assert_eq!(entries.len(), 2);
    let ids: Vec<&str> = entries[0]
        .checks
        .iter()
        .map(|c| c.check_id.as_str())
        .collect();
    assert_eq!(ids, ["serfHealth", "web-check"]);
    assert_eq!(entries[0].checks[1].service_name, "web");
    assert!(entries[1].checks.is_empty());
    assert_eq!(state.service_checks("web").len(), 1);
    assert_eq!(state.checks_in_state(Some(HealthStatus::Critical)).len(), 1);
    assert_eq!(state.checks_in_state(None).len(), 2);
}

#[test]
fn many_instances_on_one_node_each_get_the_node_checks_and_only_their_own() {
    let mut state = State::default();
    state.apply(
        1,
        &register(
            "agent",
            None,
            vec![check("serfHealth", "", HealthStatus::Passing)],
        ),
    );
    let mut index = 1;
    for i in 0..50 {
        let id = format!("web-{i}");
        index += 1;
        let status = if i % 7 == 0 {
            HealthStatus::Critical
        } else {
            HealthStatus::Passing
        };
        state.apply(
            index,
            &register(
                "agent",
                Some((&id, "web")),
                vec![check(&format!("c-{i}"), &id, status)],
            ),
        );
        index += 1;
        state.apply(
            index,
            &register("agent", Some((&format!("db-{i}"), "db")), vec![]),
        );
    }
    let entries = state.health_service("web");
    assert_eq!(entries.len(), 50);
    for entry in &entries {
        let suffix = entry.service.id.trim_start_matches("web-");
        let ids: Vec<&str> = entry.checks.iter().map(|c| c.check_id.as_str()).collect();
        assert_eq!(ids, ["serfHealth".to_string(), format!("c-{suffix}")]);
    }
    let db = state.health_service("db");
    assert!(db.iter().all(|entry| entry.checks.len() == 1));
    let web_checks = state.service_checks("web");
    assert_eq!(web_checks.len(), 50);
    assert!(web_checks.iter().all(|c| c.service_id.starts_with("web-")));
}

#[test]
fn service_index_moves_only_for_changes_that_touch_the_service() {
    let mut state = State::default();
    state.apply(1, &register("n1", Some(("web1", "web")), vec![]));
    state.apply(2, &register("n2", Some(("db1", "db")), vec![]));
    assert_eq!(state.service_index("web"), 1);
    assert_eq!(state.service_index("db"), 2);
    // A node-level check on n1 changes web's health but not db's.
    state.apply(
        3,
        &register(
            "n1",
            None,
            vec![check("serfHealth", "", HealthStatus::Passing)],
        ),
    );
    assert_eq!(state.service_index("web"), 3);
    assert_eq!(state.service_index("db"), 2);
}

#[test]
fn deregistering_the_last_instance_leaves_an_index_at_least_as_new() {
    let mut state = State::default();
    state.apply(1, &register("n1", Some(("web1", "web")), vec![]));
    state.apply(
        2,
        &Command::Deregister(CatalogDeregistration {
            node: "n1".to_string(),
            service_id: "web1".to_string(),
            ..CatalogDeregistration::default()
        }),
    );
    assert!(state.catalog_service("web").is_empty());
    assert!(state.service_index("web") >= 2);
    assert!(state.service_names().is_empty());
}

#[test]
fn deregistering_a_node_removes_its_services_and_checks() {
    let mut state = State::default();
    state.apply(
        1,
        &register(
            "n1",
            Some(("web1", "web")),
            vec![
                check("c1", "web1", HealthStatus::Passing),
                check("serfHealth", "", HealthStatus::Passing),
            ],
        ),
    );
    state.apply(
        2,
        &Command::Deregister(CatalogDeregistration {
            node: "n1".to_string(),
            ..CatalogDeregistration::default()
        }),
    );
    assert!(state.node("n1").is_none());
    assert!(state.node_services("n1").is_empty());
    assert!(state.node_checks("n1").is_empty());
    let indexes = state.table_indexes();
    assert_eq!((indexes.nodes, indexes.services, indexes.checks), (2, 2, 2));
}

#[test]
fn catalog_services_merges_tags_of_all_instances() {
    let mut state = State::default();
    state.apply(1, &register("n1", Some(("web1", "web")), vec![]));
    let mut other = register("n2", Some(("web2", "web")), vec![]);
    if let Command::Register(r) = &mut other {
        r.service.as_mut().unwrap().tags = vec!["canary".to_string(), "primary".to_string()];
    }
    state.apply(2, &other);
    let names = state.service_names();
    assert_eq!(
        names["web"],
        vec!["canary".to_string(), "primary".to_string()]
    );
}

#[test]
fn old_indexes_are_not_applied_twice() {
    let mut state = State::default();
    state.apply(3, &register("n1", None, vec![]));
    let outcome = state.apply(3, &register("n2", None, vec![]));
    assert!(matches!(outcome, CommandOutcome::Rejected(_)));
    assert!(state.node("n2").is_none());
}
