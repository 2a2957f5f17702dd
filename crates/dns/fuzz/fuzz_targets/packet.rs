//! Whole DNS packets through the request handler, over UDP and TCP, against a state
//! with a few services and nodes: no input may panic.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock};

use hickory_server::net::xfer::Protocol;
use libfuzzer_sys::fuzz_target;
use proconsul_api::{AgentService, CatalogRegistration};
use proconsul_dns::in_process::answer_raw;
use proconsul_dns::{DnsConfig, DnsHandler};
use proconsul_state::{Command, State};

static HANDLER: LazyLock<DnsHandler> = LazyLock::new(|| {
    let mut state = State::default();
    for i in 0..8u8 {
        let registration = CatalogRegistration {
            node: format!("node{i}"),
            address: if i % 3 == 0 { format!("host{i}.example.") } else { format!("10.0.0.{i}") },
            service: Some(AgentService {
                service: "web".into(),
                tags: vec![format!("t{}", i % 2)],
                port: 80,
                address: if i % 2 == 0 { String::new() } else { format!("fd00::{i}") },
                ..AgentService::default()
            }),
            ..CatalogRegistration::default()
        };
        state.apply(u64::from(i) + 1, &Command::Register(Box::new(registration)));
    }
    let state = Arc::new(state);
    DnsHandler::new(
        DnsConfig { alt_domain: Some("alt.".into()), ..DnsConfig::default() },
        Arc::new(move || state.clone()),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .expect("handler")
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
});

fuzz_target!(|data: &[u8]| {
    let client: SocketAddr = "127.0.0.1:5353".parse().expect("addr");
    for protocol in [Protocol::Udp, Protocol::Tcp] {
        let _ = RUNTIME.block_on(answer_raw(&HANDLER, data, client, protocol));
    }
});
