//! Several datacenters: servers of two datacenters joined over the WAN pool (real
//! processes on loopback). Members are listed as `<node>.<dc>`; `?dc=` reads, writes and
//! blocking queries are answered by the other datacenter; DNS names of the other
//! datacenter are answered there; prepared queries with no instance here fail over to
//! the other datacenter (HTTP and DNS); an unknown datacenter is `No path to datacenter`, and
//! a stopped one `Remote DC has no server currently reachable` while the local one keeps
//! serving. With three servers and a client agent in each datacenter, the client agents
//! read, write and block across datacenters, and see the other one paused and back.

use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::dig::dig;
use proconsul_tests::{AgentPorts, Answer, TempDir, TestAgent, eventually, get, put};
use serde_json::{Value, json};

/// Gossip timers shortened so that failures are noticed within seconds.
const PROBE: &str = "-gossip-probe-interval=200ms";

/// `POST url` with a JSON body.
async fn post_json(url: &str, body: Value) -> Answer {
    proconsul_tests::call("POST", url, Some(body.to_string().into_bytes())).await
}

/// A GET that gives up after `timeout` (a stopped server holds requests).
async fn get_within(url: &str, timeout: Duration) -> Option<Answer> {
    let client = reqwest::Client::builder().timeout(timeout).build().ok()?;
    let response = client.get(url).send().await.ok()?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.ok()?;
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// The WAN members' names and statuses as `agent` lists them.
async fn wan_members(agent: &TestAgent) -> Vec<(String, u64)> {
    let answer = get(&agent.url("/v1/agent/members?wan=1")).await;
    let members: Vec<Value> = serde_json::from_str(&answer.body).unwrap_or_default();
    let mut names: Vec<(String, u64)> = members
        .iter()
        .map(|member| {
            (
                member["Name"].as_str().unwrap_or("").to_string(),
                member["Status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    names.sort();
    names
}

/// Two single-server datacenters (durable servers: a `-dev` agent has no server RPC
/// listener for the other datacenter to call), `dc1` joined to `dc2` over the WAN.
struct TwoDatacenters {
    dc1: TestAgent,
    dc2: TestAgent,
    _data: [TempDir; 2],
}

fn two_datacenters(extra: &[&str]) -> TwoDatacenters {
    let data = [TempDir::new("dc1"), TempDir::new("dc2")];
    let dc2_args: Vec<&str> = ["-datacenter=dc2", PROBE]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    let dc2 = TestAgent::start_server(data[1].path(), "server-b", &dc2_args);
    let join = format!("-retry-join-wan=127.0.0.1:{}", dc2.serf_wan_port);
    let dc1_args: Vec<&str> = ["-datacenter=dc1", PROBE, "-retry-interval=200ms", &join]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    let dc1 = TestAgent::start_server(data[0].path(), "server-a", &dc1_args);
    TwoDatacenters {
        dc1,
        dc2,
        _data: data,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_datacenters_answer_each_others_requests() {
    let datacenters = two_datacenters(&[]);
    let (dc1, dc2) = (&datacenters.dc1, &datacenters.dc2);
    let expected = vec![
        (format!("{}.dc1", dc1.node_name), 1),
        (format!("{}.dc2", dc2.node_name), 1),
    ];
    for agent in [dc1, dc2] {
        eventually(
            "both servers in the WAN pool",
            Duration::from_secs(30),
            || async { wan_members(agent).await == expected },
        )
        .await;
    }
    // agent/self shows the WAN pool beside the LAN one.
    let me = get(&dc1.url("/v1/agent/self")).await.json();
    assert_eq!(me["Stats"]["serf_wan"]["members"], "2", "{}", me["Stats"]);
    assert_eq!(me["Stats"]["serf_lan"]["members"], "1", "{}", me["Stats"]);
    eventually("two known datacenters", Duration::from_secs(30), || async {
        let me = get(&dc1.url("/v1/agent/self")).await.json();
        me["Stats"]["consul"]["known_datacenters"] == "2"
    })
    .await;
    assert_eq!(me["DebugConfig"]["SerfPortWAN"], dc1.serf_wan_port);
    // The WAN pool's gossip metrics carry Consul's `network` label.
    eventually("WAN gossip metrics", Duration::from_secs(40), || async {
        let metrics = get(&dc1.url("/v1/agent/metrics")).await.json();
        metrics["Counters"].as_array().is_some_and(|counters| {
            counters.iter().any(|counter| {
                counter["Name"] == "consul.memberlist.udp.sent"
                    && counter["Labels"]["network"] == "wan"
            })
        })
    })
    .await;
    // The LAN pool is still one datacenter's.
    let lan = get(&dc1.url("/v1/agent/members")).await.json();
    assert_eq!(lan.as_array().unwrap().len(), 1, "{lan}");
    let cli = dc1.cli(&["members", "-wan"]);
    let listing = String::from_utf8_lossy(&cli.stdout);
    assert!(cli.status.success(), "{listing}");
    for (name, _) in &expected {
        assert!(listing.contains(name.as_str()), "{listing}");
    }

    // Datacenters: this one first.
    eventually(
        "both datacenters listed",
        Duration::from_secs(30),
        || async {
            get(&dc1.url("/v1/catalog/datacenters")).await.json() == json!(["dc1", "dc2"])
                && get(&dc2.url("/v1/catalog/datacenters")).await.json() == json!(["dc2", "dc1"])
        },
    )
    .await;
    let maps = get(&dc1.url("/v1/coordinate/datacenters")).await.json();
    let names: Vec<&str> = maps
        .as_array()
        .unwrap()
        .iter()
        .map(|map| map["Datacenter"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dc1", "dc2"], "{maps}");
    assert!(
        maps.as_array()
            .unwrap()
            .iter()
            .all(|map| map["AreaID"] == "wan")
    );
    assert_eq!(maps[0]["Coordinates"][0]["Node"], dc1.node_name.as_str());

    // KV across datacenters: written in dc2 through dc1, read back both ways.
    let written = put(&dc1.url("/v1/kv/shared?dc=dc2"), "from-dc1").await;
    assert_eq!((written.status, written.body.trim()), (200, "true"));
    assert_eq!(get(&dc2.url("/v1/kv/shared?raw")).await.body, "from-dc1");
    assert_eq!(get(&dc1.url("/v1/kv/shared?raw")).await.status, 404);
    let remote = get(&dc1.url("/v1/kv/shared?dc=dc2&raw")).await;
    assert_eq!((remote.status, remote.body.as_str()), (200, "from-dc1"));

    // Catalog and health of dc2 from dc1.
    let registration = json!({
        "Node": "ext", "Address": "127.0.0.9",
        "Service": {"Service": "web", "Port": 80},
        "Check": {"CheckID": "web-ok", "Name": "web ok", "Status": "passing", "ServiceID": "web"}
    });
    let registered = put(
        &dc1.url("/v1/catalog/register?dc=dc2"),
        registration.to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let web = get(&dc1.url("/v1/catalog/service/web?dc=dc2")).await.json();
    assert_eq!(web[0]["Node"], "ext", "{web}");
    assert_eq!(web[0]["Datacenter"], "dc2", "{web}");
    assert_eq!(
        get(&dc1.url("/v1/catalog/service/web")).await.json(),
        json!([])
    );
    let health = get(&dc1.url("/v1/health/service/web?dc=dc2&passing"))
        .await
        .json();
    assert_eq!(health.as_array().unwrap().len(), 1, "{health}");

    // A registration naming dc2 in its body goes there too; an unknown one nowhere.
    let by_body = put(
        &dc1.url("/v1/catalog/register"),
        json!({"Datacenter": "dc2", "Node": "ext2", "Address": "127.0.0.10"}).to_string(),
    )
    .await;
    assert_eq!(by_body.status, 200, "{}", by_body.body);
    let there = get(&dc2.url("/v1/catalog/node/ext2")).await.json();
    assert_eq!(there["Node"]["Address"], "127.0.0.10", "{there}");
    assert_eq!(
        get(&dc1.url("/v1/catalog/node/ext2")).await.json(),
        Value::Null
    );
    let nowhere = put(
        &dc1.url("/v1/catalog/deregister"),
        json!({"Datacenter": "dc9", "Node": "ext2"}).to_string(),
    )
    .await;
    assert_eq!(
        (nowhere.status, nowhere.body.as_str()),
        (500, "No path to datacenter")
    );

    // A blocking query on dc2 through dc1, woken by a write in dc2.
    let first = get(&dc1.url("/v1/kv/shared?dc=dc2")).await;
    let index = first.index();
    let url = dc1.url(&format!("/v1/kv/shared?dc=dc2&index={index}&wait=60s"));
    let started = Instant::now();
    let watcher = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!watcher.is_finished(), "the blocking query did not block");
    put(&dc2.url("/v1/kv/shared"), "from-dc2").await;
    let woken = watcher.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "not woken by the write"
    );
    assert!(woken.index() > index);
    assert_eq!(woken.json()[0]["Value"], "ZnJvbS1kYzI=", "{}", woken.body);

    // DNS names of dc2 asked at dc1.
    let srv = dig(dc1.dns_port, &["web.service.dc2.consul", "SRV"]);
    assert_eq!(srv.status, "NOERROR", "{}", srv.raw);
    assert_eq!(srv.answers("SRV").len(), 1, "{}", srv.raw);
    let a = dig(dc1.dns_port, &["web.service.dc2.consul", "A"]);
    assert_eq!(a.answers("A"), ["127.0.0.9"], "{}", a.raw);
    let node = dig(dc1.dns_port, &["ext.node.dc2.consul", "A"]);
    assert_eq!(node.answers("A"), ["127.0.0.9"], "{}", node.raw);
    let tcp = dig(dc1.dns_port, &["+tcp", "web.service.dc2.consul", "A"]);
    assert_eq!(tcp.answers("A"), ["127.0.0.9"], "{}", tcp.raw);
    // The same name in dc1 has nothing; an unknown datacenter names nothing.
    assert_eq!(
        dig(dc1.dns_port, &["web.service.consul", "A"]).status,
        "NXDOMAIN"
    );
    assert_eq!(
        dig(dc1.dns_port, &["web.service.dc9.consul", "A"]).status,
        "NXDOMAIN"
    );

    // Prepared queries fail over: the nearest datacenter, or the listed ones in order
    // (an unknown one skipped); a query with instances here does not. dc1's own `web`
    // instance is failing, so none qualifies here.
    let failing = json!({
        "Node": "local-web", "Address": "127.0.0.5",
        "Service": {"Service": "web", "Port": 80},
        "Check": {"CheckID": "web-bad", "Name": "web bad", "Status": "critical", "ServiceID": "web"}
    });
    let registered = put(&dc1.url("/v1/catalog/register"), failing.to_string()).await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    for (name, failover, tried) in [
        ("web-nearest", json!({"NearestN": 1}), 1),
        ("web-listed", json!({"Datacenters": ["dc9", "dc2"]}), 1),
    ] {
        let created = post_json(
            &dc1.url("/v1/query"),
            json!({
                "Name": name,
                "Service": {"Service": "web", "Failover": failover},
                "DNS": {"TTL": "9s"}
            }),
        )
        .await;
        assert_eq!(created.status, 200, "{}", created.body);
        let executed = get(&dc1.url(&format!("/v1/query/{name}/execute")))
            .await
            .json();
        assert_eq!(executed["Datacenter"], "dc2", "{executed}");
        assert_eq!(executed["Failovers"], tried, "{executed}");
        assert_eq!(executed["Nodes"][0]["Node"]["Node"], "ext", "{executed}");
    }
    let created = post_json(
        &dc1.url("/v1/query"),
        json!({"Name": "nowhere", "Service": {"Service": "none", "Failover": {"NearestN": 3}}}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let executed = get(&dc1.url("/v1/query/nowhere/execute")).await.json();
    assert_eq!(executed["Nodes"], json!([]), "{executed}");
    assert_eq!(executed["Failovers"], 1, "{executed}");
    // DNS lookups of the queries at dc1 fail over alike (UDP and TCP): dc2's instance,
    // with the query's TTL, its SRV target named in dc2; NXDOMAIN when no datacenter
    // has one.
    for name in ["web-nearest", "web-listed"] {
        let query = format!("{name}.query.consul");
        let a = dig(dc1.dns_port, &[&query, "A"]);
        assert_eq!(a.status, "NOERROR", "{}", a.raw);
        assert_eq!(a.answers("A"), ["127.0.0.9"], "{}", a.raw);
        assert!(a.answer.iter().all(|rr| rr.ttl == 9), "{}", a.raw);
        let srv = dig(dc1.dns_port, &[&query, "SRV"]);
        assert_eq!(
            srv.answers("SRV"),
            ["1 1 80 ext.node.dc2.consul."],
            "{}",
            srv.raw
        );
        assert!(
            srv.additional
                .iter()
                .any(|rr| rr.name == "ext.node.dc2.consul." && rr.data == "127.0.0.9"),
            "{}",
            srv.raw
        );
        let tcp = dig(dc1.dns_port, &["+tcp", &query, "A"]);
        assert_eq!(tcp.answers("A"), ["127.0.0.9"], "{}", tcp.raw);
    }
    let nowhere = dig(dc1.dns_port, &["nowhere.query.consul", "A"]);
    assert_eq!(nowhere.status, "NXDOMAIN", "{}", nowhere.raw);
    let nowhere = dig(dc1.dns_port, &["+tcp", "nowhere.query.consul", "SRV"]);
    assert_eq!(nowhere.status, "NXDOMAIN", "{}", nowhere.raw);
    // The remote endpoint serves forwarded requests only.
    let direct = put(&dc2.url("/v1/internal/query/execute-remote"), "{}").await;
    assert_eq!(direct.status, 404, "{}", direct.body);

    // Each request sent to dc2 counted as Consul counts them.
    eventually("rpc.cross-dc counted", Duration::from_secs(40), || async {
        let metrics = get(&dc1.url("/v1/agent/metrics")).await.json();
        metrics["Counters"].as_array().is_some_and(|counters| {
            counters.iter().any(|counter| {
                counter["Name"] == "consul.rpc.cross-dc" && counter["Labels"]["datacenter"] == "dc2"
            })
        })
    })
    .await;

    // operator/usage: this datacenter's; with ?global, dc2's too, asked of dc2.
    let local = get(&dc1.url("/v1/operator/usage")).await.json();
    assert!(local["Usage"].get("dc2").is_none(), "{local}");
    let global = get(&dc1.url("/v1/operator/usage?global")).await.json();
    assert!(global["Usage"]["dc1"].is_object(), "{global}");
    let dc2_own = get(&dc2.url("/v1/operator/usage")).await.json();
    assert_eq!(global["Usage"]["dc2"], dc2_own["Usage"]["dc2"], "{global}");
    assert!(
        global["Usage"]["dc2"]["Nodes"].as_u64() >= Some(1),
        "{global}"
    );

    // Unknown datacenters, for reads and writes.
    let unknown = get(&dc1.url("/v1/kv/shared?dc=dc9")).await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (500, "No path to datacenter")
    );
    let unknown = put(&dc1.url("/v1/kv/shared?dc=dc9"), "x").await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (500, "No path to datacenter")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_datacenter_is_unreachable_and_the_local_one_keeps_serving() {
    let datacenters = two_datacenters(&[]);
    let (dc1, dc2) = (&datacenters.dc1, &datacenters.dc2);
    put(&dc2.url("/v1/kv/k"), "v").await;
    eventually(
        "dc2 answers through dc1",
        Duration::from_secs(30),
        || async { get(&dc1.url("/v1/kv/k?dc=dc2&raw")).await.body == "v" },
    )
    .await;
    dc2.signal("STOP");
    let url = dc1.url("/v1/kv/k?dc=dc2&raw");
    eventually(
        "dc2 reported unreachable",
        Duration::from_secs(60),
        || async {
            get_within(&url, Duration::from_secs(3))
                .await
                .is_some_and(|answer| {
                    answer.status == 500
                        && answer.body == "Remote DC has no server currently reachable"
                })
        },
    )
    .await;
    // dc2 is still known, and dc1 serves its own datacenter meanwhile.
    assert_eq!(
        get(&dc1.url("/v1/catalog/datacenters")).await.json(),
        json!(["dc1", "dc2"])
    );
    assert_eq!(put(&dc1.url("/v1/kv/local"), "ok").await.status, 200);
    assert_eq!(get(&dc1.url("/v1/kv/local?raw")).await.body, "ok");
    assert_eq!(
        dig(dc1.dns_port, &["web.service.dc2.consul", "A"]).status,
        "SERVFAIL"
    );
    dc2.signal("CONT");
    eventually("dc2 back", Duration::from_secs(60), || async {
        get_within(&url, Duration::from_secs(3))
            .await
            .is_some_and(|answer| answer.status == 200 && answer.body == "v")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_and_a_client_agent_per_datacenter() {
    let dc2 = TestCluster::start(3, &["-datacenter=dc2", PROBE]);
    // dc1's servers join one dc2 server over the WAN: flooding brings in the rest.
    let join = format!("-retry-join-wan=127.0.0.1:{}", dc2.serf_wan_port(0));
    let dc1 = TestCluster::start(3, &["-datacenter=dc1", PROBE, &join]);
    dc1.wait_for_leader(Duration::from_secs(30));
    dc2.wait_for_leader(Duration::from_secs(30));
    for (cluster, dc) in [(&dc1, "dc1"), (&dc2, "dc2")] {
        for i in 0..cluster.size() {
            let agent = cluster.agent(i);
            eventually(
                &format!("6 alive WAN members at {}.{dc}", cluster.name(i)),
                Duration::from_secs(60),
                || async {
                    let members = wan_members(agent).await;
                    members.len() == 6 && members.iter().all(|(_, status)| *status == 1)
                },
            )
            .await;
        }
    }
    let write = put(&dc1.agent(1).url("/v1/kv/from-dc1?dc=dc2"), "x").await;
    assert_eq!(write.body.trim(), "true", "{}", write.body);
    for i in 0..dc2.size() {
        eventually(
            "the write replicated in dc2",
            Duration::from_secs(20),
            || async {
                get(&dc2.agent(i).url("/v1/kv/from-dc1?raw&stale"))
                    .await
                    .body
                    == "x"
            },
        )
        .await;
    }
    // A client agent of dc1 reaches dc2 through its servers, over HTTP and DNS.
    let data = TempDir::new("dc1-client");
    let client = dc1.start_client("client-1", &[0], data.path(), AgentPorts::free(), &[PROBE]);
    let read = get(&client.url("/v1/kv/from-dc1?dc=dc2&raw")).await;
    assert_eq!((read.status, read.body.as_str()), (200, "x"));
    assert_eq!(
        get(&client.url("/v1/catalog/datacenters")).await.json(),
        json!(["dc1", "dc2"])
    );
    let consul = dig(client.dns_port, &["consul.service.dc2.consul", "SRV"]);
    assert_eq!(consul.answers("SRV").len(), 3, "{}", consul.raw);
    // A prepared query asked at the client agent runs on its server, which fails it
    // over to dc2.
    let registration = json!({
        "Node": "ext", "Address": "127.0.0.9", "Service": {"Service": "api", "Port": 81}
    });
    let registered = put(
        &client.url("/v1/catalog/register?dc=dc2"),
        registration.to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let created = post_json(
        &client.url("/v1/query"),
        json!({"Name": "api", "Service": {"Service": "api", "Failover": {"Datacenters": ["dc2"]}}}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let api = dig(client.dns_port, &["api.query.consul", "A"]);
    assert_eq!(api.answers("A"), ["127.0.0.9"], "{}", api.raw);
    // A client agent has no WAN pool.
    assert_eq!(
        get(&client.url("/v1/agent/members?wan=1")).await.json(),
        json!([])
    );

    // A client agent in dc2 too. A blocking read of a dc2 key asked at dc1's client
    // blocks in dc2 and is woken by a write through dc2's client; dc2's client writes
    // into dc1.
    let data = TempDir::new("dc2-client");
    let client2 = dc2.start_client(
        "client-2",
        &[0],
        data.path(),
        AgentPorts::free(),
        &[PROBE, "-datacenter=dc2"],
    );
    let first = get(&client.url("/v1/kv/watched?dc=dc2")).await;
    assert_eq!(first.status, 404, "{}", first.body);
    let index = first.index();
    let url = client.url(&format!("/v1/kv/watched?dc=dc2&index={index}&wait=60s"));
    let watcher = tokio::spawn(async move { get(&url).await });
    let written = put(&client2.url("/v1/kv/watched"), "w").await;
    assert_eq!(written.body.trim(), "true", "{}", written.body);
    let woken = watcher.await.expect("the watcher joins");
    assert_eq!(woken.status, 200, "{}", woken.body);
    assert!(woken.index() > index, "{} after {index}", woken.index());
    assert_eq!(woken.json()[0]["Value"], "dw==", "{}", woken.body);
    let written = put(&client2.url("/v1/kv/from-dc2?dc=dc1"), "y").await;
    assert_eq!(written.body.trim(), "true", "{}", written.body);
    assert_eq!(get(&client.url("/v1/kv/from-dc2?raw")).await.body, "y");

    // Every dc2 server paused: dc1's client is told dc2 is unreachable, dc1 keeps
    // serving, and dc2 answers again once its servers resume.
    for i in 0..dc2.size() {
        dc2.agent(i).signal("STOP");
    }
    let remote = client.url("/v1/kv/from-dc1?dc=dc2&raw");
    eventually(
        "dc2 reported unreachable at dc1's client",
        Duration::from_secs(60),
        || async {
            get_within(&remote, Duration::from_secs(5))
                .await
                .is_some_and(|answer| {
                    answer.status == 500
                        && answer.body == "Remote DC has no server currently reachable"
                })
        },
    )
    .await;
    assert_eq!(put(&client.url("/v1/kv/local"), "ok").await.status, 200);
    assert_eq!(get(&client.url("/v1/kv/local?raw")).await.body, "ok");
    for i in 0..dc2.size() {
        dc2.agent(i).signal("CONT");
    }
    eventually(
        "dc2 back at dc1's client",
        Duration::from_secs(60),
        || async {
            get_within(&remote, Duration::from_secs(5))
                .await
                .is_some_and(|answer| answer.status == 200 && answer.body == "x")
        },
    )
    .await;
}

/// The keyring entry of one pool (`WAN` true or false) in a keyring listing.
fn pool_entry(listing: &Value, wan: bool) -> Value {
    listing
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["WAN"] == wan)
        .cloned()
        .unwrap_or_else(|| panic!("no entry with WAN={wan} in {listing}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wan_pool_is_encrypted_with_the_keyring_and_a_leaving_datacenter_is_gone() {
    const KEY: &str = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
    const NEW_KEY: &str = "HS0lz8Hl6eMGTWQRPKnT0T7hhXTpvkCnBFV/4QG5Pr8=";
    let encrypt = format!("-encrypt={KEY}");
    let datacenters = two_datacenters(&[&encrypt]);
    let (dc1, dc2) = (&datacenters.dc1, &datacenters.dc2);
    eventually(
        "both servers in the WAN pool",
        Duration::from_secs(30),
        || async { wan_members(dc1).await.len() == 2 && wan_members(dc2).await.len() == 2 },
    )
    .await;
    // The WAN entry counts both datacenters' servers, the LAN one this datacenter's.
    let listing = get(&dc1.url("/v1/operator/keyring")).await.json();
    let wan = pool_entry(&listing, true);
    assert_eq!(wan["NumNodes"], 2, "{listing}");
    assert_eq!(wan["Keys"][KEY], 2, "{listing}");
    assert_eq!(pool_entry(&listing, false)["NumNodes"], 1, "{listing}");
    // Every datacenter's LAN pool has its entry: dc1's, then dc2's, answered by dc2.
    let lan: Vec<&Value> = listing
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["WAN"] == false)
        .collect();
    assert_eq!(lan.len(), 2, "{listing}");
    assert_eq!(
        (&lan[0]["Datacenter"], &lan[1]["Datacenter"]),
        (&json!("dc1"), &json!("dc2")),
        "{listing}"
    );
    assert_eq!(lan[1]["Keys"][KEY], 1, "{listing}");
    // A key installed through dc1 reaches dc2's server over the WAN, and dc2's LAN
    // pool (its members, here its one server).
    let installed = proconsul_tests::call(
        "POST",
        &dc1.url("/v1/operator/keyring"),
        Some(json!({"Key": NEW_KEY}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(installed.status, 200, "{}", installed.body);
    let listing = get(&dc2.url("/v1/operator/keyring")).await.json();
    assert_eq!(pool_entry(&listing, true)["Keys"][NEW_KEY], 2, "{listing}");
    let dc2_lan = listing
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["WAN"] == false && entry["Datacenter"] == "dc2")
        .cloned()
        .unwrap_or_default();
    assert_eq!(dc2_lan["Keys"][NEW_KEY], 1, "{listing}");

    // dc2's server leaves: dc1 sees it left, and dc2 is no longer a datacenter.
    assert_eq!(put(&dc2.url("/v1/agent/leave"), "").await.status, 200);
    eventually("dc2's server left", Duration::from_secs(30), || async {
        wan_members(dc1)
            .await
            .contains(&("server-b.dc2".to_string(), 3))
    })
    .await;
    assert_eq!(
        get(&dc1.url("/v1/catalog/datacenters")).await.json(),
        json!(["dc1"])
    );
    eventually(
        "dc2 unknown to dc1's router",
        Duration::from_secs(30),
        || async {
            let gone = get(&dc1.url("/v1/kv/k?dc=dc2")).await;
            (gone.status, gone.body.as_str()) == (500, "No path to datacenter")
        },
    )
    .await;
}
