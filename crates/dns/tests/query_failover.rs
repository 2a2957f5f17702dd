//! `<query>.query` lookups failing over: a query whose local execution leaves no
//! instance and whose `Failover` names datacenters goes to the handler's
//! `QueryFailover` closure (a fake one here), and the answer is built from the
//! instances it brings, with the local records logic (TTL, SRV targets in the datacenter
//! that answered, the DNS token's ACL); without a policy, or with instances here, the
//! closure is not asked.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_server::net::xfer::Protocol;
use proconsul_acl::{Authorizer, DefaultPolicy, Rules};
use proconsul_api::query::{PreparedQuery, QueryDnsOptions, QueryFailoverOptions, ServiceQuery};
use proconsul_api::{
    AgentService, CatalogRegistration, HealthCheck, HealthStatus, Node, ServiceEntry,
};
use proconsul_dns::in_process::{answer_forwarded, answer_raw};
use proconsul_dns::{DnsConfig, DnsHandler, FailoverFound, FailoverRequest, QueryFailover};
use proconsul_state::{Command, PreparedQueryOp, State};

/// `web` on `near` (10.0.0.1) with a critical check, `db` on `db-node` (10.0.0.2), and
/// queries: `web-q` (fails over to dc2, `DNS.TTL` 7s), `web-plain` (no failover),
/// `db-q` (fails over, but has an instance here).
fn state() -> State {
    let mut state = State::default();
    let registrations = [
        ("near", "10.0.0.1", "web", HealthStatus::Critical),
        ("db-node", "10.0.0.2", "db", HealthStatus::Passing),
    ];
    for (i, (node, address, service, status)) in registrations.into_iter().enumerate() {
        let registration = CatalogRegistration {
            node: node.into(),
            address: address.into(),
            service: Some(AgentService {
                service: service.into(),
                port: 80,
                ..AgentService::default()
            }),
            check: Some(HealthCheck {
                node: node.into(),
                check_id: format!("{service}-check"),
                name: format!("{service} check"),
                status,
                service_id: service.into(),
                ..HealthCheck::default()
            }),
            ..CatalogRegistration::default()
        };
        state.apply(i as u64 + 1, &Command::Register(Box::new(registration)));
    }
    let failover = QueryFailoverOptions {
        datacenters: Some(vec!["dc2".into()]),
        ..QueryFailoverOptions::default()
    };
    let queries = [
        ("web-q", "web", failover.clone(), "7s"),
        ("web-plain", "web", QueryFailoverOptions::default(), ""),
        ("db-q", "db", failover, ""),
    ];
    for (i, (name, service, failover, ttl)) in queries.into_iter().enumerate() {
        let query = PreparedQuery {
            id: format!("11111111-2222-3333-4444-55555555555{i}"),
            name: name.into(),
            service: ServiceQuery {
                service: service.into(),
                failover,
                ..ServiceQuery::default()
            },
            dns: QueryDnsOptions { ttl: ttl.into() },
            ..PreparedQuery::default()
        };
        state.apply(
            10 + i as u64,
            &Command::PreparedQuerySet {
                op: PreparedQueryOp::Create,
                query: Box::new(query),
            },
        );
    }
    state
}

/// An instance of `web` in dc2.
fn remote_entry(node: &str, address: &str) -> ServiceEntry {
    ServiceEntry {
        node: Node {
            node: node.into(),
            address: address.into(),
            datacenter: "dc2".into(),
            ..Node::default()
        },
        service: AgentService {
            id: "web".into(),
            service: "web".into(),
            port: 8080,
            ..AgentService::default()
        },
        checks: Vec::new(),
    }
}

/// The requests the fake closure got.
type Asked = Arc<Mutex<Vec<FailoverRequest>>>;

/// A closure answering with `nodes` from dc2 (none: `None`), recording each request.
fn fake_failover(nodes: Vec<ServiceEntry>) -> (QueryFailover, Asked) {
    let asked: Asked = Arc::default();
    let failover: QueryFailover = Arc::new({
        let asked = asked.clone();
        move |request| {
            asked.lock().unwrap().push(request);
            let nodes = nodes.clone();
            Box::pin(async move {
                (!nodes.is_empty()).then(|| FailoverFound {
                    datacenter: "dc2".into(),
                    nodes,
                })
            })
        }
    });
    (failover, asked)
}

