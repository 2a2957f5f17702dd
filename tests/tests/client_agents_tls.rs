//! A client agent on a cluster whose server RPC is mutual TLS with
//! `verify_server_hostname`: servers hold `server.dc1.consul` certificates, the client a
//! client certificate (`client.dc1.consul`). The client checks that it talks to a
//! server; the servers take its calls (forwarded requests, its catalog writes) but keep
//! Raft and cluster calls to peers holding the server name.

use std::time::Duration;

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::pki::Pki;
use proconsul_tests::{AgentPorts, TempDir, eventually, get, put, write_file};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_a_client_certificate_works_under_verify_server_hostname() {
    let pki = Pki::new("client-tls");
    let (server_cert, server_key) = pki.server("server");
    let (client_cert, client_key) = pki.client("client");
    let tls = |cert: &std::path::Path, key: &std::path::Path| {
        json!({"tls": {
            "defaults": {"ca_file": pki.ca_file(), "cert_file": cert, "key_file": key,
                         "verify_incoming": true, "verify_outgoing": true},
            "internal_rpc": {"verify_server_hostname": true},
        }})
        .to_string()
    };
    let server_config = write_file(pki.dir(), "server.json", &tls(&server_cert, &server_key));
    let client_config = write_file(pki.dir(), "client.json", &tls(&client_cert, &client_key));
    let cluster = TestCluster::start(3, &["-config-file", &server_config]);
    cluster.wait_for_leader(Duration::from_secs(30));
    let data = TempDir::new("client-tls");
    let client = cluster.start_client(
        "client-1",
        &[0],
        data.path(),
        AgentPorts::free(),
        &["-config-file", &client_config],
    );

    // A forwarded write and read, and the client's own registration in the catalog.
    let written = put(&client.url("/v1/kv/tls/key"), "v").await;
    assert_eq!(written.status, 200, "{}\n{}", written.body, client.log());
    let read = get(&client.url("/v1/kv/tls/key?raw")).await;
    assert_eq!(read.body, "v");
    let registered = put(
        &client.url("/v1/agent/service/register"),
        json!({"Name": "web", "Port": 80}).to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    eventually(
        "web on client-1 in a server's catalog",
        Duration::from_secs(30),
        || async {
            let rows: Vec<Value> = serde_json::from_str(
                &get(&cluster.agent(1).url("/v1/catalog/service/web"))
                    .await
                    .body,
            )
            .unwrap_or_default();
            rows.iter().any(|row| row["Node"] == "client-1")
        },
    )
    .await;
}
