//! The request handler driven in-process with encoded queries, its responses encoded
//! the way hickory's UDP and TCP listeners encode them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use proconsul_api::{AgentService, CatalogRegistration};
use proconsul_dns::{DnsConfig, DnsHandler};
use proconsul_state::{Command, State};

/// Captures the encoded response, limited as hickory limits it per protocol.
#[derive(Clone)]
struct Capture {
    protocol: Protocol,
    bytes: Arc<Mutex<Vec<u8>>>,
}

#[async_trait::async_trait]
impl ResponseHandler for Capture {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        let mut bytes = Vec::new();
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_max_size(match (self.protocol, response.edns()) {
            (Protocol::Udp, Some(edns)) => edns.max_payload(),
            (Protocol::Udp, None) => 512,
            _ => u16::MAX,
        });
        let info = response
            .destructive_emit(&mut encoder)
            .map_err(|error| NetError::from(error.to_string()))?;
        *self.bytes.lock().unwrap() = bytes;
        Ok(info)
    }
}

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
    let state = Arc::new(state);
    let handler = DnsHandler::new(
        DnsConfig::default(),
        Arc::new(move || state.clone()),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .unwrap();
    let mut query = Message::new(7, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    if let Some(payload) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        query.set_edns(edns);
    }
    let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let request = Request::from_bytes(query.to_vec().unwrap(), client, protocol).unwrap();
    let capture = Capture {
        protocol,
        bytes: Arc::default(),
    };
    handler
        .handle_request::<_, TokioTime>(&request, capture.clone())
        .await;
    let bytes = capture.bytes.lock().unwrap().clone();
    assert!(!bytes.is_empty(), "no response");
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
