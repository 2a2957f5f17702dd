//! Prepared queries in the state: the table's rules, name resolution, template
//! rendering, and execution (unit tests and property tests).

use std::collections::BTreeMap;

use proconsul_api::coordinate::Coordinate;
use proconsul_api::query::{PreparedQuery, QueryDnsOptions, QueryTemplate, ServiceQuery};
use proconsul_api::{AgentService, CatalogRegistration, HealthCheck, HealthStatus, Session};
use proconsul_state::{
    Command, CommandOutcome, CompiledTemplate, CoordinateUpdate, ExecuteRequest, PreparedQueryOp,
    State, validate_query,
};
use proptest::prelude::*;

const ID1: &str = "11111111-2222-3333-4444-555555555555";
const ID2: &str = "21111111-2222-3333-4444-555555555555";
const ID3: &str = "31111111-2222-3333-4444-555555555555";

fn query(id: &str, name: &str, service: &str) -> PreparedQuery {
    PreparedQuery {
        id: id.into(),
        name: name.into(),
        service: ServiceQuery {
            service: service.into(),
            ..ServiceQuery::default()
        },
        ..PreparedQuery::default()
    }
}

fn template(id: &str, prefix: &str, service: &str, regexp: &str) -> PreparedQuery {
    PreparedQuery {
        template: QueryTemplate {
            kind: "name_prefix_match".into(),
            regexp: regexp.into(),
            remove_empty_tags: false,
        },
        ..query(id, prefix, service)
    }
}

