//! The DNS interface, queried with `dig` against a real agent: every query form, health
//! filtering with real checks, packet limits, TTLs, recursors and bad packets.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

use proconsul_tests::dig::{DigResponse, dig};
use proconsul_tests::{TempDir, TestAgent, put, write_file};
use serde_json::json;

async fn register(agent: &TestAgent, path: &str, body: serde_json::Value) {
    let answer = put(&agent.url(path), body.to_string()).await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
}

/// Queries until `done` holds (checks and writes reach DNS within moments).
fn dig_until(agent: &TestAgent, args: &[&str], done: impl Fn(&DigResponse) -> bool) -> DigResponse {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = dig(agent.dns_port, args);
        if done(&response) {
            return response;
        }
        assert!(
            Instant::now() < deadline,
            "dig {args:?} never got there:\n{}",
            response.raw
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn write_config(dir: &Path, text: &str) -> String {
    write_file(dir, "dns.hcl", text)
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[tokio::test]
async fn service_a_and_srv_answers_with_additional_records() {
    let agent = TestAgent::start();
    let node = agent.node_name.clone();
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "web", "ID": "web1", "Port": 8080, "Tags": ["v1"], "Weights": {"Passing": 7, "Warning": 1}}),
    )
    .await;
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "web", "ID": "web2", "Port": 8081, "Address": "10.0.0.5", "Tags": ["v2"]}),
    )
    .await;

    let a = dig(agent.dns_port, &["web.service.consul", "A"]);
    assert_eq!(a.status, "NOERROR", "{}", a.raw);
    assert!(a.has_flag("aa"), "authoritative: {}", a.raw);
    assert!(
        !a.has_flag("ra"),
        "no recursion without recursors: {}",
        a.raw
    );
    assert_eq!(sorted(a.answers("A")), ["10.0.0.5", "127.0.0.1"]);
    assert!(a.answer.iter().all(|rr| rr.name == "web.service.consul."));

    let srv = dig(agent.dns_port, &["web.service.consul", "SRV"]);
    let records: HashMap<String, String> = srv
        .answers("SRV")
        .into_iter()
        .map(|data| {
            let fields: Vec<&str> = data.split(' ').collect();
            (fields[3].to_string(), data.clone())
        })
        .collect();
    let node_target = format!("{node}.node.dc1.consul.");
    assert_eq!(
        records[&node_target],
        format!("1 7 8080 {node_target}"),
        "weights and port: {}",
        srv.raw
    );
    assert_eq!(
        records["0a000005.addr.dc1.consul."],
        "1 1 8081 0a000005.addr.dc1.consul."
    );
    let additional: Vec<(String, String, String)> = srv
        .additional
        .iter()
        .map(|rr| (rr.name.clone(), rr.kind.clone(), rr.data.clone()))
        .collect();
    assert!(additional.contains(&(node_target.clone(), "A".into(), "127.0.0.1".into())));
    assert!(additional.contains(&(
        "0a000005.addr.dc1.consul.".into(),
        "A".into(),
        "10.0.0.5".into()
    )));
    // The node's metadata travels with it (Consul's consul-network-segment).
    assert!(
        additional
            .iter()
            .any(|(name, kind, _)| name == &node_target && kind == "TXT"),
        "{}",
        srv.raw
    );

    // The SRV target resolves on its own.
    let addr = dig(agent.dns_port, &["0a000005.addr.dc1.consul", "A"]);
    assert_eq!(addr.answers("A"), ["10.0.0.5"]);
}

