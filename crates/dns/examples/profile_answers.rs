//! Times the request handler in-process (no sockets) on one service lookup, for
//! profiling: `cargo run --release -p proconsul-dns --example profile_answers -- 1000 SRV 2000`
//! (instances, query type, rounds), or under `valgrind --tool=callgrind`. Every round
//! goes through the response cache like UDP queries do, so after the first rounds it
//! measures the cached path; pass a fourth argument `fresh` to vary the query ID and
//! question case so that every round builds its answer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use hickory_server::net::xfer::Protocol;
use proconsul_api::{AgentService, CatalogRegistration};
use proconsul_dns::in_process::answer_raw;
use proconsul_dns::{DnsConfig, DnsHandler};
use proconsul_state::{Command, State};

fn main() {
    let count: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let kind = std::env::args().nth(2).unwrap_or("SRV".into());
    let rounds: u32 = std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let mut state = State::default();
    for i in 0..count {
        let registration = CatalogRegistration {
            node: format!("n{count}-{i}"),
            address: format!("10.0.{}.{}", i / 250, i % 250 + 1),
            service: Some(AgentService {
                service: "svc".into(),
                port: 8000,
                ..AgentService::default()
            }),
            ..CatalogRegistration::default()
        };
        state.apply(u64::from(i) + 1, &Command::Register(Box::new(registration)));
    }
    let state = Arc::new(state);
    let handler = DnsHandler::new(
        DnsConfig::default(),
        Arc::new(move || state.clone()),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .unwrap();
    let record_type = if kind == "A" {
        RecordType::A
    } else {
        RecordType::SRV
    };
    let mut query = Message::new(7, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(
        Name::from_ascii("svc.service.consul.").unwrap(),
        record_type,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    query.set_edns(edns);
    let fresh = std::env::args().nth(4).is_some_and(|arg| arg == "fresh");
    let bytes = query.to_vec().unwrap();
    let client: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let start = Instant::now();
    let mut size = 0;
    for round in 0..rounds {
        let mut packet = bytes.clone();
        if fresh {
            // Flip the case of the name's letters by the round's bits: a new question
            // for the cache each time (names compare without case, so the answer holds).
            for (i, byte) in packet[13..].iter_mut().take(16).enumerate() {
                if byte.is_ascii_alphabetic() && (round >> (i % 16)) & 1 == 1 {
                    byte.make_ascii_uppercase();
                }
            }
        }
        size = runtime
            .block_on(answer_raw(&handler, &packet, client, Protocol::Udp))
            .unwrap()
            .len();
    }
    let per = start.elapsed() / rounds;
    println!("{count} {kind}: {per:?} per query, {size} bytes");
}