struct Harness {
    state: State,
    index: u64,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            state: State::default(),
            index: 0,
        }
    }

    fn apply(&mut self, command: Command) -> CommandOutcome {
        self.index += 1;
        self.state.apply(self.index, &command)
    }

    fn create(&mut self, query: PreparedQuery) -> CommandOutcome {
        self.apply(Command::PreparedQuerySet {
            op: PreparedQueryOp::Create,
            query: Box::new(query),
        })
    }

    fn update(&mut self, query: PreparedQuery) -> CommandOutcome {
        self.apply(Command::PreparedQuerySet {
            op: PreparedQueryOp::Update,
            query: Box::new(query),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn instance(
        &mut self,
        node: &str,
        address: &str,
        id: &str,
        service: &str,
        tags: &[&str],
        status: Option<HealthStatus>,
    ) {
        let checks = status
            .map(|status| {
                vec![HealthCheck {
                    node: node.into(),
                    check_id: format!("check-{id}"),
                    service_id: id.into(),
                    status,
                    ..HealthCheck::default()
                }]
            })
            .unwrap_or_default();
        let outcome = self.apply(Command::Register(Box::new(CatalogRegistration {
            node: node.into(),
            address: address.into(),
            node_meta: BTreeMap::from([("rack".to_string(), node.to_string())]),
            service: Some(AgentService {
                id: id.into(),
                service: service.into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                meta: BTreeMap::from([("version".to_string(), id.to_string())]),
                ..AgentService::default()
            }),
            checks,
            ..CatalogRegistration::default()
        })));
        assert_eq!(outcome, CommandOutcome::Done);
    }

    fn run(&self, query: &PreparedQuery, near: Option<&str>) -> Vec<String> {
        let request = ExecuteRequest {
            agent_node: "n2",
            source_ip: Some("10.0.0.3"),
            near,
            seed: 42,
            ..ExecuteRequest::default()
        };
        let mut nodes: Vec<String> = self
            .state
            .execute_prepared_query(query, &request)
            .nodes
            .into_iter()
            .map(|entry| entry.service.id)
            .collect();
        if near.is_none() && query.service.near.is_empty() {
            nodes.sort();
        }
        nodes
    }
}

#[test]
fn create_update_delete_keep_indexes_and_names() {
    let mut h = Harness::new();
    assert_eq!(h.create(query(ID1, "web-q", "web")), CommandOutcome::Done);
    let stored = h.state.prepared_query(ID1).unwrap().clone();
    assert_eq!((stored.create_index, stored.modify_index), (1, 1));
    assert_eq!(h.state.table_indexes().prepared_queries, 1);

    assert_eq!(h.update(query(ID1, "renamed", "web")), CommandOutcome::Done);
    let stored = h.state.prepared_query(ID1).unwrap().clone();
    assert_eq!((stored.create_index, stored.modify_index), (1, 2));
    assert!(h.state.resolve_prepared_query("web-q").unwrap().is_none());
    assert_eq!(
        h.state
            .resolve_prepared_query("RENAMED")
            .unwrap()
            .unwrap()
            .id,
        ID1
    );

    assert_eq!(
        h.create(query(ID2, "Renamed", "db")),
        CommandOutcome::Rejected("name 'Renamed' aliases an existing query name".into())
    );
    assert_eq!(
        h.create(query(ID2, ID3, "db")),
        CommandOutcome::Rejected(format!("name '{ID3}' aliases an existing query ID"))
    );
    assert_eq!(
        h.update(query(ID3, "x", "db")),
        CommandOutcome::Rejected(format!(
            "Cannot modify non-existent prepared query: '{ID3}'"
        ))
    );
    assert_eq!(
        h.create(query(ID1, "other", "db")),
        CommandOutcome::Rejected(format!("Prepared query '{ID1}' already exists"))
    );
    assert_eq!(
        h.create(query(ID2, "", "")),
        CommandOutcome::Rejected(
            "Invalid prepared query: Must provide a Service name to query".into()
        )
    );
    // Unnamed static queries may be many.
    assert_eq!(h.create(query(ID2, "", "db")), CommandOutcome::Done);
    assert_eq!(h.create(query(ID3, "", "db")), CommandOutcome::Done);

    assert_eq!(
        h.apply(Command::PreparedQueryDelete { id: ID1.into() }),
        CommandOutcome::Done
    );
    assert!(h.state.prepared_query(ID1).is_none());
    assert!(h.state.resolve_prepared_query("renamed").unwrap().is_none());
    assert!(matches!(
        h.apply(Command::PreparedQueryDelete { id: ID1.into() }),
        CommandOutcome::Rejected(_)
    ));
    assert_eq!(h.state.prepared_queries().count(), 2);
}

#[test]
fn only_one_catch_all_template() {
    let mut h = Harness::new();
    assert_eq!(
        h.create(template(ID1, "", "${name.full}", "")),
        CommandOutcome::Done
    );
    assert_eq!(
        h.create(template(ID2, "", "${name.full}", "")),
        CommandOutcome::Rejected("a query template with an empty name already exists".into())
    );
    assert_eq!(
        h.update(template(ID1, "", "x-${name.full}", "")),
        CommandOutcome::Done
    );
}

#[test]
fn queries_tied_to_a_session_go_with_it() {
    let mut h = Harness::new();
    h.instance("n1", "10.0.0.1", "web1", "web", &[], None);
    let mut with_session = query(ID1, "q", "web");
    with_session.session = "s1".into();
    assert_eq!(
        h.create(with_session.clone()),
        CommandOutcome::Rejected("invalid session \"s1\"".into())
    );
    h.apply(Command::SessionCreate(Box::new(Session {
        id: "s1".into(),
        node: "n1".into(),
        ..Session::default()
    })));
    assert_eq!(h.create(with_session), CommandOutcome::Done);
    assert_eq!(h.create(query(ID2, "other", "web")), CommandOutcome::Done);
    h.apply(Command::SessionDestroy {
        id: "s1".into(),
        now_ms: 0,
    });
    assert!(h.state.prepared_query(ID1).is_none());
    assert!(h.state.prepared_query(ID2).is_some());
    assert_eq!(h.state.table_indexes().prepared_queries, h.index);
}

#[test]
fn validation_texts() {
    let bad_ttl = PreparedQuery {
        dns: QueryDnsOptions { ttl: "soon".into() },
        ..query(ID1, "", "web")
    };
    assert!(
        validate_query(&bad_ttl)
            .unwrap_err()
            .starts_with("Invalid prepared query: Bad DNS TTL 'soon'")
    );
    let bad_type = PreparedQuery {
        template: QueryTemplate {
            kind: "prefix".into(),
            ..QueryTemplate::default()
        },
        ..query(ID1, "", "web")
    };
    assert_eq!(
        validate_query(&bad_type).unwrap_err(),
        "Bad Template.Type 'prefix'"
    );
    assert!(
        validate_query(&template(ID1, "x", "web", "("))
            .unwrap_err()
            .starts_with("Bad Regexp")
    );
    assert!(
        validate_query(&template(ID1, "x", "${nope}", ""))
            .unwrap_err()
            .contains("unknown variable accessed: nope")
    );
    let mut negative = query(ID1, "", "web");
    negative.service.failover.nearest_n = -1;
    assert_eq!(
        validate_query(&negative).unwrap_err(),
        "Invalid prepared query: Bad NearestN '-1', must be >= 0"
    );
}

#[test]
fn templates_render_names_and_matches() {
    let mut t = template(
        ID1,
        "geo-db",
        "mysql-${match(1)}",
        r"^geo-db-(.*?)-([^\-]+?)$",
    );
    t.service.tags = Some(vec![
        "${match(2)}".into(),
        "${name.prefix}".into(),
        "${name.suffix}".into(),
        "${name.full}".into(),
        "${match(7)}".into(),
        "x${agent.segment}y".into(),
    ]);
    t.service.node_meta = Some(BTreeMap::from([(
        "k".to_string(),
        "${match(0)}".to_string(),
    )]));
    let compiled = CompiledTemplate::compile(&t).unwrap();
    let rendered = compiled.render("geo-db-customer-primary").unwrap();
    assert_eq!(rendered.service.service, "mysql-customer");
    assert_eq!(
        rendered.service.tags.as_deref().unwrap(),
        [
            "primary",
            "geo-db",
            "-customer-primary",
            "geo-db-customer-primary",
            "",
            "xy"
        ]
    );
    assert_eq!(
        rendered.service.node_meta.unwrap()["k"],
        "geo-db-customer-primary"
    );
    // The rest of the definition is kept as stored.
    assert_eq!(rendered.name, "geo-db");
    assert_eq!(rendered.template, t.template);

    // A name the regexp does not match renders its matches empty.
    let rendered = compiled.render("geo-db").unwrap();
    assert_eq!(rendered.service.service, "mysql-");

    t.template.remove_empty_tags = true;
    let rendered = CompiledTemplate::compile(&t)
        .unwrap()
        .render("geo-db")
        .unwrap();
    assert_eq!(
        rendered.service.tags.as_deref().unwrap(),
        ["geo-db", "geo-db", "xy"]
    );
}

#[test]
fn resolution_prefers_ids_then_names_then_the_longest_prefix() {
    let mut h = Harness::new();
    assert_eq!(
        h.create(template(ID1, "", "${name.full}", "")),
        CommandOutcome::Done
    );
    assert_eq!(
        h.create(template(ID2, "geo", "geo:${name.suffix}", "")),
        CommandOutcome::Done
    );
    assert_eq!(
        h.create(query(ID3, "geo-exact", "exact")),
        CommandOutcome::Done
    );
    let resolve = |name: &str| {
        let q = h.state.resolve_prepared_query(name).unwrap().unwrap();
        (q.id, q.service.service)
    };
    assert_eq!(resolve(ID3), (ID3.to_string(), "exact".to_string()));
    assert_eq!(resolve("geo-exact"), (ID3.to_string(), "exact".to_string()));
    assert_eq!(resolve("geo-db"), (ID2.to_string(), "geo:-db".to_string()));
    assert_eq!(resolve("GEO"), (ID2.to_string(), "geo:".to_string()));
    assert_eq!(resolve("redis"), (ID1.to_string(), "redis".to_string()));
    assert!(h.state.resolve_prepared_query("").unwrap().is_none());
    assert_eq!(
        h.state.resolve_prepared_query(ID2).unwrap_err(),
        "prepared query templates can only be resolved up by name, not by ID"
    );

    h.apply(Command::PreparedQueryDelete { id: ID1.into() });
    assert!(h.state.resolve_prepared_query("redis").unwrap().is_none());
}

fn populated() -> Harness {
    let mut h = Harness::new();
    h.instance("n1", "10.0.0.1", "web1", "web", &["primary", "v1"], None);
    h.instance(
        "n2",
        "10.0.0.2",
        "web2",
        "web",
        &["v1"],
        Some(HealthStatus::Passing),
    );
    h.instance(
        "n3",
        "10.0.0.3",
        "web3",
        "web",
        &["v2"],
        Some(HealthStatus::Warning),
    );
    h.instance(
        "n4",
        "10.0.0.4",
        "web4",
        "web",
        &["Primary"],
        Some(HealthStatus::Critical),
    );
    h.instance("n4", "10.0.0.4", "db1", "db", &[], None);
    h
}

#[test]
fn execution_filters() {
    let h = populated();
    let mut q = query(ID1, "", "web");
    assert_eq!(h.run(&q, None), ["web1", "web2", "web3"]);

    q.service.only_passing = true;
    assert_eq!(h.run(&q, None), ["web1", "web2"]);

    q.service.only_passing = false;
    q.service.ignore_check_ids = Some(vec!["check-web4".into()]);
    assert_eq!(h.run(&q, None), ["web1", "web2", "web3", "web4"]);

    q.service.tags = Some(vec!["primary".into()]);
    assert_eq!(h.run(&q, None), ["web1", "web4"]);
    q.service.tags = Some(vec!["v1".into(), "!primary".into()]);
    assert_eq!(h.run(&q, None), ["web2"]);
    q.service.tags = None;

    q.service.node_meta = Some(BTreeMap::from([("rack".into(), "n3".into())]));
    assert_eq!(h.run(&q, None), ["web3"]);
    q.service.node_meta = None;
    q.service.service_meta = Some(BTreeMap::from([("version".into(), "web2".into())]));
    assert_eq!(h.run(&q, None), ["web2"]);
    q.service.service_meta = None;

    // Near: the named node, the agent's node, or the node at the source address first.
    q.service.near = "n3".into();
    assert_eq!(h.run(&q, None)[0], "web3");
    assert_eq!(h.run(&q, Some("_agent"))[0], "web2");
    assert_eq!(h.run(&q, Some("_ip"))[0], "web3");
    assert_eq!(h.run(&q, Some("n1"))[0], "web1");

    let limited = h.state.execute_prepared_query(
        &q,
        &ExecuteRequest {
            limit: 2,
            ..ExecuteRequest::default()
        },
    );
    assert_eq!(limited.nodes.len(), 2);
    assert_eq!(limited.service, "web");
    assert_eq!(limited.failovers, 0);

    let none = query(ID1, "", "nothing");
    assert!(h.run(&none, None).is_empty());
}

#[test]
fn near_sorts_by_coordinates_with_the_near_node_first() {
    let mut h = Harness::new();
    for (node, x) in [("n1", 0.0), ("n2", 0.030), ("n3", 0.010), ("n4", 0.020)] {
        h.instance(node, "10.0.0.1", &format!("web-{node}"), "web", &[], None);
        let coord = Coordinate {
            vec: vec![x, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            error: 1.5,
            adjustment: 0.0,
            height: 1.0e-5,
        };
        h.apply(Command::CoordinateBatchUpdate(vec![CoordinateUpdate {
            node: node.into(),
            segment: String::new(),
            coord,
        }]));
    }
    h.instance("n5", "10.0.0.5", "web-n5", "web", &[], None);
    let q = query(ID1, "web", "web");
    // The node asked for, then by distance from it, then the node without a coordinate.
    assert_eq!(
        h.run(&q, Some("n1")),
        ["web-n1", "web-n3", "web-n4", "web-n2", "web-n5"]
    );
    assert_eq!(
        h.run(&q, Some("n2")),
        ["web-n2", "web-n4", "web-n3", "web-n1", "web-n5"]
    );
    // `_agent` is the serving agent's node (n2 in the harness).
    assert_eq!(h.run(&q, Some("_agent")), h.run(&q, Some("n2")));
    // A source without a coordinate moves only itself to the front.
    assert_eq!(h.run(&q, Some("n5"))[0], "web-n5");
}

#[test]
fn shuffles_are_deterministic_per_seed_and_vary_between_seeds() {
    let mut h = Harness::new();
    for i in 0..20 {
        h.instance(
            &format!("n{i}"),
            "10.0.0.1",
            &format!("w{i}"),
            "web",
            &[],
            None,
        );
    }
    let q = query(ID1, "", "web");
    let order = |seed| {
        h.state
            .execute_prepared_query(
                &q,
                &ExecuteRequest {
                    seed,
                    ..ExecuteRequest::default()
                },
            )
            .nodes
            .into_iter()
            .map(|e| e.service.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(1), order(1));
    assert!((2..10).any(|seed| order(seed) != order(1)));
}

fn arb_tags() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("!a".to_string()),
            Just("!c".to_string()),
            Just("".to_string()),
        ],
        0..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn execution_is_total_deterministic_and_respects_filters(
        instances in proptest::collection::vec(
            (0..4usize, proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 0..3),
             proptest::option::of(prop_oneof![Just(HealthStatus::Passing), Just(HealthStatus::Warning), Just(HealthStatus::Critical)])),
            0..12),
        tags in arb_tags(),
        only_passing in any::<bool>(),
        near in proptest::option::of(prop_oneof![Just("_agent"), Just("_ip"), Just("n1"), Just("nope"), Just("")]),
        limit in 0usize..5,
        seed in any::<u64>(),
    ) {
        let mut h = Harness::new();
        for (i, (node, instance_tags, status)) in instances.iter().enumerate() {
            h.instance(&format!("n{node}"), &format!("10.0.0.{node}"), &format!("s{i}"), "web", instance_tags, *status);
        }
        let mut q = query(ID1, "", "web");
        q.service.tags = Some(tags.clone());
        q.service.only_passing = only_passing;
        let request = ExecuteRequest { agent_node: "n2", source_ip: Some("10.0.0.3"), near, limit, seed, connect: false };
        let first = h.state.execute_prepared_query(&q, &request);
        let second = h.state.execute_prepared_query(&q, &request);
        prop_assert_eq!(&first, &second);
        if limit > 0 {
            prop_assert!(first.nodes.len() <= limit);
        }
        let all = h.state.health_service("web");
        for entry in &first.nodes {
            prop_assert!(all.contains(entry));
            for check in &entry.checks {
                prop_assert!(check.status != HealthStatus::Critical);
                prop_assert!(!only_passing || check.status == HealthStatus::Passing);
            }
            for tag in &tags {
                match tag.strip_prefix('!') {
                    Some(forbidden) => prop_assert!(!entry.service.tags.iter().any(|t| t == forbidden)),
                    None => prop_assert!(entry.service.tags.iter().any(|t| t == tag)),
                }
            }
        }
        let mut ids: Vec<&str> = first.nodes.iter().map(|e| e.service.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), first.nodes.len());
    }

    #[test]
    fn resolution_and_rendering_never_panic(
        name in "\\PC{0,12}",
        prefix in "[a-zé-]{0,4}",
        regexp in prop_oneof![Just(String::new()), Just("^(.)(.*)$".to_string()), Just("(é+)".to_string())],
        service in prop_oneof![Just("${name.full}"), Just("${match(1)}-${match(2)}"), Just("${name.suffix}x"), Just("${match(9)}")],
    ) {
        let mut h = Harness::new();
        let outcome = h.create(template(ID1, &prefix, service, &regexp));
        prop_assert_eq!(outcome, CommandOutcome::Done);
        let _ = h.state.resolve_prepared_query(&name);
        let _ = h.state.resolve_prepared_query(&name.to_uppercase());
    }
}
