//! DNS under ACLs: the DNS token's authorizer decides which services and nodes have
//! records, for every lookup form (services, nodes, prepared queries, reverse).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_server::net::xfer::Protocol;
use proconsul_acl::{Authorizer, DefaultPolicy, Rules};
use proconsul_api::query::{PreparedQuery, ServiceQuery};
use proconsul_api::{AgentService, CatalogRegistration};
use proconsul_dns::in_process::answer_raw;
use proconsul_dns::{DnsConfig, DnsHandler};
use proconsul_state::{Command, PreparedQueryOp, State};

/// `pub-svc` on `pub-node` (10.0.0.1) and `secret-svc` on `secret-node` (10.0.0.2),
/// and a prepared query `secret-q` for the secret service.
fn state() -> State {
    let mut state = State::default();
    for (i, name) in ["pub", "secret"].into_iter().enumerate() {
        let registration = CatalogRegistration {
            node: format!("{name}-node"),
            address: format!("10.0.0.{}", i + 1),
            service: Some(AgentService {
                service: format!("{name}-svc"),
                port: 80,
                ..AgentService::default()
            }),
            ..CatalogRegistration::default()
        };
        state.apply(i as u64 + 1, &Command::Register(Box::new(registration)));
    }
    let query = PreparedQuery {
        id: "11111111-2222-3333-4444-555555555555".into(),
        name: "secret-q".into(),
        service: ServiceQuery {
            service: "secret-svc".into(),
            ..ServiceQuery::default()
        },
        ..PreparedQuery::default()
    };
    state.apply(
        3,
        &Command::PreparedQuerySet {
            op: PreparedQueryOp::Create,
            query: Box::new(query),
        },
    );
    state
}

/// A handler whose DNS token reads services and nodes starting with "pub" only.
fn handler() -> DnsHandler {
    let state = Arc::new(state());
    let rules = Rules::parse(
        "service_prefix \"pub\" { policy = \"read\" }\nnode_prefix \"pub\" { policy = \"read\" }",
    )
    .unwrap();
    let authorizer = Arc::new(Authorizer::from_rules(&rules, DefaultPolicy::Deny));
    DnsHandler::new(
        DnsConfig::default(),
        Arc::new(move || state.clone()),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .unwrap()
    .with_acl(Arc::new(move |_: &State| authorizer.clone()))
}

async fn ask(handler: &DnsHandler, name: &str, record_type: RecordType) -> Message {
    let mut query = Message::new(7, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let bytes = answer_raw(handler, &query.to_vec().unwrap(), client, Protocol::Udp)
        .await
        .expect("no response");
    Message::from_vec(&bytes).unwrap()
}

#[tokio::test]
async fn only_what_the_dns_token_reads_has_records() {
    let handler = handler();
    for (name, record_type) in [
        ("pub-svc.service.consul.", RecordType::A),
        ("pub-svc.service.consul.", RecordType::SRV),
        ("pub-node.node.consul.", RecordType::A),
        ("1.0.0.10.in-addr.arpa.", RecordType::PTR),
    ] {
        let response = ask(&handler, name, record_type).await;
        assert_eq!(
            response.metadata.response_code,
            ResponseCode::NoError,
            "{name}"
        );
        assert!(
            !response.answers.is_empty(),
            "{name} {record_type}: no answer"
        );
    }
    for (name, record_type) in [
        ("secret-svc.service.consul.", RecordType::A),
        ("secret-svc.service.consul.", RecordType::SRV),
        ("secret-node.node.consul.", RecordType::A),
        ("secret-q.query.consul.", RecordType::A),
        ("2.0.0.10.in-addr.arpa.", RecordType::PTR),
    ] {
        let response = ask(&handler, name, record_type).await;
        assert!(
            response.answers.is_empty(),
            "{name} {record_type}: {response:?}"
        );
        assert!(
            response.additionals.is_empty(),
            "{name} {record_type}: {response:?}"
        );
        let records = format!("{:?}", response.authorities);
        assert!(
            !records.contains("10.0.0.2") && !records.contains("secret"),
            "{records}"
        );
    }
}