#[tokio::test]
async fn tags_rfc2782_datacenters_and_case() {
    let agent = TestAgent::start();
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "db", "ID": "db1", "Port": 5432, "Address": "10.0.0.1", "Tags": ["primary"]}),
    )
    .await;
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "db", "ID": "db2", "Port": 5433, "Address": "10.0.0.2", "Tags": ["replica"]}),
    )
    .await;
    let port = agent.dns_port;
    assert_eq!(
        dig(port, &["primary.db.service.consul"]).answers("A"),
        ["10.0.0.1"]
    );
    assert_eq!(
        dig(port, &["PRIMARY.DB.Service.CONSUL"]).answers("A"),
        ["10.0.0.1"],
        "names are case-insensitive"
    );
    let kept_case = dig(port, &["Db.Service.Consul"]);
    assert!(
        kept_case
            .answer
            .iter()
            .all(|rr| rr.name == "Db.Service.Consul."),
        "answers keep the asked case: {}",
        kept_case.raw
    );
    assert_eq!(
        dig(port, &["_db._replica.service.consul", "SRV"]).answers("SRV"),
        ["1 1 5433 0a000002.addr.dc1.consul."]
    );
    assert_eq!(
        dig(port, &["_db._tcp.service.consul", "SRV"])
            .answers("SRV")
            .len(),
        2,
        "_tcp means any tag"
    );
    assert_eq!(
        dig(port, &["_db._primary.dc1.consul", "SRV"]).answers("SRV"),
        ["1 1 5432 0a000001.addr.dc1.consul."],
        "RFC 2782 without the service label"
    );
    for name in [
        "db.service.dc1.consul",
        "db.service.dc1.dc.consul",
        "replica.db.service.dc1.dc.consul",
    ] {
        let response = dig(port, &[name]);
        assert_eq!(response.status, "NOERROR", "{name}: {}", response.raw);
        assert!(!response.answer.is_empty(), "{name}: {}", response.raw);
    }
    for name in [
        "db.service.dc2.consul",
        "nope.service.consul",
        "missing.db.service.consul",
        "db.query.consul",
        "a.b.c.service.consul",
    ] {
        let response = dig(port, &[name]);
        assert_eq!(response.status, "NXDOMAIN", "{name}: {}", response.raw);
        assert_eq!(
            response.authority[0].kind, "SOA",
            "negative answers carry the SOA: {}",
            response.raw
        );
    }
}

#[tokio::test]
async fn health_changes_reach_the_answers() {
    let agent = TestAgent::start();
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "api", "ID": "api1", "Port": 80, "Address": "10.1.0.1",
               "Check": {"CheckID": "api1-ttl", "TTL": "10m"}}),
    )
    .await;
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "api", "ID": "api2", "Port": 80, "Address": "10.1.0.2",
               "Check": {"CheckID": "api2-ttl", "TTL": "10m", "Status": "passing"}}),
    )
    .await;
    let query = ["api.service.consul", "A"];
    // A new TTL check starts critical: that instance is left out.
    let response = dig_until(&agent, &query, |r| r.answers("A") == ["10.1.0.2"]);
    assert_eq!(response.status, "NOERROR");

    put(&agent.url("/v1/agent/check/warn/api1-ttl"), "").await;
    dig_until(&agent, &query, |r| {
        sorted(r.answers("A")) == ["10.1.0.1", "10.1.0.2"]
    });
    put(&agent.url("/v1/agent/check/fail/api2-ttl"), "").await;
    dig_until(&agent, &query, |r| r.answers("A") == ["10.1.0.1"]);
    put(&agent.url("/v1/agent/check/fail/api1-ttl"), "").await;
    dig_until(&agent, &query, |r| r.status == "NXDOMAIN");

    // Node-level health counts: node maintenance hides every instance on the node.
    put(&agent.url("/v1/agent/check/pass/api1-ttl"), "").await;
    dig_until(&agent, &query, |r| r.answers("A") == ["10.1.0.1"]);
    put(&agent.url("/v1/agent/maintenance?enable=true"), "").await;
    dig_until(&agent, &query, |r| r.status == "NXDOMAIN");
    put(&agent.url("/v1/agent/maintenance?enable=false"), "").await;
    dig_until(&agent, &query, |r| r.answers("A") == ["10.1.0.1"]);
}

