//! Server RPC over mutual TLS, in real clusters of three servers whose certificates are
//! made by `proconsul tls` as the README says:
//! - HTTPS only, `verify_incoming`, `verify_outgoing` and `verify_server_hostname`: the
//!   cluster forms, forwards and replicates; every stranger on the server port is
//!   refused and logged with its address (plaintext, no certificate, another CA, an
//!   expired certificate; a client certificate and another datacenter's server may
//!   make client agents' calls only, and their server-only calls are refused); the
//!   servers' certificates are rotated by `reload` while the cluster serves;
//! - a plaintext cluster rolled to mutual TLS one restart at a time, through Consul's
//!   stages (certificates, then `verify_outgoing`, then `verify_incoming` and
//!   `verify_server_hostname`), taking writes at every step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proconsul_tests::pki::Pki;
use proconsul_tests::{AgentPorts, TempDir, TestAgent, binary, free_port};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A scratch directory where `proconsul tls` writes Consul's file names.
struct Certs {
    dir: TempDir,
}

impl Certs {
    /// A CA (`consul-agent-ca.pem`) and nothing else yet.
    fn new(tag: &str) -> Certs {
        let certs = Certs {
            dir: TempDir::new(tag),
        };
        certs.tls(&["ca", "create"]);
        certs
    }

