//! Client agents: three server processes and client agents (`proconsul agent` without
//! `-server`, joined with a server's RPC address until gossip lands) on loopback. A
//! client keeps its own services and checks and writes them through a server; every
//! other request, blocking queries and DNS included, is answered by a server through
//! the client, with Consul's headers; a client whose server is killed moves on to
//! another; a restarted client keeps its services.

use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::dig::dig;
use proconsul_tests::{AgentPorts, TempDir, TestAgent, call, eventually, get, put, write_file};
use serde_json::{Value, json};

/// The statuses of `service`'s checks on `node` in a server's `/v1/health/service`.
async fn check_statuses(server: &TestAgent, service: &str, node: &str) -> Vec<String> {
    let answer = get(&server.url(&format!("/v1/health/service/{service}"))).await;
    let Ok(Value::Array(entries)) = serde_json::from_str::<Value>(&answer.body) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|entry| entry["Node"]["Node"] == node)
        .flat_map(|entry| entry["Checks"].as_array().cloned().unwrap_or_default())
        .filter(|check| check["ServiceName"] == service)
        .map(|check| check["Status"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Whether every server's catalog lists `service` on `node`.
async fn everywhere(cluster: &TestCluster, service: &str, node: &str) -> bool {
    for i in cluster.running() {
        let answer = get(&cluster
            .agent(i)
            .url(&format!("/v1/catalog/service/{service}")))
        .await;
        let nodes: Vec<Value> = serde_json::from_str(&answer.body).unwrap_or_default();
        if !nodes.iter().any(|entry| entry["Node"] == node) {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_register_locally_and_forward_everything_else_to_the_servers() {
    let cluster = TestCluster::start(3, &[]);
    cluster.wait_for_leader(Duration::from_secs(20));
    let (data_a, data_b, files) = (
        TempDir::new("client-a"),
        TempDir::new("client-b"),
        TempDir::new("client-files"),
    );
    let mut client_a =
        cluster.start_client("client-a", &[0], data_a.path(), AgentPorts::free(), &[]);
    let config = write_file(
        files.path(),
        "db.json",
        &json!({"service": {"name": "db", "port": 5432,
                            "check": {"id": "db-ttl", "ttl": "10m", "status": "passing"}}})
        .to_string(),
    );
    let client_b = cluster.start_client(
        "client-b",
        &[1],
        data_b.path(),
        AgentPorts::free(),
        &["-config-file", &config, "-ae-interval=2s"],
    );

    // The client is a client: no Raft, its own node in the catalog.
    let me = get(&client_a.url("/v1/agent/self")).await.json();
    assert_eq!(me["Config"]["Server"], false, "{me}");
    assert_eq!(me["Stats"]["consul"]["server"], "false", "{me}");
    assert!(me["Stats"].get("raft").is_none(), "{me}");

    // A service registered over HTTP on one client, and one from a config file on the
    // other, reach every server's catalog and health endpoints.
    let registered = put(
        &client_a.url("/v1/agent/service/register"),
        json!({"Name": "web", "ID": "web-1", "Port": 80,
               "Check": {"CheckID": "web-ttl", "TTL": "10m", "Status": "passing"}})
        .to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    eventually("web on every server", Duration::from_secs(10), || {
        everywhere(&cluster, "web", "client-a")
    })
    .await;
    eventually("db on every server", Duration::from_secs(10), || {
        everywhere(&cluster, "db", "client-b")
    })
    .await;
    let services = get(&client_a.url("/v1/agent/services")).await.json();
    assert_eq!(services["web-1"]["Port"], 80, "{services}");

    // Check statuses set on the client are synced to every server.
    for i in 0..3 {
        assert_eq!(
            check_statuses(cluster.agent(i), "web", "client-a").await,
            ["passing"]
        );
    }
    let failed = put(&client_a.url("/v1/agent/check/fail/web-ttl?note=down"), "").await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    eventually(
        "critical on every server",
        Duration::from_secs(10),
        || async {
            for i in 0..3 {
                if check_statuses(cluster.agent(i), "web", "client-a").await != ["critical"] {
                    return false;
                }
            }
            true
        },
    )
    .await;

    // Catalog and health reads through a client, with Consul's headers.
    let nodes = get(&client_b.url("/v1/catalog/nodes")).await;
    assert_eq!(nodes.status, 200, "{}", nodes.body);
    let names: Vec<Value> = nodes
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["Node"].clone())
        .collect();
    for name in ["server-1", "server-2", "server-3", "client-a", "client-b"] {
        assert!(names.contains(&json!(name)), "{names:?}");
    }
    assert!(nodes.index() > 0);
    assert_eq!(nodes.headers["x-consul-knownleader"], "true");
    assert!(nodes.headers.contains_key("x-consul-lastcontact"));
    let health = get(&client_b.url("/v1/health/service/web?passing")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), json!([]), "web's check is critical");
    let filtered =
        get(&client_b.url("/v1/catalog/service/db?filter=ServicePort%20%3D%3D%205432")).await;
    assert_eq!(
        filtered.json().as_array().unwrap().len(),
        1,
        "{}",
        filtered.body
    );

    // KV, a blocking query parked on one client woken by a write through the other.
    let written = put(&client_a.url("/v1/kv/config/a"), "one").await;
    assert_eq!(written.body, "true");
    let first = get(&client_b.url("/v1/kv/config/a")).await;
    assert_eq!(first.status, 200);
    let index = first.index();
    let url = client_b.url(&format!("/v1/kv/config/a?index={index}&wait=30s"));
    let started = Instant::now();
    let blocked = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !blocked.is_finished(),
        "the blocking query answered at once"
    );
    put(&client_a.url("/v1/kv/config/a"), "two").await;
    let woken = blocked.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(25));
    assert!(woken.index() > index);
    assert_eq!(woken.json()[0]["Value"], "dHdv", "{}", woken.body);

    // The leader registers the client's serfHealth from gossip; sessions made through a
    // client belong to the client's node and its serfHealth; transactions.
    eventually("client-a's serfHealth", Duration::from_secs(20), || async {
        let checks = get(&cluster.agent(1).url("/v1/health/node/client-a")).await;
        checks.body.contains("\"serfHealth\"") && checks.body.contains("passing")
    })
    .await;
    let session = put(
        &client_a.url("/v1/session/create"),
        json!({"Name": "lock"}).to_string(),
    )
    .await
    .json();
    let id = session["ID"].as_str().unwrap().to_string();
    let info = get(&cluster.agent(2).url(&format!("/v1/session/info/{id}")))
        .await
        .json();
    assert_eq!(info[0]["Node"], "client-a", "{info}");
    let acquired = put(&client_b.url(&format!("/v1/kv/locked?acquire={id}")), "x").await;
    assert_eq!(acquired.body, "true");
    let txn = put(
        &client_b.url("/v1/txn"),
        json!([{"KV": {"Verb": "set", "Key": "txn/k", "Value": "dg=="}},
               {"KV": {"Verb": "get", "Key": "config/a"}}])
        .to_string(),
    )
    .await;
    assert_eq!(txn.status, 200, "{}", txn.body);
    assert_eq!(txn.json()["Results"][1]["KV"]["Value"], "dHdv");
    // A refusal comes back as the server's.
    let missing = get(&client_a.url("/v1/session/info/not-a-uuid")).await;
    let on_server = get(&cluster.agent(0).url("/v1/session/info/not-a-uuid")).await;
    assert_eq!(
        (missing.status, missing.body),
        (on_server.status, on_server.body)
    );

    // DNS on a client answers through a server.
    let port = client_a.dns_port;
    let answer = tokio::task::spawn_blocking(move || dig(port, &["db.service.consul", "SRV"]))
        .await
        .unwrap();
    assert_eq!(answer.status, "NOERROR", "{}", answer.raw);
    assert_eq!(
        answer.answers("SRV"),
        ["1 1 5432 client-b.node.dc1.consul."],
        "{}",
        answer.raw
    );
    let port = client_b.dns_port;
    let over_tcp =
        tokio::task::spawn_blocking(move || dig(port, &["+tcp", "client-a.node.consul", "A"]))
            .await
            .unwrap();
    assert_eq!(over_tcp.answers("A"), ["127.0.0.1"], "{}", over_tcp.raw);

    // Deregistering the service behind the client's back: anti-entropy restores it.
    let removed = put(
        &cluster.agent(0).url("/v1/catalog/deregister"),
        json!({"Node": "client-b", "ServiceID": "db"}).to_string(),
    )
    .await;
    assert_eq!(removed.status, 200);
    eventually("db restored by the client", Duration::from_secs(30), || {
        everywhere(&cluster, "db", "client-b")
    })
    .await;

    // A client that dies: gossip marks its serfHealth critical, which ends the sessions
    // bound to it (and releases their locks).
    client_a.kill();
    eventually(
        "client-a's session invalidated",
        Duration::from_secs(60),
        || async {
            let info = get(&cluster.agent(0).url(&format!("/v1/session/info/{id}"))).await;
            info.json() == json!([])
        },
    )
    .await;
    let lock = get(&cluster.agent(1).url("/v1/kv/locked")).await.json();
    assert!(lock[0].get("Session").is_none_or(Value::is_null), "{lock}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_moves_to_another_server_when_its_server_dies_and_keeps_its_services() {
    let mut cluster = TestCluster::start(3, &[]);
    cluster.wait_for_leader(Duration::from_secs(20));
    let data = TempDir::new("client-c");
    let ports = AgentPorts::free();
    // Joined with one server's address: it learns the others from it.
    let mut client = cluster.start_client("client-c", &[0], data.path(), ports, &[]);
    let registered = put(
        &client.url("/v1/agent/service/register"),
        json!({"Name": "api", "ID": "api-1", "Port": 9000}).to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    eventually(
        "the client knows every server",
        Duration::from_secs(40),
        || async {
            let me = get(&client.url("/v1/agent/self")).await.json();
            me["Stats"]["consul"]["known_servers"] == "3"
        },
    )
    .await;

    // Each server killed in turn (so one of them is the client's), restarted before the
    // next: the client keeps answering reads and writes.
    for victim in 0..3 {
        cluster.kill(victim);
        cluster.wait_for_leader(Duration::from_secs(20));
        let read = get(&client.url("/v1/catalog/service/api")).await;
        assert_eq!(read.status, 200, "server {victim} down: {}", read.body);
        assert_eq!(read.json()[0]["Node"], "client-c");
        let key = format!("/v1/kv/while-{victim}-down");
        let written = put(&client.url(&key), "x").await;
        assert_eq!(
            written.status, 200,
            "server {victim} down: {}",
            written.body
        );
        let check = put(
            &client.url("/v1/agent/check/register"),
            json!({"Name": format!("ttl-{victim}"), "TTL": "10m"}).to_string(),
        )
        .await;
        assert_eq!(check.status, 200, "{}", check.body);
        let live = cluster.running()[0];
        eventually(
            "the check on a live server",
            Duration::from_secs(10),
            || async {
                let checks = get(&cluster.agent(live).url("/v1/health/node/client-c")).await;
                checks.body.contains(&format!("ttl-{victim}"))
            },
        )
        .await;
        cluster.restart_and_wait(victim);
    }

    // A restarted client keeps its node ID and its services (its data dir).
    let before = get(&cluster.agent(1).url("/v1/catalog/node/client-c"))
        .await
        .json();
    client.terminate();
    let client = cluster.start_client("client-c", &[0], data.path(), ports, &["-ae-interval=2s"]);
    let services = get(&client.url("/v1/agent/services")).await.json();
    assert_eq!(services["api-1"]["Port"], 9000, "{services}");
    // A client leaves on SIGTERM (Consul's default), so the leader deregistered its
    // node; back, it registers itself and its services again (the deregistration may
    // land after its start-up registration: anti-entropy, every 2 s here, repairs it).
    let catalog_url = cluster.agent(2).url("/v1/catalog/node/client-c");
    eventually(
        "the restarted client's services in the catalog",
        Duration::from_secs(30),
        || async { get(&catalog_url).await.json()["Services"]["api-1"]["Port"] == 9000 },
    )
    .await;
    let after = get(&catalog_url).await.json();
    assert_eq!(after["Node"]["ID"], before["Node"]["ID"]);
}

#[tokio::test]
async fn a_client_that_knows_no_server_says_so() {
    let data = TempDir::new("client-alone");
    let ports = AgentPorts::free();
    let data_dir = format!("-data-dir={}", data.path().display());
    let client = TestAgent::launch(&[], Some("client-alone"), &[&data_dir], ports);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    eventually("the client's own API", Duration::from_secs(30), || async {
        http.get(client.url("/v1/agent/self"))
            .send()
            .await
            .is_ok_and(|answer| answer.status() == 200)
    })
    .await;
    let answer = get(&client.url("/v1/catalog/nodes")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body, "No known Consul servers");
    // Its own endpoints still work: a registration waits for anti-entropy.
    let registered = put(
        &client.url("/v1/agent/service/register"),
        json!({"Name": "early", "Port": 1}).to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let services = call("GET", &client.url("/v1/agent/services"), None)
        .await
        .json();
    assert_eq!(services["early"]["Service"], "early", "{services}");
    let port = client.dns_port;
    let answer = tokio::task::spawn_blocking(move || dig(port, &["early.service.consul"]))
        .await
        .unwrap();
    assert_eq!(answer.status, "SERVFAIL", "{}", answer.raw);
}