#[tokio::test]
async fn only_passing_and_ttls_from_the_config_file() {
    let scratch = TempDir::new("dns-config");
    let file = write_config(
        scratch.path(),
        r#"
        dns_config {
          only_passing = true
          node_ttl = "30s"
          service_ttl = { "*" = "5s", "cache" = "1m" }
          soa { min_ttl = 7 }
        }
        "#,
    );
    let agent = TestAgent::start_with(&["-config-file", &file]);
    for (id, name, address, status) in [
        ("w1", "web", "10.2.0.1", "passing"),
        ("w2", "web", "10.2.0.2", "warning"),
        ("c1", "cache", "10.2.0.3", "passing"),
    ] {
        register(
            &agent,
            "/v1/agent/service/register",
            json!({"Name": name, "ID": id, "Port": 1, "Address": address,
                   "Check": {"CheckID": format!("{id}-ttl"), "TTL": "10m", "Status": status}}),
        )
        .await;
    }
    let web = dig(agent.dns_port, &["web.service.consul"]);
    assert_eq!(web.answer.len(), 1, "warning left out: {}", web.raw);
    assert_eq!(web.answer[0].ttl, 5, "wildcard service TTL");
    assert_eq!(
        dig(agent.dns_port, &["cache.service.consul"]).answer[0].ttl,
        60
    );
    let node = dig(
        agent.dns_port,
        &[&format!("{}.node.consul", agent.node_name)],
    );
    assert_eq!(node.answer[0].ttl, 30, "{}", node.raw);
    let missing = dig(agent.dns_port, &["nothing.service.consul"]);
    assert_eq!(missing.authority[0].ttl, 7, "SOA min_ttl: {}", missing.raw);
}

#[tokio::test]
async fn node_lookups_with_metadata_and_host_names() {
    let agent = TestAgent::start();
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "db-7", "Address": "10.3.0.7", "NodeMeta": {"rack": "r1", "rfc1035-note": "plain"}}),
    )
    .await;
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "v6", "Address": "2001:db8::7"}),
    )
    .await;
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "ext", "Address": "db.example.com", "Service": {"Service": "extdb", "Port": 5432}}),
    )
    .await;
    let port = agent.dns_port;
    let a = dig(port, &["db-7.node.consul"]);
    assert_eq!(a.answers("A"), ["10.3.0.7"]);
    assert_eq!(
        sorted(
            a.additional
                .iter()
                .filter(|rr| rr.kind == "TXT")
                .map(|rr| rr.data.clone())
                .collect()
        ),
        ["\"plain\"", "\"rack=r1\""],
        "RFC 1464 metadata: {}",
        a.raw
    );
    assert_eq!(
        sorted(dig(port, &["db-7.node.dc1.consul", "TXT"]).answers("TXT")),
        ["\"plain\"", "\"rack=r1\""]
    );
    let any = dig(port, &["DB-7.node.dc1.dc.consul", "ANY"]);
    assert_eq!(any.answers("A"), ["10.3.0.7"]);
    assert_eq!(any.answers("TXT").len(), 2);

    assert_eq!(
        dig(port, &["v6.node.consul", "AAAA"]).answers("AAAA"),
        ["2001:db8::7"]
    );
    let no_a = dig(port, &["v6.node.consul", "A"]);
    assert_eq!(no_a.status, "NOERROR", "the name exists: {}", no_a.raw);
    assert!(no_a.answer.is_empty());
    assert_eq!(no_a.authority[0].kind, "SOA");

    assert_eq!(
        dig(port, &["ext.node.consul"]).answers("CNAME"),
        ["db.example.com."]
    );
    assert_eq!(
        dig(port, &["extdb.service.consul"]).answers("CNAME"),
        ["db.example.com."]
    );
    assert_eq!(
        dig(port, &["extdb.service.consul", "SRV"]).answers("SRV"),
        ["1 1 5432 db.example.com."]
    );
    assert_eq!(dig(port, &["nobody.node.consul"]).status, "NXDOMAIN");

    // A service with its own IPv6 address: AAAA, and an addr target with AAAA glue.
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "db-7", "Address": "10.3.0.7", "Service": {"Service": "v6svc", "Address": "2001:db8::42", "Port": 443}}),
    )
    .await;
    assert_eq!(
        dig(port, &["v6svc.service.consul", "AAAA"]).answers("AAAA"),
        ["2001:db8::42"]
    );
    let srv = dig(port, &["v6svc.service.consul", "SRV"]);
    let target = "20010db8000000000000000000000042.addr.dc1.consul.";
    assert_eq!(srv.answers("SRV"), [format!("1 1 443 {target}")]);
    assert_eq!(srv.additional[0].name, target);
    assert_eq!(srv.additional[0].data, "2001:db8::42");
    assert_eq!(
        dig(port, &[target, "AAAA"]).answers("AAAA"),
        ["2001:db8::42"]
    );
}