    fn tls(&self, args: &[&str]) {
        let output = Command::new(binary())
            .arg("tls")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("cannot run proconsul tls");
        assert!(output.status.success(), "tls {args:?}: {output:?}");
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    fn ca(&self) -> PathBuf {
        self.path("consul-agent-ca.pem")
    }

    /// `proconsul tls cert create <kind> -dc <dc>`; returns the (cert, key) it wrote.
    fn create(&self, kind: &str, dc: &str, number: usize) -> (PathBuf, PathBuf) {
        self.tls(&["cert", "create", kind, "-dc", dc]);
        let kind = kind.trim_start_matches('-');
        (
            self.path(&format!("{dc}-{kind}-consul-{number}.pem")),
            self.path(&format!("{dc}-{kind}-consul-{number}-key.pem")),
        )
    }
}

/// A client configuration trusting `ca` (whatever name the server's certificate
/// carries), presenting `identity` if given, even an expired one.
fn client_config(ca: &Path, identity: Option<&(PathBuf, PathBuf)>) -> rustls::ClientConfig {
    use proconsul_tls::files;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = proconsul_tls::verify::CaOnly {
        roots: Arc::new(files::roots(Some(ca), None).unwrap()),
        provider: provider.clone(),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                files::certificates(cert).unwrap(),
                files::private_key(key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

fn https_client(ca: &Path, identity: &(PathBuf, PathBuf)) -> reqwest::Client {
    let mut config = client_config(ca, Some(identity));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .unwrap()
}

/// How the test reaches each server's HTTP API.
#[derive(Clone)]
enum Api {
    /// Plain HTTP on the port the harness picked.
    Http,
    /// HTTPS only, with this client (CA and client certificate).
    Https(reqwest::Client),
}

/// One server: its fixed ports, data dir and configuration file, and its process.
struct Server {
    name: String,
    ports: AgentPorts,
    https_port: u16,
    data: TempDir,
    config_file: PathBuf,
    agent: Option<TestAgent>,
}

/// Three servers started with `-bootstrap-expect=3`, each told the others' server RPC
/// addresses, each with its own configuration file (rewritten by the tests).
struct Cluster {
    servers: Vec<Server>,
    api: Api,
    _configs: TempDir,
}

impl Cluster {
    /// Writes `config(i, https_port)` for each server and starts them.
    async fn start(api: Api, config: impl Fn(usize, u16) -> Value) -> Cluster {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let configs = TempDir::new("rpc-tls-config");
        let servers = (0..3)
            .map(|i| {
                let https_port = free_port();
                let config_file = configs.path().join(format!("server-{i}.json"));
                std::fs::write(&config_file, config(i, https_port).to_string()).unwrap();
                Server {
                    name: format!("server-{i}"),
                    ports: AgentPorts::free(),
                    https_port,
                    data: TempDir::new("rpc-tls-data"),
                    config_file,
                    agent: None,
                }
            })
            .collect();
        let mut cluster = Cluster {
            servers,
            api,
            _configs: configs,
        };
        for i in 0..3 {
            cluster.launch(i);
        }
        cluster.wait_for_leader().await;
        cluster
    }

    fn launch(&mut self, i: usize) {
        let mut args = vec![
            "-server".to_string(),
            "-bootstrap-expect=3".to_string(),
            format!("-data-dir={}", self.servers[i].data.path().display()),
            "-raft-multiplier=1".to_string(),
            "-retry-interval=200ms".to_string(),
        ];
        for (j, other) in self.servers.iter().enumerate() {
            if j != i {
                args.push(format!("-retry-join=127.0.0.1:{}", other.ports.server));
            }
        }
        let server = &self.servers[i];
        let config = server.config_file.display().to_string();
        let mut extra = vec!["-config-file", &config, "-dns-port=-1"];
        if matches!(self.api, Api::Https(_)) {
            extra.push("-http-port=-1");
        }
        let mode: Vec<&str> = args.iter().map(String::as_str).collect();
        let agent = TestAgent::launch(&mode, Some(&server.name), &extra, server.ports);
        self.servers[i].agent = Some(agent);
    }

    /// Rewrites server `i`'s configuration and restarts it (a clean leave is not wanted:
    /// it must come back as the same voter).
    async fn restart_with(&mut self, i: usize, config: Value) {
        if let Some(mut agent) = self.servers[i].agent.take() {
            agent.kill();
        }
        std::fs::write(&self.servers[i].config_file, config.to_string()).unwrap();
        self.launch(i);
        self.wait_for_leader().await;
    }

    fn url(&self, i: usize, path: &str) -> String {
        let server = &self.servers[i];
        match self.api {
            Api::Http => format!("http://127.0.0.1:{}{path}", server.ports.http),
            Api::Https(_) => format!("https://127.0.0.1:{}{path}", server.https_port),
        }
    }

    fn client(&self) -> reqwest::Client {
        match &self.api {
            Api::Http => reqwest::Client::new(),
            Api::Https(client) => client.clone(),
        }
    }

    fn log(&self, i: usize) -> String {
        self.servers[i]
            .agent
            .as_ref()
            .map(TestAgent::log)
            .unwrap_or_default()
    }

    fn logs(&self) -> String {
        (0..3)
            .map(|i| format!("--- server-{i}\n{}", self.log(i)))
            .collect()
    }

    fn rpc_addr(&self, i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.servers[i].ports.server))
    }

    /// Waits until every server names the same leader and has a commit from it.
    async fn wait_for_leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut leaders = Vec::new();
            for i in 0..3 {
                let answer = self
                    .client()
                    .get(self.url(i, "/v1/status/leader"))
                    .send()
                    .await;
                if let Ok(answer) = answer
                    && let Ok(text) = answer.text().await
                {
                    leaders.push(text);
                }
            }
            if leaders.len() == 3
                && leaders[0].contains(':')
                && leaders.iter().all(|l| *l == leaders[0])
            {
                let leader: String = serde_json::from_str(&leaders[0]).unwrap();
                let port: u16 = leader.rsplit(':').next().unwrap().parse().unwrap();
                return self
                    .servers
                    .iter()
                    .position(|server| server.ports.server == port)
                    .unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "no agreed leader: {leaders:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Writes `key = value` through server `via` and reads it back, consistently, from
    /// every server.
    async fn write_and_read_everywhere(&self, via: usize, key: &str, value: &str) {
        let put = self
            .client()
            .put(self.url(via, &format!("/v1/kv/{key}")))
            .body(value.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "{}", self.logs());
        assert_eq!(put.text().await.unwrap(), "true");
        for i in 0..3 {
            let url = self.url(i, &format!("/v1/kv/{key}?raw&consistent"));
            let got = self.client().get(url).send().await.unwrap();
            assert_eq!(got.status(), 200, "server-{i}: {}", self.logs());
            assert_eq!(got.text().await.unwrap(), value, "server-{i}");
        }
    }

    /// Waits until server `i` has logged a line with all of `parts`.
    async fn wait_for_log(&self, i: usize, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = self
                .log(i)
                .lines()
                .find(|line| parts.iter().all(|part| line.contains(part)))
            {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {parts:?}:\n{}",
                self.log(i)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A read-index call (`ReadIndexRequest { consistent: false }` is one zero byte).
const READ_INDEX: &[u8] =
    b"POST /cluster/read-index HTTP/1.1\r\nhost: rpc\r\ncontent-length: 1\r\nconnection: close\r\n\r\n\0";

/// Calls server RPC at `addr` as a stranger would: over TLS with `tls`, or in plaintext.
/// Returns the local address it called from and whatever the server answered (empty
/// when the connection was refused, in the handshake or after it).
async fn stranger_call(
    addr: SocketAddr,
    tls: Option<rustls::ClientConfig>,
) -> (SocketAddr, Vec<u8>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    let mut answer = Vec::new();
    match tls {
        None => {
            let mut stream = stream;
            let _ = stream.write_all(READ_INDEX).await;
            let _ = stream.read_to_end(&mut answer).await;
        }
        Some(config) => {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls::pki_types::ServerName::try_from("server.dc1.consul").unwrap();
            if let Ok(mut stream) = connector.connect(name, stream).await {
                let _ = stream.write_all(READ_INDEX).await;
                let _ = stream.read_to_end(&mut answer).await;
            }
        }
    }
    (local, answer)
}

fn https_only_mutual_tls(certs: &Certs, server: &(PathBuf, PathBuf), https_port: u16) -> Value {
    json!({
        "ports": {"https": https_port},
        "tls": {
            "defaults": {
                "ca_file": certs.ca(), "cert_file": server.0, "key_file": server.1,
                "verify_incoming": true, "verify_outgoing": true,
            },
            "internal_rpc": {"verify_server_hostname": true},
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_on_mutual_tls_serves_its_own_and_refuses_strangers() {
    let certs = Certs::new("rpc-tls");
    // Each server's files are copies that rotation overwrites.
    let files = TempDir::new("rpc-tls-files");
    let server_files: Vec<(PathBuf, PathBuf)> = (0..3)
        .map(|i| {
            let (cert, key) = certs.create("-server", "dc1", i);
            let copy = (
                files.path().join(format!("server-{i}.pem")),
                files.path().join(format!("server-{i}-key.pem")),
            );
            std::fs::copy(cert, &copy.0).unwrap();
            std::fs::copy(key, &copy.1).unwrap();
            copy
        })
        .collect();
    let cli_identity = certs.create("-client", "dc1", 0);
    let api = Api::Https(https_client(&certs.ca(), &cli_identity));
    let cluster = Cluster::start(api, |i, port| {
        https_only_mutual_tls(&certs, &server_files[i], port)
    })
    .await;

    // The cluster forms over TLS, forwards a follower's write and replicates it.
    let leader = cluster.wait_for_leader().await;
    let follower = (leader + 1) % 3;
    cluster
        .write_and_read_everywhere(follower, "tls/formed", "yes")
        .await;
    let configuration: Value = cluster
        .client()
        .get(cluster.url(leader, "/v1/operator/raft/configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let voters = configuration["Servers"].as_array().unwrap();
    assert_eq!(voters.len(), 3, "{configuration}");
    assert!(voters.iter().all(|server| server["Voter"] == true));
    // The plain HTTP API is off.
    let plain = reqwest::get(format!(
        "http://127.0.0.1:{}/v1/status/leader",
        cluster.servers[0].ports.http
    ))
    .await;
    assert!(plain.is_err(), "{plain:?}");

    // A server's own certificate is served (the control for the refusals below).
    let target = cluster.rpc_addr(follower);
    let server_identity = certs.create("-server", "dc1", 3);
    let (_, answer) = stranger_call(
        target,
        Some(client_config(&certs.ca(), Some(&server_identity))),
    )
    .await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // Strangers: each call gets nothing back, and the refusal names its address.
    let other = Certs::new("rpc-tls-other");
    let other_ca_server = other.create("-server", "dc1", 0);
    let dc2_server = certs.create("-server", "dc2", 0);
    let same_ca = Pki::adopt(
        "rpc-tls",
        &certs.ca(),
        &certs.path("consul-agent-ca-key.pem"),
    );
    let expired = same_ca.expired_client("expired");
    let cases: Vec<(&str, Option<rustls::ClientConfig>, &str)> = vec![
        ("plaintext", None, "refused a plaintext connection"),
        (
            "no certificate",
            Some(client_config(&certs.ca(), None)),
            "TLS handshake refused",
        ),
        (
            "another CA",
            Some(client_config(&certs.ca(), Some(&other_ca_server))),
            "TLS handshake refused",
        ),
        (
            "expired",
            Some(client_config(&certs.ca(), Some(&expired))),
            "TLS handshake refused",
        ),
        (
            "a client certificate",
            Some(client_config(&certs.ca(), Some(&cli_identity))),
            "not a server's",
        ),
        (
            "another datacenter's server",
            Some(client_config(&certs.ca(), Some(&dc2_server))),
            "not a server's",
        ),
    ];
    for (case, tls, reason) in cases {
        let (local, answer) = stranger_call(target, tls).await;
        // A CA-signed certificate that is not a server's is a client agent's: its
        // connection is taken for client agents' calls, and a server-only call refused.
        if reason == "not a server's" {
            assert!(
                answer.starts_with(b"HTTP/1.1 403"),
                "{case}: answered {}",
                String::from_utf8_lossy(&answer)
            );
        } else {
            assert!(
                answer.is_empty(),
                "{case}: answered {}",
                String::from_utf8_lossy(&answer)
            );
        }
        let line = cluster
            .wait_for_log(follower, &["server RPC", reason, &format!("peer={local}")])
            .await;
        match case {
            "expired" => assert!(line.to_lowercase().contains("expired"), "{line}"),
            "another CA" => assert!(line.contains("UnknownIssuer"), "{line}"),
            _ => {}
        }
    }
    // and the cluster never noticed.
    cluster
        .write_and_read_everywhere(leader, "tls/after-strangers", "still")
        .await;

    // Rotation under load: a client keeps writing through a follower (forwarded to the
    // leader over server RPC) while new certificates replace the old files and each
    // server is told to `reload`; no write may fail.
    let leader = cluster.wait_for_leader().await;
    let writing = Arc::new(AtomicBool::new(true));
    let writer = tokio::spawn(write_until_stopped(
        cluster.client(),
        cluster.url((leader + 1) % 3, "/v1/kv/tls/load-"),
        writing.clone(),
    ));
    let mut rotated = Vec::new();
    for (i, files) in server_files.iter().enumerate() {
        let (cert, key) = certs.create("-server", "dc1", 4 + i);
        std::fs::copy(&cert, &files.0).unwrap();
        std::fs::copy(&key, &files.1).unwrap();
        rotated.push(cert);
        let mut reload = tokio::process::Command::new(binary());
        reload
            .args(["reload", "-http-addr"])
            .arg(format!(
                "https://127.0.0.1:{}",
                cluster.servers[i].https_port
            ))
            .arg("-ca-file")
            .arg(certs.ca())
            .arg("-client-cert")
            .arg(&cli_identity.0)
            .arg("-client-key")
            .arg(&cli_identity.1);
        let reload = reload.output().await.unwrap();
        assert!(reload.status.success(), "{reload:?}");
        cluster
            .wait_for_log(i, &["server RPC: TLS settings reloaded"])
            .await;
    }
    writing.store(false, Ordering::Relaxed);
    let (written, failed) = writer.await.unwrap();
    assert!(
        failed.is_empty(),
        "writes failed during rotation: {failed:?}"
    );
    assert!(written > 0);
    for (i, cert) in rotated.iter().enumerate() {
        let served = served_certificate(cluster.rpc_addr(i), &certs.ca(), &server_identity).await;
        assert_eq!(
            served,
            der(cert),
            "server-{i} still serves its old certificate"
        );
    }
    let leader = cluster.wait_for_leader().await;
    cluster
        .write_and_read_everywhere((leader + 2) % 3, "tls/rotated", "new")
        .await;
}

/// PUTs `<prefix><n>` for n = 1, 2, ... until `writing` turns false; returns how many
/// were acknowledged and what went wrong with the others.
async fn write_until_stopped(
    client: reqwest::Client,
    prefix: String,
    writing: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let (mut written, mut failed) = (0, Vec::new());
    while writing.load(Ordering::Relaxed) {
        let url = format!("{prefix}{written}-{}", failed.len());
        match client.put(url).body("x").send().await {
            Ok(answer) if answer.status() == 200 => written += 1,
            Ok(answer) => failed.push(format!("{}: {:?}", answer.status(), answer.text().await)),
            Err(error) => failed.push(error.to_string()),
        }
    }
    (written, failed)
}

/// The certificate server RPC at `addr` presents to a new connection.
async fn served_certificate(addr: SocketAddr, ca: &Path, identity: &(PathBuf, PathBuf)) -> Vec<u8> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(ca, Some(identity))));
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("server.dc1.consul").unwrap();
    let stream = connector.connect(name, stream).await.unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn der(file: &Path) -> Vec<u8> {
    let pem = std::fs::read(file).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    pem.contents
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_cluster_rolls_to_mutual_tls_one_server_at_a_time() {
    let certs = Certs::new("rpc-tls-roll");
    let server_files: Vec<(PathBuf, PathBuf)> =
        (0..3).map(|i| certs.create("-server", "dc1", i)).collect();
    let mut cluster = Cluster::start(Api::Http, |_, _| json!({})).await;
    cluster
        .write_and_read_everywhere(0, "roll/plaintext", "0")
        .await;
    let rpc = |i: usize, stage: &Value| -> Value {
        let mut defaults = json!({
            "ca_file": certs.ca(), "cert_file": server_files[i].0, "key_file": server_files[i].1,
        });
        for (key, value) in stage.as_object().unwrap() {
            defaults[key] = value.clone();
        }
        json!({"tls": {"internal_rpc": defaults}})
    };
    // Consul's stages: certificates (both ways accepted), then `verify_outgoing`, then
    // `verify_incoming` with `verify_server_hostname`.
    let stages = [
        json!({}),
        json!({"verify_outgoing": true}),
        json!({"verify_outgoing": true, "verify_incoming": true, "verify_server_hostname": true}),
    ];
    for (step, stage) in stages.iter().enumerate() {
        for i in 0..3 {
            cluster.restart_with(i, rpc(i, stage)).await;
            let key = format!("roll/stage-{step}/server-{i}");
            cluster
                .write_and_read_everywhere((i + 1) % 3, &key, "ok")
                .await;
        }
    }
    // At the last stage plaintext is refused, and said so.
    let (local, answer) = stranger_call(cluster.rpc_addr(1), None).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    cluster
        .wait_for_log(
            1,
            &["refused a plaintext connection", &format!("peer={local}")],
        )
        .await;
}

#[test]
fn bad_server_rpc_tls_settings_stop_the_agent_naming_the_problem() {
    let certs = Certs::new("rpc-tls-bad");
    let (cert, key) = certs.create("-server", "dc1", 0);
    let missing = certs.path("missing.pem");
    let cases = [
        (
            json!({"tls": {"internal_rpc": {"ca_file": certs.ca(), "cert_file": missing, "key_file": key}}}),
            missing.display().to_string(),
        ),
        (
            // the CA's key is not this certificate's
            json!({"tls": {"internal_rpc": {"ca_file": certs.ca(), "cert_file": cert,
                                             "key_file": certs.path("consul-agent-ca-key.pem")}}}),
            "does not match".to_string(),
        ),
        (
            json!({"tls": {"internal_rpc": {"verify_incoming": true, "ca_file": certs.ca()}}}),
            "verify_incoming needs cert_file".to_string(),
        ),
    ];
    for (i, (config, expected)) in cases.into_iter().enumerate() {
        let file = certs.path(&format!("bad-{i}.json"));
        std::fs::write(&file, config.to_string()).unwrap();
        let data = TempDir::new("rpc-tls-bad-data");
        let stderr = proconsul_tests::expect_refusal(&[
            "agent",
            "-server",
            "-bootstrap",
            &format!("-data-dir={}", data.path().display()),
            &format!("-http-port={}", free_port()),
            &format!("-server-port={}", free_port()),
            "-dns-port=-1",
            "-config-file",
            file.to_str().unwrap(),
        ]);
        assert!(stderr.contains(&expected), "{config}: {stderr}");
    }
}
