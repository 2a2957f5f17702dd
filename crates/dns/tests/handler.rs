//! The request handler driven in-process with encoded queries, its responses encoded
//! the way hickory's UDP and TCP listeners encode them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use hickory_server::net::xfer::Protocol;
use proconsul_api::{AgentService, CatalogRegistration};
use proconsul_dns::in_process::answer_raw;
use proconsul_dns::{DnsConfig, DnsHandler};
use proconsul_state::{Command, State};

fn state_with_instances(count: u8) -> State {
    let mut state = State::default();
    for i in 0..count {
        let registration = CatalogRegistration {
            node: format!("node-with-a-rather-long-name-{i:02}"),
            address: format!("10.5.0.{i}"),
            service: Some(AgentService {
                service: "big".into(),
                port: 9000 + u16::from(i),
                ..AgentService::default()
            }),
            ..CatalogRegistration::default()
        };
        state.apply(u64::from(i) + 1, &Command::Register(Box::new(registration)));
    }
    state
}

async fn ask(
    state: State,
    name: &str,
    record_type: RecordType,
    protocol: Protocol,
    payload: Option<u16>,
) -> Message {
    let handler = handler_over(state);
    let mut query = Message::new(7, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    if let Some(payload) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        query.set_edns(edns);
    }
    let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let bytes = answer_raw(&handler, &query.to_vec().unwrap(), client, protocol)
        .await
        .expect("no response");
    Message::from_vec(&bytes).unwrap()
}

#[tokio::test]
async fn trimmed_udp_answers_keep_every_additional_and_fit() {
    for payload in [Some(512), Some(700), Some(1232), Some(1400), Some(4096)] {
        let response = ask(
            state_with_instances(60),
            "big.service.consul.",
            RecordType::SRV,
            Protocol::Udp,
            payload,
        )
        .await;
        let answers = response.answers.len();
        assert!(answers > 0, "{payload:?}: no answers");
        assert!(answers < 60, "{payload:?}: all answers in one UDP packet");
        assert!(response.metadata.truncation, "{payload:?}: TC");
        assert_eq!(
            response.additionals.len(),
            answers,
            "{payload:?}: one address per kept SRV answer"
        );
        assert!(response.edns.is_some(), "{payload:?}: OPT echoed");
        let size = response.to_vec().unwrap().len();
        assert!(
            size <= usize::from(payload.unwrap()),
            "{payload:?}: {size} bytes"
        );
    }
}

#[tokio::test]
async fn udp_without_edns_gets_the_answer_limit_without_tc() {
    let response = ask(
        state_with_instances(60),
        "big.service.consul.",
        RecordType::SRV,
        Protocol::Udp,
        None,
    )
    .await;
    assert_eq!(response.answers.len(), 3, "udp_answer_limit");
    assert_eq!(response.additionals.len(), 3);
    assert!(!response.metadata.truncation, "enable_truncate is off");
    assert!(response.edns.is_none());
}

#[tokio::test]
async fn tcp_answers_everything_that_fits_64k() {
    let response = ask(
        state_with_instances(200),
        "big.service.consul.",
        RecordType::SRV,
        Protocol::Tcp,
        None,
    )
    .await;
    assert_eq!(response.answers.len(), 200);
    assert_eq!(response.additionals.len(), 200);
    assert!(!response.metadata.truncation);
}

/// A runtime for the property tests, which are synchronous.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn handler_over(state: State) -> DnsHandler {
    let state = Arc::new(state);
    DnsHandler::new(
        DnsConfig::default(),
        Arc::new(move || state.clone()),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(512))]

    /// Any bytes: no panic, and whatever is sent back is a well-formed DNS message.
    #[test]
    fn arbitrary_packets_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let handler = handler_over(state_with_instances(5));
        let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            if let Some(response) = runtime().block_on(answer_raw(&handler, &bytes, client, protocol)) {
                proptest::prop_assert!(Message::from_vec(&response).is_ok());
            }
        }
    }

    /// Any name under the domain, of any type: a well-formed, authoritative answer.
    #[test]
    fn arbitrary_names_get_authoritative_answers(
        labels in proptest::collection::vec("[a-zA-Z0-9_][a-zA-Z0-9_-]{0,19}", 0..6),
        record_type in proptest::sample::select(vec![
            RecordType::A, RecordType::AAAA, RecordType::SRV, RecordType::TXT,
            RecordType::ANY, RecordType::PTR, RecordType::SOA, RecordType::NS, RecordType::MX,
        ]),
    ) {
        let handler = handler_over(state_with_instances(5));
        let name = labels.iter().map(|label| format!("{label}.")).collect::<String>() + "consul.";
        let mut query = Message::new(9, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(Name::from_ascii(&name).unwrap(), record_type));
        let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
        let bytes = runtime()
            .block_on(answer_raw(&handler, &query.to_vec().unwrap(), client, Protocol::Udp))
            .expect("a response");
        let response = Message::from_vec(&bytes).unwrap();
        proptest::prop_assert!(response.metadata.authoritative, "{name} {record_type}");
        proptest::prop_assert_eq!(response.metadata.id, 9);
    }
}