#[tokio::test]
async fn reverse_lookups_soa_and_ns() {
    let agent = TestAgent::start();
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "rev", "Address": "10.4.0.9", "Service": {"Service": "svc", "Address": "10.4.0.10", "Port": 1}}),
    )
    .await;
    let port = agent.dns_port;
    assert_eq!(
        dig(port, &["-x", "10.4.0.9"]).answers("PTR"),
        ["rev.node.dc1.consul."]
    );
    assert_eq!(
        dig(port, &["-x", "10.4.0.10"]).answers("PTR"),
        ["svc.service.consul."]
    );
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "rev6", "Address": "2001:db8::9"}),
    )
    .await;
    assert_eq!(
        dig(port, &["-x", "2001:db8::9"]).answers("PTR"),
        ["rev6.node.dc1.consul."]
    );
    assert_eq!(dig(port, &["-x", "10.9.9.9"]).status, "NXDOMAIN");

    let soa = dig(port, &["consul", "SOA"]);
    let fields: Vec<String> = soa.answers("SOA")[0]
        .split(' ')
        .map(str::to_string)
        .collect();
    assert_eq!(fields[0], "ns.consul.");
    assert_eq!(fields[1], "hostmaster.consul.");
    assert_eq!(&fields[3..], ["3600", "600", "86400", "0"]);
    let ns = dig(port, &["consul", "NS"]);
    assert_eq!(ns.answers("NS"), ["ns.consul."]);
    assert_eq!(ns.additional[0].data, "127.0.0.1", "glue: {}", ns.raw);
    assert_eq!(dig(port, &["ns.consul"]).answers("A"), ["127.0.0.1"]);
}

#[tokio::test]
async fn packet_limits_udp_edns_and_tcp() {
    let scratch = TempDir::new("dns-limits");
    let file = write_config(scratch.path(), "dns_config { a_record_limit = 5 }");
    let agent = TestAgent::start_with(&["-config-file", &file]);
    for i in 0..40 {
        register(
            &agent,
            "/v1/catalog/register",
            json!({"Node": format!("node-with-a-rather-long-name-{i:02}"), "Address": format!("10.5.0.{i}"),
                   "Service": {"Service": "big", "Port": 9000 + i}}),
        )
        .await;
    }
    let port = agent.dns_port;
    // No EDNS over UDP: at most udp_answer_limit (3) answers, no TC by default.
    let plain = dig(port, &["big.service.consul", "SRV", "+noedns", "+ignore"]);
    assert_eq!(plain.answers("SRV").len(), 3, "{}", plain.raw);
    assert!(!plain.has_flag("tc"));
    // With EDNS: as many as fit the client's buffer; TC when some were dropped.
    let edns = dig(
        port,
        &["big.service.consul", "SRV", "+bufsize=1232", "+ignore"],
    );
    let kept = edns.answers("SRV").len();
    assert!((5..40).contains(&kept), "{kept} answers: {}", edns.raw);
    assert!(edns.has_flag("tc"), "{}", edns.raw);
    assert_eq!(
        edns.additional.iter().filter(|rr| rr.kind == "A").count(),
        kept,
        "each kept answer keeps its address: {}",
        edns.raw
    );
    // TCP: everything.
    let tcp = dig(port, &["big.service.consul", "SRV", "+tcp"]);
    assert_eq!(tcp.answers("SRV").len(), 40);
    assert!(!tcp.has_flag("tc"));
    // dig retries over TCP after TC, as resolvers do.
    let retried = dig(port, &["big.service.consul", "SRV", "+bufsize=1232"]);
    assert_eq!(retried.answers("SRV").len(), 40, "{}", retried.raw);
    // a_record_limit applies to address answers.
    assert_eq!(
        dig(port, &["big.service.consul", "A", "+tcp"])
            .answers("A")
            .len(),
        5
    );
}