fn handler(failover: QueryFailover) -> DnsHandler {
    let state = Arc::new(state());
    DnsHandler::new(
        DnsConfig::default(),
        Arc::new(move || state.clone()),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .unwrap()
    .with_query_failover(failover)
}

fn query(name: &str, record_type: RecordType) -> Vec<u8> {
    let mut query = Message::new(7, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    query.to_vec().unwrap()
}

async fn ask(handler: &DnsHandler, name: &str, record_type: RecordType) -> Message {
    let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let bytes = answer_raw(handler, &query(name, record_type), client, Protocol::Udp)
        .await
        .expect("no response");
    Message::from_vec(&bytes).unwrap()
}

fn addresses(response: &Message) -> Vec<String> {
    response
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn no_instance_here_answers_with_the_failover_datacenters_instances() {
    let (failover, asked) = fake_failover(vec![remote_entry("far", "10.9.0.1")]);
    let handler = handler(failover);

    let a = ask(&handler, "web-q.query.consul.", RecordType::A).await;
    assert_eq!(a.metadata.response_code, ResponseCode::NoError, "{a:?}");
    assert_eq!(addresses(&a), ["10.9.0.1"]);
    assert!(a.answers.iter().all(|record| record.ttl == 7), "{a:?}");

    let srv = ask(&handler, "web-q.query.consul.", RecordType::SRV).await;
    assert_eq!(srv.answers.len(), 1, "{srv:?}");
    let RData::SRV(record) = &srv.answers[0].data else {
        panic!("{srv:?}");
    };
    assert_eq!(record.port, 8080);
    // The target is named in the datacenter that answered.
    assert_eq!(record.target.to_ascii(), "far.node.dc2.consul.");
    assert_eq!(srv.answers[0].ttl, 7);
    let additional: Vec<String> = srv
        .additionals
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(format!("{} {}", record.name.to_ascii(), a.0)),
            _ => None,
        })
        .collect();
    assert_eq!(additional, ["far.node.dc2.consul. 10.9.0.1"]);

    // The closure got the query as rendered here, with no token of the asker's.
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0].query.name, "web-q");
    assert_eq!(asked[0].query.service.service, "web");
    assert_eq!(asked[0].token, None);
}

#[tokio::test]
async fn nothing_anywhere_is_nxdomain_and_no_policy_or_local_instances_ask_nobody() {
    let (failover, asked) = fake_failover(Vec::new());
    let handler = handler(failover);
    let none = ask(&handler, "web-q.query.consul.", RecordType::A).await;
    assert_eq!(none.metadata.response_code, ResponseCode::NXDomain);
    assert!(none.answers.is_empty());
    assert_eq!(none.authorities.len(), 1, "the SOA: {none:?}");
    assert_eq!(asked.lock().unwrap().len(), 1);

    let plain = ask(&handler, "web-plain.query.consul.", RecordType::A).await;
    assert_eq!(plain.metadata.response_code, ResponseCode::NXDomain);
    let local = ask(&handler, "db-q.query.consul.", RecordType::A).await;
    assert_eq!(addresses(&local), ["10.0.0.2"]);
    assert_eq!(asked.lock().unwrap().len(), 1, "asked again");
}

#[tokio::test]
async fn the_remote_instances_are_filtered_by_the_dns_token_and_carry_a_forwarded_one() {
    let (failover, asked) = fake_failover(vec![
        remote_entry("far-pub", "10.9.0.1"),
        remote_entry("far-secret", "10.9.0.2"),
    ]);
    let rules = Rules::parse(
        "service \"web\" { policy = \"read\" }\nnode_prefix \"far-pub\" { policy = \"read\" }",
    )
    .unwrap();
    let authorizer = Arc::new(Authorizer::from_rules(&rules, DefaultPolicy::Deny));
    let handler = handler(failover).with_acl({
        let authorizer = authorizer.clone();
        Arc::new(move |_: &State| authorizer.clone())
    });
    let a = ask(&handler, "web-q.query.consul.", RecordType::A).await;
    assert_eq!(addresses(&a), ["10.9.0.1"], "{a:?}");

    // A client agent's query, with its DNS token: the closure gets the token, the
    // answer is what its authorizer reads.
    let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let bytes = answer_forwarded(
        &handler,
        &query("web-q.query.consul.", RecordType::A),
        client,
        true,
        Some(authorizer),
        Some("client-dns-token".into()),
    )
    .await
    .unwrap();
    let forwarded = Message::from_vec(&bytes).unwrap();
    assert_eq!(addresses(&forwarded), ["10.9.0.1"], "{forwarded:?}");
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0].token, None);
    assert_eq!(asked[1].token.as_deref(), Some("client-dns-token"));
}
