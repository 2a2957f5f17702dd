//! Configuration files: services and checks from HCL and JSON, flags over files,
//! refusal of bad files, `validate`, `reload` and `services register|deregister`.

use std::process::{Command, Output};

use proconsul_tests::{TempDir, TestAgent, binary, expect_refusal, get, write_file as write};
use serde_json::json;

fn cli(agent: &TestAgent, args: &[&str]) -> Output {
    agent.cli(args)
}

#[tokio::test]
async fn services_and_checks_from_hcl_and_json_are_registered() {
    let scratch = TempDir::new("load");
    let dir = scratch.path();
    write(
        dir,
        "a.hcl",
        r#"
datacenter = "dc-from-file"
service {
  name = "web"
  port = 8080
  tags = ["primary"]
  check {
    ttl = "30s"
  }
}
"#,
    );
    write(
        dir,
        "b.json",
        r#"{"services": [{"name": "db", "id": "db-1", "port": 5432}], "check": {"name": "disk", "ttl": "60s"}}"#,
    );
    let agent = TestAgent::start_with(&[
        "-config-dir",
        dir.to_str().unwrap(),
        "-datacenter=dc-from-flag",
    ]);
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["web"]["Port"], 8080);
    assert_eq!(services["web"]["Tags"], json!(["primary"]));
    assert_eq!(services["db-1"]["Service"], "db");
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks["service:web"]["Type"], "ttl");
    assert_eq!(checks["disk"]["Type"], "ttl");
    let me = get(&agent.url("/v1/agent/self")).await.json();
    assert_eq!(
        me["Config"]["Datacenter"], "dc-from-flag",
        "flags override files"
    );
    let rows = get(&agent.url("/v1/catalog/service/web?dc=dc-from-flag"))
        .await
        .json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
}

#[test]
fn a_bad_file_stops_the_agent_with_file_and_key() {
    let scratch = TempDir::new("bad");
    let dir = scratch.path();
    let file = write(dir, "bad.json", r#"{"ports": {"htp": 8500}}"#);
    let stderr = expect_refusal(&[
        "agent",
        "-dev",
        "-http-port=0",
        "-server-port=0",
        "-config-file",
        &file,
    ]);
    assert!(
        stderr.contains("bad.json") && stderr.contains("ports.htp"),
        "{stderr}"
    );

    let script = write(
        dir,
        "script.json",
        r#"{"check": {"name": "s", "args": ["/bin/true"], "interval": "10s"}}"#,
    );
    // Script checks from files need enable_local_script_checks.
    let stderr = expect_refusal(&[
        "agent",
        "-dev",
        "-http-port=0",
        "-server-port=0",
        "-config-file",
        &script,
    ]);
    assert!(stderr.contains("Scripts are disabled"), "{stderr}");
}

#[test]
fn validate_reports_valid_and_invalid_files() {
    let scratch = TempDir::new("validate");
    let dir = scratch.path();
    let good = write(
        dir,
        "good.hcl",
        "node_name = \"n1\"\nservice {\n  name = \"x\"\n}\n",
    );
    let bad = write(dir, "bad.hcl", "node_nam = \"n1\"\n");
    let output = Command::new(binary())
        .args(["validate", &good])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Configuration is valid!\n"
    );
    let output = Command::new(binary())
        .args(["validate", &good, &bad])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.hcl") && stderr.contains("node_nam"),
        "{stderr}"
    );
}

#[tokio::test]
async fn reload_applies_the_files_again_and_leaves_api_registrations_alone() {
    let scratch = TempDir::new("reload");
    let dir = scratch.path();
    let file = write(
        dir,
        "services.json",
        r#"{"services": [{"name": "one"}, {"name": "two"}]}"#,
    );
    let agent = TestAgent::start_with(&["-config-file", &file]);
    proconsul_tests::put(
        &agent.url("/v1/agent/service/register"),
        r#"{"Name": "api-owned"}"#,
    )
    .await;
    write(
        dir,
        "services.json",
        r#"{"services": [{"name": "two", "port": 2}, {"name": "three"}]}"#,
    );
    let output = cli(&agent, &["reload"]);
    assert!(output.status.success(), "{output:?}");
    let services = get(&agent.url("/v1/agent/services")).await.json();
    let mut names: Vec<&String> = services.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["api-owned", "three", "two"]);
    assert_eq!(services["two"]["Port"], 2);
    assert_eq!(
        get(&agent.url("/v1/catalog/service/one")).await.json(),
        json!([])
    );

    write(
        dir,
        "services.json",
        r#"{"services": [{"name": "broken", "port": "x"}]}"#,
    );
    let output = cli(&agent, &["reload"]);
    assert!(!output.status.success());
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(
        services.as_object().unwrap().len(),
        3,
        "a bad reload changes nothing"
    );
}