#[tokio::test]
async fn weights_order_address_answers() {
    let agent = TestAgent::start();
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "heavy", "Address": "10.6.0.1", "Service": {"Service": "lb", "Port": 1, "Weights": {"Passing": 9, "Warning": 1}}}),
    )
    .await;
    register(
        &agent,
        "/v1/catalog/register",
        json!({"Node": "light", "Address": "10.6.0.2", "Service": {"Service": "lb", "Port": 1, "Weights": {"Passing": 1, "Warning": 1}}}),
    )
    .await;
    let mut heavy_first = 0;
    let rounds = 100;
    for _ in 0..rounds {
        let answers = dig(agent.dns_port, &["lb.service.consul"]).answers("A");
        assert_eq!(answers.len(), 2);
        if answers[0] == "10.6.0.1" {
            heavy_first += 1;
        }
    }
    // Expected 90 of 100; under 70 has a probability far below one in a million.
    assert!(
        (70..rounds).contains(&heavy_first),
        "heavy first {heavy_first} of {rounds}"
    );
}

#[tokio::test]
async fn equal_weight_instances_take_turns_first() {
    let agent = TestAgent::start();
    for i in 1..=4 {
        register(
            &agent,
            "/v1/catalog/register",
            json!({"Node": format!("rr{i}"), "Address": format!("10.7.0.{i}"), "Service": {"Service": "rr", "Port": 1}}),
        )
        .await;
    }
    // Answers are reused between changes, as rotations of one random order: over whole
    // rounds every instance comes first equally often.
    let mut firsts: HashMap<String, usize> = HashMap::new();
    for _ in 0..40 {
        let answers = dig(agent.dns_port, &["rr.service.consul"]).answers("A");
        assert_eq!(answers.len(), 4);
        *firsts.entry(answers[0].clone()).or_default() += 1;
    }
    assert_eq!(firsts.len(), 4, "{firsts:?}");
    assert!(firsts.values().all(|&count| count == 10), "{firsts:?}");
    // A change is seen at once: the reused answers belong to the old version.
    put(
        &agent.url("/v1/catalog/deregister"),
        json!({"Node": "rr4"}).to_string(),
    )
    .await;
    let after = dig(agent.dns_port, &["rr.service.consul"]);
    assert_eq!(
        sorted(after.answers("A")),
        ["10.7.0.1", "10.7.0.2", "10.7.0.3"]
    );
}

/// A stub upstream resolver on loopback: answers every A question with 192.0.2.1.
fn start_stub_recursor() -> std::net::SocketAddr {
    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record};
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind stub");
    let addr = socket.local_addr().expect("stub addr");
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok((length, from)) = socket.recv_from(&mut buffer) {
            let Ok(query) = Message::from_vec(&buffer[..length]) else {
                continue;
            };
            let mut reply = query.clone();
            reply.metadata.message_type = MessageType::Response;
            reply.metadata.recursion_available = true;
            if let Some(question) = query.queries.first() {
                reply.add_answer(Record::from_rdata(
                    question.name().clone(),
                    60,
                    RData::A(A::new(192, 0, 2, 1)),
                ));
            }
            let _ = socket.send_to(&reply.to_vec().expect("encode"), from);
        }
    });
    addr
}