#[tokio::test]
async fn services_register_and_deregister_from_flags_and_files() {
    let agent = TestAgent::start();
    let output = cli(
        &agent,
        &[
            "services",
            "register",
            "-name=web",
            "-port=80",
            "-tag=a",
            "-tag=b",
            "-meta=team=core",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Registered service: web\n",
        "{output:?}"
    );
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["web"]["Tags"], json!(["a", "b"]));
    assert_eq!(services["web"]["Meta"]["team"], "core");

    let scratch = TempDir::new("services");
    let dir = scratch.path();
    let file = write(
        dir,
        "svc.hcl",
        "service {\n  name = \"cache\"\n  id = \"cache-1\"\n  port = 6379\n}\n",
    );
    let output = cli(&agent, &["services", "register", &file]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json()["cache-1"]["Port"],
        6379
    );

    let output = cli(&agent, &["services", "deregister", &file]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Deregistered service: cache-1\n"
    );
    let output = cli(&agent, &["services", "deregister", "-id=web"]);
    assert!(output.status.success());
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );
    let output = cli(&agent, &["services", "register"]);
    assert!(!output.status.success());
}

/// The file HashiCorp's Go test harness (sdk/testutil v0.18.2) writes and starts
/// `consul agent -config-file FILE` with: Consul keys Proconsul does not implement are
/// accepted with one warning naming them, legacy names are read, `node_id`, `node_meta`
/// and the DNS, HTTP and server ports are honoured, and nothing listens on the others.
/// The server leads at once, and SIGINT stops it within the harness's 10 seconds.
#[tokio::test]
async fn a_consul_test_harness_file_starts_a_leading_server() {
    let scratch = TempDir::new("harness");
    let dir = scratch.path();
    let [dns, http, https, serf_lan, serf_wan, server, grpc, grpc_tls] =
        std::array::from_fn(|_| proconsul_tests::free_port());
    let node_id = "6f0c1e0e-6a55-4f7e-9d43-1d1e5a3c7b1a";
    let config = json!({
        "node_name": "node-harness", "node_id": node_id, "node_meta": {"rack": "r1"},
        "performance": {"raft_multiplier": 1}, "bootstrap": true, "server": true,
        "data_dir": dir.join("data"), "segments": null, "disable_update_check": true,
        "log_level": "debug", "bind_addr": "127.0.0.1", "addresses": {},
        "ports": {"dns": dns, "http": http, "https": https, "serf_lan": serf_lan,
                  "serf_wan": serf_wan, "server": server, "grpc": grpc, "grpc_tls": grpc_tls},
        "acl": {"enabled": false, "tokens": {"master": "root", "agent_master": "towel"}},
        "acl_datacenter": "dc1",
        "connect": {"enabled": true, "ca_config": {"cluster_id": "11111111-2222-3333-4444-555555555555"}},
        "skip_leave_on_interrupt": true, "peering": {"enabled": true}, "version": "1.22.0",
    });
    let file = write(dir, "config.json", &config.to_string());
    let log_path = dir.join("agent.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(binary())
        .args(["agent", "-config-file", &file])
        .arg(format!("-serf-lan-port={}", proconsul_tests::free_port()))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Kill(&mut child);
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    // A leader, and the catalog holding this node, within a few seconds. (reqwest is
    // built without a default TLS provider in the workspace; polling needs a client of
    // its own, as the agent is not listening yet.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = |path: &str| format!("http://127.0.0.1:{http}{path}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let nodes = loop {
        if let Ok(response) = reqwest::get(url("/v1/catalog/nodes")).await
            && response.status() == 200
        {
            let known_leader = response.headers()["x-consul-knownleader"] == "true";
            let index: u64 = response.headers()["x-consul-index"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let nodes: serde_json::Value = response.json().await.unwrap();
            if known_leader && index >= 2 && nodes.as_array().is_some_and(|n| !n.is_empty()) {
                break nodes;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no leader and catalog in time:\n{}",
            read_log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(nodes[0]["ID"], node_id);
    assert_eq!(nodes[0]["Node"], "node-harness");
    assert_eq!(nodes[0]["Meta"]["rack"], "r1");
    let roots = get(&url("/v1/agent/connect/ca/roots")).await.json();
    assert_eq!(
        roots["TrustDomain"],
        "11111111-2222-3333-4444-555555555555.consul"
    );
    assert_eq!(roots["Roots"][0]["ID"], roots["ActiveRootID"]);

    // One warning names every ignored key, legacy names under their modern ones.
    let log_text = read_log();
    let warnings: Vec<&str> = log_text
        .lines()
        .filter(|line| line.contains("config: ignoring keys Proconsul does not implement"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log_text}");
    for key in ["disable_update_check", "peering", "ports.grpc_tls"] {
        assert!(warnings[0].contains(key), "{key} in {}", warnings[0]);
    }
    // The harness's HTTPS port without a certificate does not listen, and says so.
    assert!(
        log_text.contains("ports.https is set but tls cert_file and key_file are not"),
        "{log_text}"
    );
    // The ACL keys are read now (ACLs are off in this file), legacy names included.
    for key in ["acl", "primary_datacenter"] {
        assert!(
            !warnings[0].split(['[', ',', ' ']).any(|word| word == key),
            "{key} in {}",
            warnings[0]
        );
    }

    // DNS is bound to ports.dns and the WAN pool to ports.serf_wan; nothing listens on
    // the ports Proconsul ignores.
    assert!(
        std::net::UdpSocket::bind(("127.0.0.1", dns)).is_err(),
        "DNS is not on ports.dns"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", serf_wan)).is_ok());
    for port in [https, serf_lan, grpc, grpc_tls] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "something listens on {port}"
        );
    }
    assert!(std::net::TcpStream::connect(("127.0.0.1", server)).is_ok());

    // SIGINT: a clean exit well within the harness's 10 s.
    let pid = child.0.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGINT:\n{}",
            read_log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}:\n{}", read_log());
}

#[test]
fn an_unknown_key_is_still_refused_with_file_and_key() {
    let scratch = TempDir::new("unknown");
    let dir = scratch.path();
    // Known-but-ignored keys beside it do not hide it.
    let file = write(
        dir,
        "mixed.json",
        r#"{"connect": {"enabled": true}, "peering": {"enabled": true}, "acl": {}, "not_a_consul_key": 1}"#,
    );
    let stderr = expect_refusal(&[
        "agent",
        "-dev",
        "-http-port=0",
        "-server-port=0",
        "-config-file",
        &file,
    ]);
    assert!(
        stderr.contains("mixed.json") && stderr.contains("not_a_consul_key"),
        "{stderr}"
    );
}

/// `addresses.http = "unix:///path"`: the HTTP API listens on that Unix socket (and not on
/// TCP); a stale socket file is replaced, and the socket is removed on shutdown.
#[tokio::test]
async fn the_http_api_on_a_unix_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let scratch = TempDir::new("unix");
    let dir = scratch.path();
    let socket = dir.join("http.sock");
    // A stale socket from an earlier run.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let http = proconsul_tests::free_port();
    let config = json!({
        "node_name": "node-unix", "server": true, "bootstrap": true,
        "data_dir": dir.join("data"), "bind_addr": "127.0.0.1",
        "performance": {"raft_multiplier": 1},
        "addresses": {"http": format!("unix://{}", socket.display())},
        "ports": {"http": http, "dns": -1, "server": proconsul_tests::free_port()},
    });
    let file = write(dir, "config.json", &config.to_string());
    let log_path = dir.join("agent.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(binary())
        .args(["agent", "-config-file", &file])
        .arg(format!("-serf-lan-port={}", proconsul_tests::free_port()))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        if let Ok(mut stream) = tokio::net::UnixStream::connect(&socket).await {
            stream
                .write_all(b"GET /v1/agent/self HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            break answer;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("no HTTP on the socket:\n{}", read_log());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"NodeName\":\"node-unix\""), "{answer}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", http)).is_err(),
        "the HTTP API also listens on TCP"
    );
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}:\n{}", read_log());
    assert!(!socket.exists(), "the socket outlived the agent");
}