#[tokio::test]
async fn other_names_are_refused_or_recursed() {
    let agent = TestAgent::start();
    let refused = dig(agent.dns_port, &["example.org"]);
    assert_eq!(refused.status, "REFUSED", "{}", refused.raw);

    let stub = start_stub_recursor();
    let dead = proconsul_tests::free_port();
    // The first recursor does not answer; the second does.
    let recursing = TestAgent::start_with(&[
        &format!("-recursor=127.0.0.1:{dead}"),
        &format!("-recursor={stub}"),
    ]);
    let answer = dig(recursing.dns_port, &["example.org", "+time=8"]);
    assert_eq!(answer.status, "NOERROR", "{}", answer.raw);
    assert_eq!(answer.answers("A"), ["192.0.2.1"]);
    assert!(answer.has_flag("ra"), "{}", answer.raw);
    assert!(!answer.has_flag("aa"), "{}", answer.raw);
    // The agent's own domain is still answered locally.
    let local = dig(recursing.dns_port, &["consul.service.consul"]);
    assert!(
        local.has_flag("aa") && local.has_flag("ra"),
        "{}",
        local.raw
    );
}

#[tokio::test]
async fn alt_domain_answers_in_its_own_names() {
    let agent = TestAgent::start_with(&["-alt-domain=test.internal"]);
    register(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "web", "Port": 80}),
    )
    .await;
    let srv = dig(agent.dns_port, &["web.service.test.internal", "SRV"]);
    let target = format!("{}.node.dc1.test.internal.", agent.node_name);
    assert_eq!(srv.answers("SRV"), [format!("1 1 80 {target}")]);
    assert_eq!(srv.additional[0].name, target);
    assert_eq!(
        dig(agent.dns_port, &["web.service.consul"]).answers("A"),
        ["127.0.0.1"]
    );
}

#[tokio::test]
async fn bad_packets_never_take_the_server_down() {
    let agent = TestAgent::start();
    let target = format!("127.0.0.1:{}", agent.dns_port);
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut header_only_with_questions = vec![0x12, 0x34, 0x01, 0x00, 0x00, 0x05];
    header_only_with_questions.extend_from_slice(&[0; 6]);
    let packets: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xff; 5],
        header_only_with_questions.clone(),
        vec![0xab; 4096],
        // A query whose name claims a 63-byte label and ends early.
        vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, b'a', b'b'],
        // A compression pointer that points at itself.
        vec![0, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1],
    ];
    for packet in &packets {
        socket.send_to(packet, &target).expect("send");
    }
    // A parseable header with a broken body gets FORMERR.
    socket
        .send_to(&header_only_with_questions, &target)
        .expect("send");
    let mut buffer = [0u8; 512];
    let mut saw_formerr = false;
    while let Ok(length) = socket.recv(&mut buffer) {
        if length >= 12 && buffer[0..2] == [0x12, 0x34] && buffer[3] & 0x0f == 1 {
            saw_formerr = true;
        }
    }
    assert!(saw_formerr, "FORMERR for a header promising questions");
    // Oversized and garbage TCP input: the connection is dropped, the server lives.
    {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(&target).expect("tcp");
        let _ = stream.write_all(&[0xff, 0xff]);
        let _ = stream.write_all(&[0xab; 2048]);
    }
    let response = dig(agent.dns_port, &["consul.service.consul"]);
    assert_eq!(response.status, "NOERROR", "{}", response.raw);
    let tcp = dig(agent.dns_port, &["consul.service.consul", "+tcp"]);
    assert_eq!(tcp.status, "NOERROR", "{}", tcp.raw);
}
